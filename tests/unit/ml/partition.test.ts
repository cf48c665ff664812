import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shardIndices } from '../../../workers/ml/datasets';
import { classCounts, partitionAll, partitionIndices, type PartitionKind, type PartitionSpec } from '../../../workers/ml/partition';
import { mulberry32 } from '../../../workers/ml/random';

const spec = (kind: PartitionKind, alpha = 0.5, classesPerClient = 2): PartitionSpec => ({ kind, alpha, classesPerClient });

/** n seeded uniform labels in 0..classes-1. */
function randomLabels(n: number, classes: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: n }, () => Math.floor(rng() * classes));
}

/** Asserts parts are ascending and disjoint; returns how many rows they cover. */
function assertDisjointAscending(parts: Uint32Array[], n: number): number {
  const owner = new Int32Array(n).fill(-1);
  let covered = 0;
  parts.forEach((indices, p) => {
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!;
      assert.ok(i < n, `index ${i} out of range`);
      if (k > 0) assert.ok(indices[k - 1]! < i, `part ${p} not strictly ascending at ${k}`);
      assert.equal(owner[i], -1, `row ${i} in parts ${owner[i]} and ${p}`);
      owner[i] = p;
      covered++;
    }
  });
  return covered;
}

function distinctClasses(labels: ArrayLike<number>, indices: Uint32Array): Set<number> {
  const s = new Set<number>();
  for (const i of indices) s.add(labels[i]!);
  return s;
}

/** Mean over non-empty parts of (largest class count / part size). */
function meanMaxShare(labels: ArrayLike<number>, classes: number, parts: Uint32Array[]): number {
  const counts = classCounts(labels, classes, parts);
  let sum = 0;
  let m = 0;
  counts.forEach((row, p) => {
    if (parts[p]!.length === 0) return;
    sum += Math.max(...row) / parts[p]!.length;
    m++;
  });
  return sum / m;
}

const GRID: { n: number; classes: number; parts: number; seed: number }[] = [
  { n: 1, classes: 1, parts: 1, seed: 0 },
  { n: 7, classes: 2, parts: 10, seed: 1 },
  { n: 200, classes: 2, parts: 3, seed: 2 },
  { n: 1000, classes: 10, parts: 7, seed: 3 },
  { n: 5000, classes: 10, parts: 50, seed: 4 },
  { n: 333, classes: 3, parts: 1, seed: 5 },
  { n: 2500, classes: 5, parts: 13, seed: 0xdeadbeef },
];

describe('partitionAll / partitionIndices', () => {
  for (const kind of ['iid', 'dirichlet', 'classes'] as const) {
    for (const { n, classes, parts, seed } of GRID) {
      it(`${kind}: n=${n} classes=${classes} parts=${parts} seed=${seed} — disjoint, ascending, agrees per part`, () => {
        const labels = randomLabels(n, classes, seed);
        for (const s of [spec(kind, 0.1, 1), spec(kind, 1, 2), spec(kind, 10, 3)]) {
          const all = partitionAll(labels, classes, parts, s, seed);
          assert.equal(all.length, parts);
          const covered = assertDisjointAscending(all, n);
          const k = s.classesPerClient;
          // 'classes' covers everything exactly when every class is held by some part.
          if (kind !== 'classes' || parts * k >= classes) assert.equal(covered, n, 'every row in exactly one part');
          for (let p = 0; p < parts; p++) assert.deepEqual(partitionIndices(labels, classes, p, parts, s, seed), all[p], `part ${p}`);
        }
      });
    }
  }

  it('plain number[] labels work like typed arrays', () => {
    const labels = Array.from(randomLabels(300, 4, 9));
    const s = spec('dirichlet', 0.3);
    assert.deepEqual(partitionAll(labels, 4, 5, s, 9), partitionAll(Float32Array.from(labels), 4, 5, s, 9));
  });

  it('an empty training split gives empty parts', () => {
    for (const kind of ['iid', 'dirichlet', 'classes'] as const) {
      const all = partitionAll([], 3, 4, spec(kind), 1);
      assert.deepEqual(all, [0, 1, 2, 3].map(() => new Uint32Array(0)));
      assert.deepEqual(partitionIndices([], 3, 2, 4, spec(kind), 1), new Uint32Array(0));
    }
  });
});

describe('iid', () => {
  it('equals shardIndices (i % parts === part), whatever the labels or seed', () => {
    for (const { n, classes, parts, seed } of GRID) {
      const labels = randomLabels(n, classes, seed);
      for (let p = 0; p < parts; p++) {
        assert.deepEqual(partitionIndices(labels, classes, p, parts, spec('iid'), seed), shardIndices(n, p, parts));
        assert.deepEqual(partitionIndices(labels, classes, p, parts, spec('iid'), seed + 1), shardIndices(n, p, parts));
      }
      assert.deepEqual(partitionAll(labels, classes, parts, spec('iid'), seed), Array.from({ length: parts }, (_, p) => shardIndices(n, p, parts)));
    }
  });
});

describe('determinism', () => {
  const labels = randomLabels(4000, 10, 42);
  for (const kind of ['iid', 'dirichlet', 'classes'] as const) {
    it(`${kind}: same arguments → same output`, () => {
      const a = partitionAll(labels, 10, 12, spec(kind, 0.3, 2), 77);
      const b = partitionAll(Float32Array.from(labels), 10, 12, spec(kind, 0.3, 2), 77);
      assert.deepEqual(a, b);
    });
  }

  it('dirichlet: a different seed gives a different partition', () => {
    const a = partitionAll(labels, 10, 12, spec('dirichlet', 0.3), 77);
    const b = partitionAll(labels, 10, 12, spec('dirichlet', 0.3), 78);
    assert.notDeepEqual(a, b);
  });

  it('dirichlet: pinned part sizes for one seed (guards against accidental changes to the stream)', () => {
    // Clients on different builds must still agree, so the stream (deriveSeed label, Gamma sampler,
    // rounding) is part of the contract: changing it re-shards every non-IID run.
    const sizes = partitionAll(labels, 10, 5, spec('dirichlet', 0.5), 1).map((p) => p.length);
    assert.deepEqual(sizes, [1214, 1233, 482, 478, 593]);
  });

  it('classes: the seed is irrelevant (the assignment is fixed)', () => {
    assert.deepEqual(partitionAll(labels, 10, 12, spec('classes', 1, 3), 1), partitionAll(labels, 10, 12, spec('classes', 1, 3), 2));
  });
});

describe('dirichlet skew', () => {
  // Large label sets and many parts so the averages are stable; all seeded.
  const classes = 10;
  const labels = randomLabels(60_000, classes, 2024);

  it('α = 0.1 is very skewed: mean per-part max-class share > 0.6', () => {
    // Expected ≈ 0.65 for 10 classes over 50 parts (numpy's dirichlet gives the same); 20 seeds here
    // range 0.63..0.70. Fixed seeds, so this is deterministic.
    for (const seed of [1, 2, 3]) {
      const share = meanMaxShare(labels, classes, partitionAll(labels, classes, 50, spec('dirichlet', 0.1), seed));
      assert.ok(share > 0.6, `seed ${seed}: share ${share}`);
    }
  });

  it('α = 100 is near-uniform: mean per-part max-class share < 0.2 (1/classes = 0.1)', () => {
    for (const seed of [1, 2, 3]) {
      const all = partitionAll(labels, classes, 20, spec('dirichlet', 100), seed);
      const share = meanMaxShare(labels, classes, all);
      assert.ok(share < 0.2, `seed ${seed}: share ${share}`);
      // Part sizes are near-equal too (60000/20 = 3000 each).
      for (const p of all) assert.ok(Math.abs(p.length - 3000) < 600, `size ${p.length}`);
    }
  });

  it('tiny α (1e-3, 1e-6) never divides by zero: still a full, disjoint partition', () => {
    for (const alpha of [1e-3, 1e-6, 1e-12]) {
      const all = partitionAll(labels, classes, 8, spec('dirichlet', alpha), 5);
      assert.equal(assertDisjointAscending(all, labels.length), labels.length);
      // Essentially each class goes whole to one part.
      const counts = classCounts(labels, classes, all);
      for (let c = 0; c < classes; c++) {
        const col = counts.map((row) => row[c]!);
        const total = col.reduce((a, b) => a + b, 0);
        assert.ok(Math.max(...col) / total > 0.99, `alpha ${alpha} class ${c}: ${col}`);
      }
    }
  });

  it('huge α (1e6) is fine and near-even', () => {
    const all = partitionAll(labels, classes, 8, spec('dirichlet', 1e6), 5);
    assert.equal(assertDisjointAscending(all, labels.length), labels.length);
    for (const p of all) assert.ok(Math.abs(p.length - 7500) < 100, `size ${p.length}`);
  });

  it('each class is split into consecutive chunks in part order', () => {
    const small = randomLabels(3000, 4, 8);
    const all = partitionAll(small, 4, 6, spec('dirichlet', 0.5), 3);
    const partOf = new Int32Array(small.length).fill(-1);
    all.forEach((idx, p) => idx.forEach((i) => (partOf[i] = p)));
    const last = [-1, -1, -1, -1];
    for (let i = 0; i < small.length; i++) {
      const c = small[i]!;
      assert.ok(partOf[i]! >= last[c]!, `class ${c} goes back from part ${last[c]} to ${partOf[i]} at row ${i}`);
      last[c] = partOf[i]!;
    }
  });
});

describe("'classes' (k per participant)", () => {
  const classes = 10;
  const labels = randomLabels(20_000, classes, 99);

  it('k = 2, 10 classes: every part has ≤ 2 distinct classes; all classes present when parts·k ≥ classes', () => {
    for (const parts of [5, 6, 7, 10, 23, 50]) {
      const all = partitionAll(labels, classes, parts, spec('classes', 1, 2), 0);
      const present = new Set<number>();
      all.forEach((idx, p) => {
        const d = distinctClasses(labels, idx);
        assert.ok(d.size <= 2, `parts=${parts} part ${p} has ${d.size} classes`);
        for (const c of d) present.add(c);
      });
      assert.equal(present.size, classes, `parts=${parts}`);
      assert.equal(assertDisjointAscending(all, labels.length), labels.length);
    }
  });

  it('part p holds classes (p·k + j) mod classes', () => {
    const all = partitionAll(labels, classes, 7, spec('classes', 1, 3), 0);
    all.forEach((idx, p) => {
      assert.deepEqual([...distinctClasses(labels, idx)].sort((a, b) => a - b), [0, 1, 2].map((j) => (p * 3 + j) % classes).sort((a, b) => a - b));
    });
  });

  it('a class shared by h parts is split evenly among them (sizes differ by ≤ 1)', () => {
    const parts = 15; // k = 2: 30 slots over 10 classes → each class held by 3 parts
    const all = partitionAll(labels, classes, parts, spec('classes', 1, 2), 0);
    const counts = classCounts(labels, classes, all);
    for (let c = 0; c < classes; c++) {
      const shares = counts.map((row) => row[c]!).filter((v) => v > 0);
      assert.equal(shares.length, 3);
      assert.ok(Math.max(...shares) - Math.min(...shares) <= 1, `class ${c}: ${shares}`);
    }
  });

  it('parts·k < classes: unheld classes are dropped, the rest is covered, ≤ k classes each', () => {
    const all = partitionAll(labels, classes, 3, spec('classes', 1, 2), 0); // holds 0..5; 6..9 dropped
    const covered = assertDisjointAscending(all, labels.length);
    let expected = 0;
    for (let i = 0; i < labels.length; i++) if (labels[i]! < 6) expected++;
    assert.equal(covered, expected);
    for (const idx of all) assert.ok(distinctClasses(labels, idx).size <= 2);
  });

  it('k ≥ classes: every part gets every class', () => {
    for (const k of [10, 11, 100]) {
      const all = partitionAll(labels, classes, 4, spec('classes', 1, k), 0);
      for (const idx of all) assert.equal(distinctClasses(labels, idx).size, classes);
      assert.equal(assertDisjointAscending(all, labels.length), labels.length);
    }
  });
});

describe('classCounts', () => {
  it('is parts × classes and each row sums to that part’s index count', () => {
    for (const kind of ['iid', 'dirichlet', 'classes'] as const) {
      const labels = randomLabels(3000, 6, 12);
      const all = partitionAll(labels, 6, 9, spec(kind, 0.4, 2), 12);
      const counts = classCounts(labels, 6, all);
      assert.equal(counts.length, 9);
      counts.forEach((row, p) => {
        assert.equal(row.length, 6);
        assert.equal(row.reduce((a, b) => a + b, 0), all[p]!.length);
      });
    }
  });

  it('counts exactly', () => {
    const labels = [0, 1, 1, 2, 0, 2, 2];
    assert.deepEqual(classCounts(labels, 3, [Uint32Array.of(0, 1, 3), Uint32Array.of(2, 5, 6), new Uint32Array(0)]), [
      [1, 1, 1],
      [0, 1, 2],
      [0, 0, 0],
    ]);
  });

  it('rejects indices past the split and bad classes', () => {
    assert.throws(() => classCounts([0, 1], 2, [Uint32Array.of(2)]), /Invalid index 2/);
    assert.throws(() => classCounts([0, 1], 0, []), /Invalid classes/);
  });
});

describe('validation', () => {
  const labels = [0, 1, 2, 1, 0];
  const ok = spec('dirichlet');

  it('part / parts out of range or non-integer', () => {
    assert.throws(() => partitionIndices(labels, 3, -1, 2, ok, 0), /Invalid part -1/);
    assert.throws(() => partitionIndices(labels, 3, 2, 2, ok, 0), /Invalid part 2/);
    assert.throws(() => partitionIndices(labels, 3, 0.5, 2, ok, 0), /Invalid part 0.5/);
    assert.throws(() => partitionIndices(labels, 3, Number.NaN, 2, ok, 0), /Invalid part NaN/);
    assert.throws(() => partitionIndices(labels, 3, 0, 0, ok, 0), /Invalid parts 0/);
    assert.throws(() => partitionIndices(labels, 3, 0, 1.5, ok, 0), /Invalid parts 1.5/);
    assert.throws(() => partitionAll(labels, 3, 0, ok, 0), /Invalid parts 0/);
    assert.throws(() => partitionAll(labels, 3, 2.5, ok, 0), /Invalid parts 2.5/);
  });

  it('classes < 1 or non-integer', () => {
    assert.throws(() => partitionAll(labels, 0, 2, ok, 0), /Invalid classes 0/);
    assert.throws(() => partitionIndices(labels, 2.5, 0, 2, ok, 0), /Invalid classes 2.5/);
  });

  it('alpha ≤ 0 or not finite (checked whatever the kind)', () => {
    for (const kind of ['iid', 'dirichlet', 'classes'] as const) {
      for (const alpha of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
        assert.throws(() => partitionAll(labels, 3, 2, spec(kind, alpha), 0), /Invalid Dirichlet alpha/);
        assert.throws(() => partitionIndices(labels, 3, 0, 2, spec(kind, alpha), 0), /Invalid Dirichlet alpha/);
      }
    }
  });

  it('classesPerClient < 1 or non-integer (checked whatever the kind)', () => {
    for (const kind of ['iid', 'dirichlet', 'classes'] as const) {
      for (const k of [0, -2, 1.5, Number.NaN]) {
        assert.throws(() => partitionAll(labels, 3, 2, spec(kind, 1, k), 0), /Invalid classesPerClient/);
      }
    }
  });

  it('unknown kind', () => {
    assert.throws(() => partitionAll(labels, 3, 2, { kind: 'shards' as PartitionKind, alpha: 1, classesPerClient: 1 }, 0), /Invalid partition kind shards/);
  });

  it('a label outside 0..classes-1 (or not an integer), for every kind', () => {
    for (const kind of ['iid', 'dirichlet', 'classes'] as const) {
      assert.throws(() => partitionAll([0, 1, 3], 3, 2, spec(kind), 0), /Invalid label 3 at row 2/);
      assert.throws(() => partitionAll([0, -1], 3, 2, spec(kind), 0), /Invalid label -1 at row 1/);
      assert.throws(() => partitionIndices([0, 0.5], 3, 1, 2, spec(kind), 0), /Invalid label 0.5 at row 1/);
      assert.throws(() => partitionIndices(Float32Array.of(0, Number.NaN), 3, 0, 2, spec(kind), 0), /Invalid label NaN/);
    }
  });
});

describe('performance', () => {
  it('60,000 labels × 50 parts partition well under 50 ms', () => {
    const labels = randomLabels(60_000, 10, 3);
    for (const kind of ['iid', 'dirichlet', 'classes'] as const) {
      const s = spec(kind, 0.1, 2);
      partitionAll(labels, 10, 50, s, 1); // warm up the JIT
      partitionIndices(labels, 10, 7, 50, s, 1);
      let best = Infinity;
      let bestOne = Infinity;
      for (let r = 0; r < 5; r++) {
        let t = performance.now();
        partitionAll(labels, 10, 50, s, 1);
        best = Math.min(best, performance.now() - t);
        t = performance.now();
        partitionIndices(labels, 10, 7, 50, s, 1);
        bestOne = Math.min(bestOne, performance.now() - t);
      }
      // Typically ~1 ms; the bound is loose so a busy CI machine does not flake.
      assert.ok(best < 50, `${kind} partitionAll: ${best.toFixed(2)} ms`);
      assert.ok(bestOne < 50, `${kind} partitionIndices: ${bestOne.toFixed(2)} ms`);
    }
  });
});
