import type { DeltaSource } from './optimizer-kernel';
import { checkUpdate, type Aggregator } from './types';

/** Euclidean norm of a float32 vector, summed in float64. */
export function l2Norm(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  return Math.sqrt(sum);
}

/**
 * Norm clipping in front of any aggregator: an update whose L2 norm exceeds `clipNorm` is scaled
 * down to norm clipNorm (up to float32 rounding) before the inner aggregator sees it, bounding how
 * far one client can move the mean (as in DP-FedAvg, McMahan et al. 2018). Updates within the
 * bound pass through untouched.
 */
export class ClippedAggregator implements Aggregator {
  private readonly scaled: Float32Array;
  private clippedUpdates = 0;

  constructor(
    private readonly inner: Aggregator,
    readonly clipNorm: number,
  ) {
    if (!(clipNorm > 0 && Number.isFinite(clipNorm))) throw new Error(`clipNorm must be a finite number > 0, got ${clipNorm}`);
    this.scaled = new Float32Array(inner.size);
  }

  get size(): number {
    return this.inner.size;
  }

  add(update: Float32Array, weight: number): void {
    checkUpdate(update, weight, this.size);
    const norm = l2Norm(update);
    if (!(norm > this.clipNorm)) return this.inner.add(update, weight);
    const scale = this.clipNorm / norm;
    const scaled = this.scaled;
    for (let i = 0; i < scaled.length; i++) scaled[i] = update[i]! * scale;
    this.clippedUpdates += 1;
    // Safe to reuse the buffer: aggregators keep no reference to what add() was given.
    this.inner.add(scaled, weight);
  }

  /** Updates that had to be scaled down. */
  get clipped(): number {
    return this.clippedUpdates;
  }

  get count(): number {
    return this.inner.count;
  }

  get totalWeight(): number {
    return this.inner.totalWeight;
  }

  finalize(): Float32Array {
    return this.inner.finalize();
  }

  delta(): DeltaSource | Promise<DeltaSource> {
    return this.inner.delta();
  }

  reset(): void {
    this.inner.reset();
    this.clippedUpdates = 0;
  }
}
