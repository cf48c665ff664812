import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SPEC, type DatasetSpec } from '../../../server/protocol/spec';
import { datasetSplit, featurize, generateDataset, shardIndices, splitDataset } from '../../../workers/ml/datasets';
import { gaussian, mulberry32, permutation } from '../../../workers/ml/random';

const base: DatasetSpec = DEFAULT_SPEC.dataset;
const NAMES = ['spiral', 'circle', 'xor'] as const;

describe('random', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const sa = Array.from({ length: 5 }, a);
    assert.deepEqual(sa, Array.from({ length: 5 }, b));
    assert.notDeepEqual(sa, Array.from({ length: 5 }, c));
    assert.ok(sa.every((v) => v >= 0 && v < 1));
  });

  it('gaussian has mean ≈ 0 and variance ≈ 1', () => {
    const rng = mulberry32(1);
    const xs = Array.from({ length: 20_000 }, () => gaussian(rng));
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    const variance = xs.reduce((s, v) => s + (v - mean) ** 2, 0) / xs.length;
    assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
  });

  it('permutation contains every index once', () => {
    const p = permutation(100, mulberry32(3));
    assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
  });
});

describe('generateDataset', () => {
  for (const name of NAMES) {
    it(`${name}: same seed → identical data, other seed → different`, () => {
      const spec = { ...base, name };
      const a = generateDataset(spec);
      const b = generateDataset(spec);
      assert.deepEqual(a, b);
      assert.equal(a.x.length, spec.samples * 2);
      assert.equal(a.y.length, spec.samples);
      assert.notDeepEqual(generateDataset({ ...spec, seed: spec.seed + 1 }).x, a.x);
    });

    it(`${name}: labels are 0/1, roughly balanced, points within the domain`, () => {
      const data = generateDataset({ ...base, name, noise: 0.2 });
      assert.ok(data.y.every((v) => v === 0 || v === 1));
      const positives = data.y.reduce((s, v) => s + v, 0) / data.y.length;
      assert.ok(positives > 0.4 && positives < 0.6, `${name} positive share ${positives}`);
      assert.ok(data.x.every((v) => Number.isFinite(v) && Math.abs(v) <= 6), 'points within [-6, 6]');
    });
  }

  it('gauss: two balanced blobs around (2, 2) → 1 and (−2, −2) → 0, wider with noise', () => {
    const tight = generateDataset({ ...base, name: 'gauss', samples: 2000, noise: 0 });
    const wide = generateDataset({ ...base, name: 'gauss', samples: 2000, noise: 0.5 });
    assert.equal(tight.y.reduce((s, v) => s + v, 0), 1000);
    const spread = (d: typeof tight) => {
      let sum = 0;
      for (let k = 0; k < d.y.length; k++) {
        const c = d.y[k] === 1 ? 2 : -2;
        sum += (d.x[2 * k]! - c) ** 2 + (d.x[2 * k + 1]! - c) ** 2;
      }
      return sum / (2 * d.y.length); // per-coordinate variance around the centres
    };
    assert.ok(Math.abs(spread(tight) - 0.5) < 0.08, `variance ${spread(tight)} ≈ 0.5`);
    assert.ok(Math.abs(spread(wide) - 4) < 0.5, `variance ${spread(wide)} ≈ 4`);
  });

  it('sign (integers): the 21 integers −10..10 on the x axis, labelled x > 0, whatever `samples` says', () => {
    const data = generateDataset({ ...base, name: 'sign', points: 'integers', samples: 500, noise: 0 });
    assert.deepEqual([...data.x.filter((_, i) => i % 2 === 0)], Array.from({ length: 21 }, (_, i) => i - 10));
    assert.ok(data.x.filter((_, i) => i % 2 === 1).every((v) => v === 0));
    assert.deepEqual([...data.y], Array.from({ length: 21 }, (_, i) => (i - 10 > 0 ? 1 : 0)));
  });

  it('sign (reals): `samples` reals in [−10, 10], labelled x > 0 without noise', () => {
    const data = generateDataset({ ...base, name: 'sign', points: 'reals', samples: 300, noise: 0 });
    assert.equal(data.y.length, 300);
    for (let k = 0; k < 300; k++) {
      const v = data.x[2 * k]!;
      assert.ok(v >= -10 && v <= 10);
      assert.equal(data.y[k], v > 0 ? 1 : 0);
    }
  });

  it('spiral and noise-free circle are exactly balanced', () => {
    for (const name of ['spiral', 'circle'] as const) {
      const data = generateDataset({ ...base, name, samples: 500, noise: 0 });
      assert.equal(data.y.reduce((s, v) => s + v, 0), 250, name);
    }
  });
});

describe('splitDataset / shardIndices', () => {
  it('splits by trainRatio, deterministically, keeping every point exactly once', () => {
    const data = generateDataset(base);
    const a = splitDataset(data, 0.8, 42);
    assert.equal(a.train.y.length, 640);
    assert.equal(a.test.y.length, 160);
    assert.deepEqual(splitDataset(data, 0.8, 42), a);
    assert.notDeepEqual(splitDataset(data, 0.8, 43).train.x, a.train.x);
    const key = (x: Float32Array, i: number) => `${x[2 * i]},${x[2 * i + 1]}`;
    const all = new Set(Array.from({ length: 800 }, (_, i) => key(data.x, i)));
    const seen = [...Array.from({ length: 640 }, (_, i) => key(a.train.x, i)), ...Array.from({ length: 160 }, (_, i) => key(a.test.x, i))];
    assert.equal(new Set(seen).size, 800);
    assert.ok(seen.every((k) => all.has(k)));
  });

  it('shards partition the training split exactly', () => {
    for (const parts of [1, 2, 3, 4, 7]) {
      const seen = new Uint8Array(640);
      const sizes: number[] = [];
      for (let part = 0; part < parts; part++) {
        const idx = shardIndices(640, part, parts);
        sizes.push(idx.length);
        for (const i of idx) {
          assert.equal(i % parts, part);
          seen[i]! += 1;
        }
      }
      assert.ok(seen.every((c) => c === 1), `parts=${parts}: every index exactly once`);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
    }
  });

  it('gives empty shards when there are more parts than points, and rejects bad shards', () => {
    assert.equal(shardIndices(3, 5, 8).length, 0);
    assert.throws(() => shardIndices(10, 2, 2), /Invalid shard/);
    assert.throws(() => shardIndices(10, -1, 2), /Invalid shard/);
  });

  it('datasetSplit caches per dataset spec', () => {
    assert.equal(datasetSplit(base), datasetSplit({ ...base }));
    assert.notEqual(datasetSplit(base), datasetSplit({ ...base, seed: 1 }));
  });
});

describe('featurize', () => {
  it('computes the features of a point in the requested order, scaled to O(1)', () => {
    const out = featurize(new Float32Array([5, -2.5]), ['x1', 'x2', 'x1sq', 'x2sq', 'x1x2', 'sin1', 'sin2']);
    const expected = [1, -0.5, 1, 0.25, -0.5, Math.sin(5), Math.sin(-2.5)];
    assert.equal(out.length, 7);
    expected.forEach((v, i) => assert.ok(Math.abs(out[i]! - v) < 1e-6, `feature ${i}`));
    assert.deepEqual([...featurize(new Float32Array([5, -2.5, 0, 1]), ['x2'])], [-0.5, 0.2].map(Math.fround));
  });
});
