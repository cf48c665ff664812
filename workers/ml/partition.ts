/**
 * Partitioning a training split across a round's participants: IID, or non-IID (label skew by
 * Dirichlet(α) proportions, or k classes per participant).
 *
 * Every client holds the same training split (same seed → same rows, same order) and computes its
 * own shard without talking to the others, so the partition is a pure, deterministic function of
 * (labels, classes, parts, spec, seed); `part` only selects one piece of it. Isomorphic: no Node
 * imports, runs the same in the browser worker and in headless clients.
 *
 * Cost: O(n + classes·parts) for one part or for all of them (one counting pass over the labels,
 * a tiny per-class plan, one filling pass).
 */
import { deriveSeed, gaussian, mulberry32, type Rng } from './random';

export type PartitionKind = 'iid' | 'dirichlet' | 'classes';

export interface PartitionSpec {
  kind: PartitionKind;
  /** Dirichlet concentration (> 0): small (0.1) → each class lands mostly on a few parts; large (100) → near-uniform. */
  alpha: number;
  /** Distinct classes each participant holds with kind 'classes' (integer ≥ 1; ≥ classes means all). */
  classesPerClient: number;
}

const KINDS: readonly PartitionKind[] = ['iid', 'dirichlet', 'classes'];

/**
 * Where one class's rows go: its rows, taken in ascending index order, are cut into consecutive
 * segments; segment s (rows bounds[s]..bounds[s+1]-1 of that class) goes to part owners[s].
 * Owners are ascending and distinct. No owners: the class is dropped.
 */
interface ClassPlan {
  owners: Uint32Array;
  bounds: Uint32Array;
}

function checkArgs(labels: ArrayLike<number>, classes: number, parts: number, spec: PartitionSpec): void {
  if (!Number.isInteger(classes) || classes < 1) throw new Error(`Invalid classes ${classes}: need an integer >= 1`);
  if (!Number.isInteger(parts) || parts < 1) throw new Error(`Invalid parts ${parts}: need an integer >= 1`);
  if (spec === null || typeof spec !== 'object' || !KINDS.includes(spec.kind)) {
    throw new Error(`Invalid partition kind ${String(spec?.kind)}: need one of ${KINDS.join(', ')}`);
  }
  // Both knobs are checked whatever the kind: a spec carrying a nonsensical value is malformed even
  // while that value is unused, and failing the same way for every kind is easier to reason about.
  if (typeof spec.alpha !== 'number' || !Number.isFinite(spec.alpha) || spec.alpha <= 0) {
    throw new Error(`Invalid Dirichlet alpha ${spec.alpha}: need a finite number > 0`);
  }
  if (!Number.isInteger(spec.classesPerClient) || spec.classesPerClient < 1) {
    throw new Error(`Invalid classesPerClient ${spec.classesPerClient}: need an integer >= 1`);
  }
  if (labels == null || typeof labels.length !== 'number') throw new Error('Invalid labels: need an array-like of class indices');
}

function checkPart(part: number, parts: number): void {
  if (!Number.isInteger(part) || part < 0 || part >= parts) {
    throw new Error(`Invalid part ${part} of ${parts}: need an integer with 0 <= part < parts`);
  }
}

/**
 * The labels as an integer array (so the later passes index typed arrays with small integers
 * whatever the caller passed: number[], Float32Array, …) and the rows per class. Throws on a label
 * that is not an integer in 0..classes-1.
 */
function readLabels(labels: ArrayLike<number>, classes: number): { cls: Uint32Array; counts: Uint32Array } {
  const n = labels.length;
  const cls = new Uint32Array(n);
  const counts = new Uint32Array(classes);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    if (!(c >= 0 && c < classes && Number.isInteger(c))) {
      throw new Error(`Invalid label ${c} at row ${i}: need an integer in 0..${classes - 1}`);
    }
    cls[i] = c;
    counts[c]!++;
  }
  return { cls, counts };
}

/**
 * log of a Gamma(shape, 1) sample. Marsaglia–Tsang for shape ≥ 1; for shape < 1 the boost
 * Gamma(a) = Gamma(a+1)·U^(1/a), kept in log space (log G(a+1) + log(U)/a) because U^(1/a)
 * underflows to 0 for tiny a. U = 1 - rng() is in (0, 1], so the result is always finite.
 */
function logGamma(shape: number, rng: Rng): number {
  if (shape < 1) return logGamma(shape + 1, rng) + Math.log(1 - rng()) / shape;
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = gaussian(rng);
    const t = 1 + c * x;
    if (t <= 0) continue;
    const v = t * t * t;
    const u = 1 - rng(); // (0, 1]: log(u) is finite
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
      return Math.log(d) + Math.log(v);
    }
  }
}

/**
 * Proportions q ~ Dirichlet(alpha·1_k): normalised Gamma(alpha) draws, normalised from log space
 * (subtract the max before exp) so the largest term is exactly 1 and the sum is ≥ 1 — never 0,
 * however small alpha is.
 */
function dirichlet(k: number, alpha: number, rng: Rng): Float64Array {
  const q = new Float64Array(k);
  let max = -Infinity;
  for (let j = 0; j < k; j++) {
    q[j] = logGamma(alpha, rng);
    if (q[j]! > max) max = q[j]!;
  }
  let sum = 0;
  for (let j = 0; j < k; j++) {
    q[j] = Math.exp(q[j]! - max);
    sum += q[j]!;
  }
  if (!(sum > 0 && Number.isFinite(sum))) return q.fill(1 / k); // unreachable with finite logs; belt and braces
  for (let j = 0; j < k; j++) q[j]! /= sum;
  return q;
}

/** 0..n-1 as owners. */
function allParts(parts: number): Uint32Array {
  const owners = new Uint32Array(parts);
  for (let p = 0; p < parts; p++) owners[p] = p;
  return owners;
}

/** Splits `count` rows into owners.length consecutive chunks as even as possible (sizes differ by ≤ 1, larger first). */
function evenBounds(count: number, owners: number): Uint32Array {
  const bounds = new Uint32Array(owners + 1);
  const base = Math.floor(count / owners);
  const extra = count % owners;
  for (let s = 0; s < owners; s++) bounds[s + 1] = bounds[s]! + base + (s < extra ? 1 : 0);
  return bounds;
}

/** Parts holding each class under 'classes': part p holds (p·k + j) mod classes for j < k. */
function classOwners(classes: number, parts: number, k: number): Uint32Array[] {
  const held: number[][] = Array.from({ length: classes }, () => []);
  if (k >= classes) {
    for (let c = 0; c < classes; c++) for (let p = 0; p < parts; p++) held[c]!.push(p);
  } else {
    // k < classes, so the k classes of one part are distinct; parts are visited in ascending
    // order, so each owner list comes out ascending and duplicate-free.
    for (let p = 0; p < parts; p++) for (let j = 0; j < k; j++) held[(p * k + j) % classes]!.push(p);
  }
  return held.map((owners) => Uint32Array.from(owners));
}

/** The per-class plan (non-'iid' kinds). */
function plan(counts: Uint32Array, classes: number, parts: number, spec: PartitionSpec, seed: number): ClassPlan[] {
  const out: ClassPlan[] = [];
  if (spec.kind === 'dirichlet') {
    const owners = allParts(parts);
    for (let c = 0; c < classes; c++) {
      // One stream per (class, parts): a class's proportions do not depend on the other classes
      // or on how many rows it has, so every client draws the same ones.
      const q = dirichlet(parts, spec.alpha, mulberry32(deriveSeed(seed, `dirichlet:${c}:${parts}`)));
      // Cumulative rounding: bound s = round(n·(q_0+…+q_{s-1})), last bound exactly n. Bounds are
      // monotone, so sizes are ≥ 0 and sum exactly to n.
      const n = counts[c]!;
      const bounds = new Uint32Array(parts + 1);
      let cum = 0;
      for (let s = 1; s < parts; s++) {
        cum += q[s - 1]!;
        bounds[s] = Math.max(bounds[s - 1]!, Math.min(n, Math.round(n * cum)));
      }
      bounds[parts] = n;
      out.push({ owners, bounds });
    }
  } else {
    const owners = classOwners(classes, parts, spec.classesPerClient);
    for (let c = 0; c < classes; c++) {
      const o = owners[c]!;
      out.push({ owners: o, bounds: evenBounds(o.length === 0 ? 0 : counts[c]!, Math.max(1, o.length)) });
    }
  }
  return out;
}

/**
 * Indices (into the training split, ascending) that participant `part` of `parts` trains on.
 *
 * - 'iid': i with i % parts === part — exactly `shardIndices`, so runs from before partitioning
 *   keep their shards. Labels are still validated.
 * - 'dirichlet': for each class c, q ~ Dirichlet(α·1_parts) from the stream
 *   deriveSeed(seed, `dirichlet:${c}:${parts}`); class c's rows (ascending) are cut into
 *   consecutive chunks of sizes round-cumulative(n_c·q); chunk p goes to part p. Every row lands in
 *   exactly one part; a part may get nothing.
 * - 'classes' (k = classesPerClient): part p holds classes (p·k + j) mod classes, j < k (all classes
 *   when k ≥ classes); each class's rows are split evenly, in consecutive chunks, among the parts
 *   holding it (ascending part order). When parts·k ≥ classes every class is held. When
 *   parts·k < classes, classes parts·k..classes-1 are held by no part and their rows are DROPPED:
 *   giving them to anyone would break "at most k classes per participant" (pigeonhole — there are
 *   only parts·k class slots), which is the whole point of this setting.
 *
 * Throws on part/parts out of range or non-integer, classes < 1, alpha ≤ 0, classesPerClient < 1
 * (both knobs checked whatever the kind), an unknown kind, or a label outside 0..classes-1.
 */
export function partitionIndices(
  labels: ArrayLike<number>,
  classes: number,
  part: number,
  parts: number,
  spec: PartitionSpec,
  seed: number,
): Uint32Array {
  checkArgs(labels, classes, parts, spec);
  checkPart(part, parts);
  const { cls, counts } = readLabels(labels, classes);
  const n = cls.length;
  if (spec.kind === 'iid') {
    const out = new Uint32Array(part < n ? Math.ceil((n - part) / parts) : 0);
    for (let k = 0, i = part; i < n; i += parts, k++) out[k] = i;
    return out;
  }
  const plans = plan(counts, classes, parts, spec, seed);
  // This part's window [lo, hi) within each class's row order (owners appear at most once per class).
  const lo = new Uint32Array(classes);
  const hi = new Uint32Array(classes);
  let size = 0;
  for (let c = 0; c < classes; c++) {
    const { owners, bounds } = plans[c]!;
    const s = owners.indexOf(part);
    if (s < 0) continue;
    lo[c] = bounds[s]!;
    hi[c] = bounds[s + 1]!;
    size += hi[c]! - lo[c]!;
  }
  const out = new Uint32Array(size);
  const seen = new Uint32Array(classes);
  for (let i = 0, k = 0; i < n && k < size; i++) {
    const c = cls[i]!;
    const r = seen[c]!++;
    if (r >= lo[c]! && r < hi[c]!) out[k++] = i;
  }
  return out;
}

/**
 * All parts at once: element p equals partitionIndices(labels, classes, p, parts, spec, seed).
 * Parts are disjoint; with 'iid' and 'dirichlet' they cover every row, with 'classes' every row
 * of a held class (see partitionIndices).
 */
export function partitionAll(
  labels: ArrayLike<number>,
  classes: number,
  parts: number,
  spec: PartitionSpec,
  seed: number,
): Uint32Array[] {
  checkArgs(labels, classes, parts, spec);
  const { cls, counts } = readLabels(labels, classes);
  const n = cls.length;
  if (spec.kind === 'iid') {
    const out: Uint32Array[] = [];
    for (let p = 0; p < parts; p++) {
      const shard = new Uint32Array(p < n ? Math.ceil((n - p) / parts) : 0);
      for (let k = 0, i = p; i < n; i += parts, k++) shard[k] = i;
      out.push(shard);
    }
    return out;
  }
  const plans = plan(counts, classes, parts, spec, seed);
  const sizes = new Uint32Array(parts);
  for (const { owners, bounds } of plans) for (let s = 0; s < owners.length; s++) sizes[owners[s]!]! += bounds[s + 1]! - bounds[s]!;
  const out = Array.from(sizes, (size) => new Uint32Array(size));
  const fill = new Uint32Array(parts);
  const seen = new Uint32Array(classes);
  // Each class's current segment: its index, the class-row count where it ends, and its owner.
  const segment = new Uint32Array(classes);
  const end = new Uint32Array(classes); // 0 for now: the first row of each class looks up its segment
  const owner = new Uint32Array(classes);
  for (let i = 0; i < n; i++) {
    const c = cls[i]!;
    const r = seen[c]!++;
    if (r >= end[c]!) {
      // Rare: once per segment. Skips empty segments; a dropped class has no segment at all.
      const { owners, bounds } = plans[c]!;
      let s = r === 0 ? 0 : segment[c]! + 1;
      while (s < owners.length && r >= bounds[s + 1]!) s++;
      if (s >= owners.length) {
        end[c] = 0xffffffff; // dropped: never look again
        owner[c] = parts; // sentinel, skipped below
        continue;
      }
      segment[c] = s;
      end[c] = bounds[s + 1]!;
      owner[c] = owners[s]!;
    }
    const p = owner[c]!;
    if (p === parts) continue;
    out[p]![fill[p]!++] = i;
  }
  return out;
}

/** Per-part class counts, parts × classes (row p, column c: rows of class c in part p), for histograms. */
export function classCounts(labels: ArrayLike<number>, classes: number, parts: Uint32Array[]): number[][] {
  if (!Number.isInteger(classes) || classes < 1) throw new Error(`Invalid classes ${classes}: need an integer >= 1`);
  return parts.map((indices, p) => {
    const row = new Array<number>(classes).fill(0);
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!;
      if (i >= labels.length) throw new Error(`Invalid index ${i} in part ${p}: the split has ${labels.length} rows`);
      const c = labels[i]!;
      if (!(c >= 0 && c < classes && Number.isInteger(c))) {
        throw new Error(`Invalid label ${c} at row ${i}: need an integer in 0..${classes - 1}`);
      }
      row[c]!++;
    }
    return row;
  });
}
