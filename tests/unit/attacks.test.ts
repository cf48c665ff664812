import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTACKS, DEFAULT_ATTACK_SCALE, applyAttack, gaussianNoise, isHostile, scaleDelta, signflip } from '../../workers/attacks';
import { mulberry32 } from '../../workers/ml/random';

const delta = Float32Array.from([0.5, -0.25, 0, 2, -1e-3]);

describe('attacks', () => {
  test('signflip sends −S·delta and leaves the input alone', () => {
    const before = delta.slice();
    const out = signflip(delta, 10);
    assert.deepEqual([...out], [...delta].map((v) => Math.fround(-10 * v)));
    assert.deepEqual(delta, before);
    assert.notEqual(out, delta);
  });

  test('scale sends S·delta', () => {
    assert.deepEqual([...scaleDelta(delta, 3)], [...delta].map((v) => Math.fround(3 * v)));
    assert.deepEqual([...scaleDelta(delta, 1)], [...delta]);
  });

  test('noise is N(0, σ²) of the delta length, reproducible from the seed, independent of the delta', () => {
    const a = gaussianNoise(20_000, 2, mulberry32(7));
    const b = gaussianNoise(20_000, 2, mulberry32(7));
    const c = gaussianNoise(20_000, 2, mulberry32(8));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    assert.ok(Math.abs(mean) < 0.05, `mean ${mean}`);
    assert.ok(Math.abs(std - 2) < 0.05, `std ${std}`);
    assert.ok(a.every(Number.isFinite));
    const viaApply = applyAttack('noise', new Float32Array(20_000).fill(123), 2, mulberry32(7));
    assert.deepEqual(viaApply, a);
  });

  test('applyAttack dispatches every kind and keeps the length', () => {
    for (const kind of ATTACKS) {
      const out = applyAttack(kind, delta, DEFAULT_ATTACK_SCALE, mulberry32(1));
      assert.equal(out.length, delta.length, kind);
      assert.ok(out.every(Number.isFinite), kind);
    }
    assert.deepEqual(applyAttack('signflip', delta, 2, mulberry32(1)), signflip(delta, 2));
    assert.deepEqual(applyAttack('scale', delta, 2, mulberry32(1)), scaleDelta(delta, 2));
    assert.equal(applyAttack('scale', new Float32Array(0), 2, mulberry32(1)).length, 0);
  });

  test('the hostile clients are the last K of N', () => {
    const hostile = (count: number, k: number) => [...Array(count).keys()].map((i) => i + 1).filter((i) => isHostile(i, count, k));
    assert.deepEqual(hostile(10, 3), [8, 9, 10]);
    assert.deepEqual(hostile(3, 3), [1, 2, 3]);
    assert.deepEqual(hostile(3, 0), []);
    assert.deepEqual(hostile(1, 1), [1]);
  });
});
