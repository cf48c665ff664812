import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WeightedMeanAccumulator, applyDelta } from '../../../workers/ml/aggregate';
import { mulberry32, permutation } from '../../../workers/ml/random';

const f32 = (...v: number[]) => new Float32Array(v);

describe('WeightedMeanAccumulator', () => {
  it('computes the sample-weighted mean', () => {
    const acc = new WeightedMeanAccumulator(2);
    acc.add(f32(1, 2), 1);
    acc.add(f32(3, 4), 3);
    assert.equal(acc.count, 2);
    assert.equal(acc.totalWeight, 4);
    assert.deepEqual(acc.finalize(), f32(2.5, 3.5));
  });

  it('equal inputs give that input back', () => {
    const acc = new WeightedMeanAccumulator(3);
    const u = f32(0.1, -0.7, 1e-5);
    for (const w of [160, 160, 159, 161]) acc.add(u, w);
    assert.deepEqual(acc.finalize(), u);
  });

  it('is invariant to arrival order (bit-exact, thanks to float64 accumulation)', () => {
    const rng = mulberry32(11);
    const size = 500;
    const updates = Array.from({ length: 40 }, () => Float32Array.from({ length: size }, () => (rng() - 0.5) * 10 ** Math.floor(rng() * 6 - 3)));
    const weights = updates.map(() => 1 + Math.floor(rng() * 400));
    const meanInOrder = (order: ArrayLike<number>) => {
      const acc = new WeightedMeanAccumulator(size);
      for (let k = 0; k < order.length; k++) acc.add(updates[order[k]!]!, weights[order[k]!]!);
      return acc.finalize();
    };
    const reference = meanInOrder(Array.from({ length: 40 }, (_, i) => i));
    for (let s = 0; s < 5; s++) assert.deepEqual(meanInOrder(permutation(40, mulberry32(100 + s))), reference);
  });

  it('counts weight-0 updates without moving the mean; all-zero weight gives a zero delta', () => {
    const acc = new WeightedMeanAccumulator(2);
    acc.add(f32(9, 9), 0);
    assert.deepEqual(acc.finalize(), f32(0, 0));
    acc.add(f32(1, -1), 5);
    assert.equal(acc.count, 2);
    assert.deepEqual(acc.finalize(), f32(1, -1));
  });

  it('rejects a wrong length or a bad weight', () => {
    const acc = new WeightedMeanAccumulator(2);
    assert.throws(() => acc.add(f32(1), 1), /expected 2/);
    assert.throws(() => acc.add(f32(1, 2), -1), /weight/);
    assert.throws(() => acc.add(f32(1, 2), Number.NaN), /weight/);
  });
});

describe('applyDelta', () => {
  it('adds into a new buffer and leaves its inputs alone', () => {
    const g = f32(1, 2, 3);
    const d = f32(0.5, -2, 0);
    const out = applyDelta(g, d);
    assert.deepEqual(out, f32(1.5, 0, 3));
    assert.deepEqual(g, f32(1, 2, 3));
    assert.notEqual(out, g);
    assert.throws(() => applyDelta(g, f32(1)), /Delta has 1 values/);
  });
});
