import { wasmColumnReducer, type ColumnReducer } from './robust-kernel';
import { select } from './select';
import { checkUpdate, type Aggregator } from './types';

/** Below this many parameters the plain loop is fast enough and needs no wasm memory. */
const WASM_MIN_SIZE = 4096;
/** Work between yields when the round's aggregate is reduced in slices (see delta()). */
const SLICE_MS = 8;
/** Bytes of one transposed tile (n updates × a block of coordinates) for the plain loop: L2-sized. */
const TILE_BYTES = 256 * 1024;

/** Which implementation reduces the columns; tests force one to compare them. */
export interface RankMeanOptions {
  backend?: 'auto' | 'wasm' | 'js';
}

/**
 * Base of the coordinate-wise robust aggregators: each value of the result is the float64 mean of
 * a range of ranks [from, to) of that coordinate across the kept updates (the median's middle one
 * or two; the trimmed mean's middle n − 2t), summed in rank order from +0 (so −0 never comes out).
 *
 * They need all n values of a coordinate at once, so every update is kept until the round closes
 * (n × size × 4 bytes). Weights are not used beyond "0 means left out": sample counts are reported
 * by the clients themselves, and a robust rule that trusted them would let one client outvote the
 * rest by claiming a huge count. NaN has no place in an ordering, so an update holding one is
 * rejected; ±Infinity is kept (and trimmed away, if the ranks allow).
 */
export abstract class RankMeanAggregator implements Aggregator {
  private readonly rows: Float32Array[] = [];
  private readonly useWasm: boolean;
  private added = 0;
  private weightSum = 0;

  constructor(
    readonly size: number,
    options: RankMeanOptions = {},
  ) {
    const backend = options.backend ?? 'auto';
    this.useWasm = backend === 'wasm' || (backend === 'auto' && size >= WASM_MIN_SIZE);
  }

  /** The ranks [from, to) of n sorted values whose mean is the result. */
  protected abstract ranks(n: number): [number, number];

  /** Copies the update in; throws on NaN (and then keeps nothing of it). */
  add(update: Float32Array, weight: number): void {
    checkUpdate(update, weight, this.size);
    if (weight > 0) {
      for (let i = 0; i < update.length; i++) {
        if (update[i] !== update[i]) throw new Error(`Update value ${i} is NaN; robust aggregators need ordered values`);
      }
      this.rows.push(update.slice());
    }
    this.added += 1;
    this.weightSum += weight;
  }

  get count(): number {
    return this.added;
  }

  get totalWeight(): number {
    return this.weightSum;
  }

  /** Combines each coordinate's kept values; all zeros when nothing with weight > 0 was added. */
  finalize(): Float32Array {
    const out = new Float32Array(this.size);
    const reducer = this.reducer();
    if (reducer) for (let start = 0; start < this.size; start += reducer.block) reducer.reduceBlock(start, out);
    return out;
  }

  /**
   * {@link finalize}, a few blocks of columns per event-loop turn (at 50 × 1M the whole reduce
   * takes ~100 ms): sockets and Yjs are served between slices.
   */
  async delta(): Promise<Float32Array> {
    const out = new Float32Array(this.size);
    const reducer = this.reducer();
    if (!reducer) return out;
    let sliceStart = performance.now();
    for (let start = 0; start < this.size; start += reducer.block) {
      reducer.reduceBlock(start, out);
      if (performance.now() - sliceStart >= SLICE_MS) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        sliceStart = performance.now();
      }
    }
    return out;
  }

  private reducer(): ColumnReducer | null {
    const n = this.rows.length;
    if (n === 0) return null;
    const [from, to] = this.ranks(n);
    return (this.useWasm ? wasmColumnReducer(this.rows, this.size, from, to) : null) ?? jsColumnReducer(this.rows, this.size, from, to);
  }

  reset(): void {
    this.rows.length = 0;
    this.added = 0;
    this.weightSum = 0;
  }
}

/** The plain-loop reducer: per column, quickselect the ranks, then sum them in rank order. */
function jsColumnReducer(rows: Float32Array[], size: number, from: number, to: number): ColumnReducer {
  const n = rows.length;
  // Gathering one coordinate straight from n separate arrays touches n cache lines per value;
  // copying a block of every row into a tile first makes each gather an L2 hit.
  const block = Math.max(16, Math.min(size, Math.floor(TILE_BYTES / 4 / n)));
  const tile = new Float32Array(n * block);
  const column = new Float64Array(n);
  const kept = column.subarray(from, to);
  const reduceBlock = (start: number, out: Float32Array): void => {
    const len = Math.min(block, size - start);
    for (let k = 0; k < n; k++) tile.set(rows[k]!.subarray(start, start + len), k * block);
    for (let j = 0; j < len; j++) {
      for (let k = 0, at = j; k < n; k++, at += block) column[k] = tile[at]!;
      if (from > 0) select(column, from, 0, n - 1);
      if (to < n) select(column, to - 1, from, n - 1);
      // Float addition is not associative: sum in rank order, as the kernel does. Two values
      // commute exactly, so only longer ranges need sorting.
      if (to - from > 2) kept.sort();
      let sum = 0;
      for (let k = from; k < to; k++) sum += column[k]!;
      out[start + j] = sum / (to - from);
    }
  };
  return { block, reduceBlock };
}
