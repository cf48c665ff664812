/**
 * Sample-weighted mean of client updates, folded in one update at a time as they arrive.
 *
 * Accumulates in float64: a float32 running sum of many weighted updates loses low bits, and
 * which bits it loses depends on arrival order. With float64 the sum's error (~1e-16 relative) is
 * far below float32's resolution (~6e-8), so the mean rounds to the same float32 whatever the
 * order clients report in. The price, 8 bytes per parameter for one round, is small.
 */
export class WeightedMeanAccumulator {
  private readonly sum: Float64Array;
  private weightSum = 0;
  private updates = 0;

  /** An empty accumulator for updates of `size` values. */
  constructor(readonly size: number) {
    this.sum = new Float64Array(size);
  }

  /** Folds in one update with weight `weight` (its sample count); weight 0 counts but adds nothing. */
  add(delta: Float32Array, weight: number): void {
    if (delta.length !== this.size) throw new Error(`Update has ${delta.length} values; expected ${this.size}`);
    if (!Number.isFinite(weight) || weight < 0) throw new Error(`Update weight must be finite and >= 0, got ${weight}`);
    this.updates += 1;
    if (weight === 0) return;
    const sum = this.sum;
    for (let i = 0; i < sum.length; i++) sum[i]! += weight * delta[i]!;
    this.weightSum += weight;
  }

  /** Number of updates added (including weight-0 ones). */
  get count(): number {
    return this.updates;
  }

  /** Sum of the weights added. */
  get totalWeight(): number {
    return this.weightSum;
  }

  /** The weighted mean as float32; all zeros when the total weight is 0 (nothing to move by). */
  finalize(): Float32Array {
    const out = new Float32Array(this.size);
    if (this.weightSum === 0) return out;
    for (let i = 0; i < out.length; i++) out[i] = this.sum[i]! / this.weightSum;
    return out;
  }
}

/** global + delta, as a new buffer (the inputs are left untouched). */
export function applyDelta(global: Float32Array, delta: Float32Array): Float32Array {
  if (global.length !== delta.length) throw new Error(`Delta has ${delta.length} values; weights have ${global.length}`);
  const out = new Float32Array(global.length);
  for (let i = 0; i < out.length; i++) out[i] = global[i]! + delta[i]!;
  return out;
}
