import type { DeltaSource } from './optimizer-kernel';

/**
 * The shape every aggregation strategy shares: fold in client updates as they arrive, then close
 * the round with one vector. Updates are float32 deltas (local − global), weighted by sample count.
 */
export interface Aggregator {
  /** Values per update. */
  readonly size: number;
  /** Folds in one update; the aggregator keeps no reference to `update` after it returns. */
  add(update: Float32Array, weight: number): void;
  /** Updates added so far, weight-0 ones included. */
  readonly count: number;
  /** Sum of the weights added. */
  readonly totalWeight: number;
  /** The aggregate of everything added so far; all zeros when nothing with weight > 0 was added. */
  finalize(): Float32Array;
  /**
   * The aggregate as the server optimizer reads it: mean-style aggregators hand themselves over,
   * so the optimizer streams the mean straight into its step (no separate finalize pass); the
   * robust ones compute {@link finalize}'s vector in slices, yielding to the event loop between.
   */
  delta(): DeltaSource | Promise<DeltaSource>;
  /**
   * Empties it for another round, keeping its memory: a fresh one pays the OS for every page of its
   * sum on first touch, which at 1M parameters costs as much as folding the updates in.
   */
  reset(): void;
}

/** Which robust (or plain) combination to use, and whether to clip each update's norm first. */
export interface AggregatorConfig {
  kind: 'mean' | 'median' | 'trimmed_mean';
  /** trimmed_mean only: fraction trimmed from each end, in [0, 0.5). Default 0.1. */
  trimBeta?: number;
  /** Scale each update down to L2 norm ≤ clipNorm before aggregating; null or absent: no clipping. */
  clipNorm?: number | null;
}

/** Throws unless `update` has `size` values and `weight` is a finite number ≥ 0. */
export function checkUpdate(update: Float32Array, weight: number, size: number): void {
  if (update.length !== size) throw new Error(`Update has ${update.length} values; expected ${size}`);
  if (!Number.isFinite(weight) || weight < 0) throw new Error(`Update weight must be finite and >= 0, got ${weight}`);
}
