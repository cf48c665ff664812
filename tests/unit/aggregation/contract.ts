/**
 * The behaviour every aggregator owes its callers, as one suite applied to each strategy (as DISCO
 * does for its aggregators). A subject says how it treats weights and gives a plain reference
 * implementation that seeded fuzz cases are checked against.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Aggregator } from '../../../server/training/aggregation';
import { mulberry32, permutation, type Rng } from '../../../workers/ml/random';

export interface AggregatorSubject {
  name: string;
  make(size: number): Aggregator;
  /** 'samples': weight w counts as w copies; 'ignored': any weight > 0 counts once, 0 leaves it out. */
  weights: 'samples' | 'ignored';
  /** True when a permutation of the updates gives bit-identical output, not just within 1e-6. */
  exactUnderPermutation: boolean;
  /** What the subject should return when every client sends `update` (default: `update`). */
  onEqualInputs?: (update: Float32Array) => Float32Array;
  /** A straightforward implementation to compare against; updates all have weight > 0. */
  reference(updates: Float32Array[], weights: number[]): Float32Array;
}

/** Seeded update with values spread over several magnitudes, signs mixed. */
export function randomUpdate(rng: Rng, size: number): Float32Array {
  return Float32Array.from({ length: size }, () => (rng() - 0.5) * 10 ** Math.floor(rng() * 6 - 3));
}

/** Asserts a and b agree value by value within `tol` relative to max(1, |b|). */
export function assertClose(actual: Float32Array, expected: Float32Array, tol = 1e-6, what = 'value'): void {
  assert.equal(actual.length, expected.length, `length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const err = Math.abs(a - e) / Math.max(1, Math.abs(e));
    if (!(err <= tol)) assert.fail(`${what} ${i}: got ${a}, expected ${e} (relative error ${err})`);
  }
}

function aggregate(subject: AggregatorSubject, size: number, updates: Float32Array[], weights: number[]): Float32Array {
  const agg = subject.make(size);
  updates.forEach((u, k) => agg.add(u, weights[k]!));
  return agg.finalize();
}

/** Registers the shared contract tests for one aggregator. */
export function aggregatorContract(subject: AggregatorSubject): void {
  describe(`${subject.name} keeps the aggregator contract`, () => {
    it('gives back the common update when every client sends the same one', () => {
      const u = randomUpdate(mulberry32(1), 37);
      const expected = subject.onEqualInputs ? subject.onEqualInputs(u) : u;
      for (const weights of [[1, 1, 1], [160, 160, 159, 161], [5]]) {
        assert.deepEqual(aggregate(subject, u.length, weights.map(() => u), weights), expected);
      }
    });

    it('does not depend on the order updates arrive in', () => {
      const rng = mulberry32(2);
      for (const n of [2, 7, 10, 31]) {
        const size = 53;
        const updates = Array.from({ length: n }, () => randomUpdate(rng, size));
        const weights = updates.map(() => 1 + Math.floor(rng() * 300));
        const inOrder = aggregate(subject, size, updates, weights);
        for (let s = 0; s < 4; s++) {
          const order = permutation(n, mulberry32(100 * n + s));
          const shuffled = aggregate(subject, size, [...order].map((k) => updates[k]!), [...order].map((k) => weights[k]!));
          if (subject.exactUnderPermutation) assert.deepEqual(shuffled, inOrder);
          else assertClose(shuffled, inOrder);
        }
      }
    });

    if (subject.weights === 'samples') {
      it('treats weight 2 as the same update added twice', () => {
        const rng = mulberry32(3);
        const [a, b, c] = [randomUpdate(rng, 19), randomUpdate(rng, 19), randomUpdate(rng, 19)];
        assertClose(aggregate(subject, 19, [a, b, c], [2, 1, 3]), aggregate(subject, 19, [a, a, b, c, c, c], [1, 1, 1, 1, 1, 1]), 1e-7);
      });
    } else {
      it('ignores the size of positive weights', () => {
        const rng = mulberry32(3);
        const updates = Array.from({ length: 6 }, () => randomUpdate(rng, 19));
        assert.deepEqual(aggregate(subject, 19, updates, [1, 900, 3, 1, 7, 2]), aggregate(subject, 19, updates, [1, 1, 1, 1, 1, 1]));
      });
    }

    it('counts a weight-0 update without letting it move the result', () => {
      const rng = mulberry32(4);
      const updates = Array.from({ length: 5 }, () => randomUpdate(rng, 11));
      const agg = subject.make(11);
      updates.forEach((u) => agg.add(u, 2));
      agg.add(Float32Array.from({ length: 11 }, () => 1e6), 0);
      assert.equal(agg.count, 6);
      assert.equal(agg.totalWeight, 10);
      assert.deepEqual(agg.finalize(), aggregate(subject, 11, updates, [2, 2, 2, 2, 2]));
    });

    it('returns zeros when nothing with weight was added', () => {
      const agg = subject.make(4);
      assert.deepEqual(agg.finalize(), new Float32Array(4));
      agg.add(new Float32Array([1, 2, 3, 4]), 0);
      assert.equal(agg.count, 1);
      assert.deepEqual(agg.finalize(), new Float32Array(4));
    });

    it('keeps finite inputs finite, from float32 extremes to subnormals', () => {
      const max = 3.4028234663852886e38;
      const updates = [
        new Float32Array([max, -max, 1e-45, -1e-45, 0]),
        new Float32Array([max, -max, 1e-45, 1e-45, -0]),
        new Float32Array([max, max, -1e-45, 3e-45, 0]),
      ];
      const out = aggregate(subject, 5, updates, [7, 1, 4]);
      for (const v of out) assert.ok(Number.isFinite(v), `got ${v}`);
    });

    it('keeps no reference to an update after add returns', () => {
      const u = new Float32Array([1, 2, 3]);
      const agg = subject.make(3);
      agg.add(u, 1);
      const before = agg.finalize();
      u.fill(1000);
      assert.deepEqual(agg.finalize(), before);
    });

    it('can be finalized again after more updates arrive', () => {
      const rng = mulberry32(5);
      const updates = Array.from({ length: 4 }, () => randomUpdate(rng, 9));
      const agg = subject.make(9);
      agg.add(updates[0]!, 1);
      agg.add(updates[1]!, 2);
      agg.finalize();
      agg.add(updates[2]!, 3);
      agg.add(updates[3]!, 4);
      assert.deepEqual(agg.finalize(), aggregate(subject, 9, updates, [1, 2, 3, 4]));
    });

    it('after reset() gives what a fresh one gives, with nothing of the earlier round left', () => {
      const rng = mulberry32(6);
      for (const size of [9, 4100]) {
        const first = Array.from({ length: 3 }, () => randomUpdate(rng, size));
        const second = Array.from({ length: 3 }, () => randomUpdate(rng, size));
        const agg = subject.make(size);
        first.forEach((u, k) => agg.add(u, k + 1));
        agg.finalize();
        agg.reset();
        assert.equal(agg.count, 0);
        assert.equal(agg.totalWeight, 0);
        second.forEach((u, k) => agg.add(u, k + 2));
        assert.deepEqual(agg.finalize(), aggregate(subject, size, second, [2, 3, 4]));
      }
    });

    it('hands the optimizer exactly what finalize() gives, through delta()', async () => {
      const rng = mulberry32(7);
      const size = 70_000; // several column blocks, so a robust reduce runs in slices
      const agg = subject.make(size);
      for (let k = 0; k < 5; k++) agg.add(randomUpdate(rng, size), k + 1);
      const delta = await agg.delta();
      let values: Float32Array;
      if (delta instanceof Float32Array) values = delta;
      else {
        values = new Float32Array(size);
        delta.meanInto(0, values);
      }
      assert.deepEqual(values, agg.finalize());
    });

    it('rejects an update of the wrong length or with a bad weight', () => {
      const agg = subject.make(2);
      assert.throws(() => agg.add(new Float32Array(3), 1), /expected 2/);
      for (const w of [-1, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => agg.add(new Float32Array(2), w), /weight/);
      assert.equal(agg.count, 0);
    });

    it('matches the reference implementation on seeded random rounds', () => {
      for (let seed = 1; seed <= 25; seed++) {
        const rng = mulberry32(1000 + seed);
        const n = 1 + Math.floor(rng() * 12);
        const size = 1 + Math.floor(rng() * 40);
        const updates = Array.from({ length: n }, () => randomUpdate(rng, size));
        const weights = updates.map(() => 1 + Math.floor(rng() * 50));
        assertClose(aggregate(subject, size, updates, weights), subject.reference(updates, weights), 1e-6, `seed ${seed}, value`);
      }
    });
  });
}

/** Reference weighted mean, summed in float64. */
export function referenceMean(updates: Float32Array[], weights: number[]): Float32Array {
  const size = updates[0]?.length ?? 0;
  const total = weights.reduce((a, b) => a + b, 0);
  return Float32Array.from({ length: size }, (_, i) => updates.reduce((s, u, k) => s + weights[k]! * u[i]!, 0) / total);
}

/** Reference coordinate-wise trimmed mean by full sort: drop ⌊βn⌋ from each end. */
export function referenceTrimmedMean(beta: number, updates: Float32Array[]): Float32Array {
  const n = updates.length;
  const t = Math.floor(beta * n + 1e-9);
  const size = updates[0]?.length ?? 0;
  return Float32Array.from({ length: size }, (_, i) => {
    const column = updates.map((u) => u[i]!).sort((a, b) => a - b);
    const kept = column.slice(t, n - t);
    return kept.reduce((a, b) => a + b, 0) / kept.length;
  });
}

/** Reference coordinate-wise median by full sort; the mean of the middle two for even n. */
export function referenceMedian(updates: Float32Array[]): Float32Array {
  const n = updates.length;
  const size = updates[0]?.length ?? 0;
  return Float32Array.from({ length: size }, (_, i) => {
    const column = updates.map((u) => u[i]!).sort((a, b) => a - b);
    return n % 2 === 1 ? column[(n - 1) / 2]! : (column[n / 2 - 1]! + column[n / 2]!) / 2;
  });
}

/** Reference L2 clipping of one update to norm ≤ c. */
export function referenceClip(update: Float32Array, c: number): Float32Array {
  const norm = Math.sqrt(update.reduce((s, x) => s + x * x, 0));
  return norm > c ? update.map((x) => x * (c / norm)) : update.slice();
}
