import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ClippedAggregator,
  createAggregator,
  MeanAggregator,
  MedianAggregator,
  TrimmedMeanAggregator,
} from '../../../server/training/aggregation';
import { aggregatorContract, referenceClip, referenceMean, referenceMedian, referenceTrimmedMean } from './contract';

const f32 = (...v: number[]) => new Float32Array(v);

function aggregateOnce(agg: ReturnType<typeof createAggregator>, updates: number[][], weights?: number[]): Float32Array {
  updates.forEach((u, k) => agg.add(new Float32Array(u), weights?.[k] ?? 1));
  return agg.finalize();
}

aggregatorContract({
  name: 'mean',
  make: (size) => new MeanAggregator(size),
  weights: 'samples',
  exactUnderPermutation: true,
  reference: referenceMean,
});

aggregatorContract({
  name: 'mean on the wasm kernel',
  make: (size) => new MeanAggregator(size, { backend: 'wasm' }),
  weights: 'samples',
  exactUnderPermutation: true,
  reference: referenceMean,
});

aggregatorContract({
  name: 'median',
  make: (size) => new MedianAggregator(size),
  weights: 'ignored',
  exactUnderPermutation: true,
  reference: (updates) => referenceMedian(updates),
});

aggregatorContract({
  name: 'median on the wasm kernel',
  make: (size) => new MedianAggregator(size, { backend: 'wasm' }),
  weights: 'ignored',
  exactUnderPermutation: true,
  reference: (updates) => referenceMedian(updates),
});

aggregatorContract({
  name: 'trimmed mean (β = 0.25) on the wasm kernel',
  make: (size) => new TrimmedMeanAggregator(size, 0.25, { backend: 'wasm' }),
  weights: 'ignored',
  exactUnderPermutation: true,
  reference: (updates) => referenceTrimmedMean(0.25, updates),
});

for (const beta of [0, 0.1, 0.25, 0.4]) {
  aggregatorContract({
    name: `trimmed mean (β = ${beta})`,
    make: (size) => new TrimmedMeanAggregator(size, beta),
    weights: 'ignored',
    // Ranks are summed in sorted order, so the order updates arrive in cannot show.
    exactUnderPermutation: true,
    reference: (updates) => referenceTrimmedMean(beta, updates),
  });
}

const CLIP = 50;
aggregatorContract({
  name: 'clipped mean',
  make: (size) => createAggregator({ kind: 'mean', clipNorm: CLIP }, size),
  weights: 'samples',
  exactUnderPermutation: true,
  onEqualInputs: (u) => referenceClip(u, CLIP),
  reference: (updates, weights) => referenceMean(updates.map((u) => referenceClip(u, CLIP)), weights),
});

aggregatorContract({
  name: 'clipped median',
  make: (size) => createAggregator({ kind: 'median', clipNorm: CLIP }, size),
  weights: 'ignored',
  exactUnderPermutation: true,
  onEqualInputs: (u) => referenceClip(u, CLIP),
  reference: (updates) => referenceMedian(updates.map((u) => referenceClip(u, CLIP))),
});

describe('mean', () => {
  it('computes the sample-weighted mean', () => {
    assert.deepEqual(aggregateOnce(new MeanAggregator(2), [[1, 2], [3, 4]], [1, 3]), f32(2.5, 3.5));
  });
});

describe('median', () => {
  it('takes the middle value of an odd count: median of [1, 5, 3] is 3', () => {
    assert.deepEqual(aggregateOnce(new MedianAggregator(1), [[1], [5], [3]]), f32(3));
  });

  it('averages the middle two of an even count: median of [1, 2, 3, 10] is 2.5', () => {
    assert.deepEqual(aggregateOnce(new MedianAggregator(1), [[10], [2], [1], [3]]), f32(2.5));
  });

  it('works coordinate by coordinate', () => {
    assert.deepEqual(aggregateOnce(new MedianAggregator(3), [[1, 30, -1], [2, 10, -3], [3, 20, -2]]), f32(2, 20, -2));
  });

  it('stays within the honest range when under half the clients send huge values', () => {
    const honest = [[0.1], [0.2], [0.15], [0.12]];
    const byzantine = [[1e30], [1e30], [-1e30]];
    const [out] = aggregateOnce(new MedianAggregator(1), [...honest, ...byzantine]);
    assert.ok(out! >= 0.1 && out! <= 0.2, `got ${out}`);
  });

  it('does not let a client outvote the rest by claiming a huge sample count', () => {
    assert.deepEqual(aggregateOnce(new MedianAggregator(1), [[1], [2], [100]], [1, 1, 1e9]), f32(2));
  });

  it('rejects NaN values, which have no place in an ordering', () => {
    assert.throws(() => new MedianAggregator(2).add(f32(1, Number.NaN), 1), /NaN/);
  });

  it('handles long columns that take the partitioning path', () => {
    const values = Array.from({ length: 101 }, (_, i) => (i * 37) % 101); // a permutation of 0..100
    assert.deepEqual(aggregateOnce(new MedianAggregator(1), values.map((v) => [v])), f32(50));
    assert.deepEqual(aggregateOnce(new MedianAggregator(1), values.slice(0, 100).map((v) => [v])), referenceMedian(values.slice(0, 100).map((v) => f32(v))));
  });
});

describe('trimmed mean', () => {
  it('drops ⌊βn⌋ from each end: β = 0.25 of [0, 1, 2, 100] is 1.5', () => {
    assert.deepEqual(aggregateOnce(new TrimmedMeanAggregator(1, 0.25), [[100], [0], [2], [1]]), f32(1.5));
  });

  it('is the unweighted mean at β = 0', () => {
    assert.deepEqual(aggregateOnce(new TrimmedMeanAggregator(2, 0), [[1, 2], [3, 4]], [1, 3]), f32(2, 3));
  });

  it('trims nothing while βn < 1', () => {
    assert.deepEqual(aggregateOnce(new TrimmedMeanAggregator(1, 0.2), [[0], [3], [9], [100]]), f32(28));
  });

  it('counts ⌊βn⌋ exactly when βn lands a hair under a whole number', () => {
    // 0.29 × 100 is 28.999999999999996 in float64; 29 values must go from each end.
    const values = Array.from({ length: 100 }, (_, i) => [i]);
    assert.deepEqual(aggregateOnce(new TrimmedMeanAggregator(1, 0.29), values), f32(49.5));
    const agg = new TrimmedMeanAggregator(1, 0.29);
    values.forEach((v, i) => agg.add(f32(i < 29 ? -1000 : i >= 71 ? 1000 : v[0]!), 1));
    assert.deepEqual(agg.finalize(), f32(49.5));
  });

  it('rejects β outside [0, 0.5)', () => {
    for (const beta of [-0.1, 0.5, 0.7, Number.NaN]) assert.throws(() => new TrimmedMeanAggregator(1, beta), /trimBeta/);
  });
});

describe('norm clipping', () => {
  it('scales [3, 4] to norm 1 as [0.6, 0.8]', () => {
    const agg = new ClippedAggregator(new MeanAggregator(2), 1);
    agg.add(f32(3, 4), 1);
    assert.deepEqual(agg.finalize(), f32(0.6, 0.8));
    assert.equal(agg.clipped, 1);
  });

  it('passes updates within the bound through untouched', () => {
    const agg = new ClippedAggregator(new MeanAggregator(2), 5);
    agg.add(f32(3, 4), 1);
    assert.deepEqual(agg.finalize(), f32(3, 4));
    assert.equal(agg.clipped, 0);
  });

  it('clips before weighting, so one huge update moves the mean at most C·w/W', () => {
    const agg = createAggregator({ kind: 'mean', clipNorm: 1 }, 1);
    agg.add(f32(0), 3);
    agg.add(f32(1e9), 1);
    assert.deepEqual(agg.finalize(), f32(0.25));
  });

  it('rejects a clip norm that is not a positive finite number', () => {
    for (const c of [0, -1, Number.POSITIVE_INFINITY, Number.NaN]) assert.throws(() => createAggregator({ kind: 'mean', clipNorm: c }, 1), /clipNorm/);
  });
});

describe('createAggregator', () => {
  it('builds each kind, clipping only when clipNorm is set', () => {
    assert.ok(createAggregator({ kind: 'mean' }, 1) instanceof MeanAggregator);
    assert.ok(createAggregator({ kind: 'median', clipNorm: null }, 1) instanceof MedianAggregator);
    assert.ok(createAggregator({ kind: 'trimmed_mean' }, 1) instanceof TrimmedMeanAggregator);
    assert.ok(createAggregator({ kind: 'trimmed_mean', clipNorm: 2 }, 1) instanceof ClippedAggregator);
  });

  it('defaults trimmed_mean to β = 0.1', () => {
    const agg = createAggregator({ kind: 'trimmed_mean' }, 1) as TrimmedMeanAggregator;
    assert.equal(agg.beta, 0.1);
  });

  it('rejects an unknown kind', () => {
    assert.throws(() => createAggregator({ kind: 'krum' as never }, 1), /aggregator kind/);
  });
});
