/**
 * The reduce step of the coordinate-wise robust aggregators, on a WebAssembly SIMD kernel.
 *
 * Closing a round copies a block of every kept update into a tile, sorts the tile's columns with
 * a sorting network (Batcher's odd–even merge sort) and averages each column's ranks [from, to)
 * in float64, in rank order. A sorting network applies the same compare-exchange sequence to every
 * column, so it runs 4 columns per instruction (f32x4 pmin/pmax) with no data-dependent branches —
 * per-column quickselect, the plain-loop alternative in rank-mean.ts, cannot vectorise. The two
 * sum the same ranks in the same order, so they give identical bits.
 *
 * Only the tile lives in wasm memory, made fresh for each reduce: updates stay in JS arrays as
 * they arrive (growing wasm memory update by update cost ~3 ms of page faults per 4 MB).
 */

/*
 * Assembled with wabt 1.0 (`wat2wasm --enable-simd`) at development time; only the bytes ship.
 * Memory layout: [row table: n × i32][pairs: 2 × i32 each][tile: n rows × B float32][result: B].
 * B × 4 ≡ 17 cache lines mod 4 KiB, so the n rows of a tile fall in different cache sets.
 *
 * (module
 *   (import "env" "memory" (memory 1))
 *   ;; Runs a sorting network down `count` columns (a multiple of 4) starting `off` bytes into each row.
 *   ;; rows: i32 table of row addresses; pairs: npairs × (i32, i32) byte offsets into that table.
 *   ;; pmin/pmax: one instruction each. They may turn a -0 into +0 (zeros compare equal), which
 *   ;; no result can show: mean_rows sums from +0, and x + -0 = x for every x, +0 included.
 *   (func (export "sort") (param $rows i32) (param $pairs i32) (param $npairs i32) (param $off i32) (param $count i32)
 *     (local $pend i32) (local $a i32) (local $b i32) (local $end i32) (local $x v128) (local $y v128)
 *     (local.set $pend (i32.add (local.get $pairs) (i32.shl (local.get $npairs) (i32.const 3))))
 *     (block $pdone (loop $pair
 *       (br_if $pdone (i32.ge_u (local.get $pairs) (local.get $pend)))
 *       (local.set $a (i32.add (i32.load (i32.add (local.get $rows) (i32.load offset=0 (local.get $pairs)))) (local.get $off)))
 *       (local.set $b (i32.add (i32.load (i32.add (local.get $rows) (i32.load offset=4 (local.get $pairs)))) (local.get $off)))
 *       (local.set $end (i32.add (local.get $a) (i32.shl (local.get $count) (i32.const 2))))
 *       (block $done (loop $turn
 *         (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
 *         (local.set $x (v128.load (local.get $a)))
 *         (local.set $y (v128.load (local.get $b)))
 *         (v128.store (local.get $a) (f32x4.pmin (local.get $x) (local.get $y)))
 *         (v128.store (local.get $b) (f32x4.pmax (local.get $x) (local.get $y)))
 *         (local.set $a (i32.add (local.get $a) (i32.const 16)))
 *         (local.set $b (i32.add (local.get $b) (i32.const 16)))
 *         (br $turn)))
 *       (local.set $pairs (i32.add (local.get $pairs) (i32.const 8)))
 *       (br $pair))))
 *   ;; out[j] = f32((sum over rows from..to-1, in row order, in float64) / (to - from)), for
 *   ;; `count` columns (a multiple of 2) starting `off` bytes into each row.
 *   (func (export "mean_rows") (param $out i32) (param $rows i32) (param $from i32) (param $to i32) (param $off i32) (param $count i32)
 *     (local $end i32) (local $k i32) (local $kend i32) (local $s v128) (local $m v128)
 *     (local.set $m (f64x2.splat (f64.convert_i32_u (i32.sub (local.get $to) (local.get $from)))))
 *     (local.set $end (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2))))
 *     (local.set $from (i32.add (local.get $rows) (i32.shl (local.get $from) (i32.const 2))))
 *     (local.set $kend (i32.add (local.get $rows) (i32.shl (local.get $to) (i32.const 2))))
 *     (block $done (loop $turn
 *       (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
 *       (local.set $s (v128.const f64x2 0 0))
 *       (local.set $k (local.get $from))
 *       (block $kdone (loop $row
 *         (br_if $kdone (i32.ge_u (local.get $k) (local.get $kend)))
 *         (local.set $s (f64x2.add (local.get $s) (f64x2.promote_low_f32x4
 *           (v128.load64_zero (i32.add (i32.load (local.get $k)) (local.get $off))))))
 *         (local.set $k (i32.add (local.get $k) (i32.const 4)))
 *         (br $row)))
 *       (v128.store64_lane 0 (local.get $out) (f32x4.demote_f64x2_zero (f64x2.div (local.get $s) (local.get $m))))
 *       (local.set $out (i32.add (local.get $out) (i32.const 8)))
 *       (local.set $off (i32.add (local.get $off) (i32.const 8)))
 *       (br $turn))))
 * )
 */
const KERNEL_WASM_BASE64 =
  'AGFzbQEAAAABEgJgBX9/f39/AGAGf39/f39/AAIPAQNlbnYGbWVtb3J5AgABAwMCAAEHFAIEc29y' +
  'dAAACW1lYW5fcm93cwABCroCApcBAgR/AnsgASACQQN0aiEFAkADQCABIAVPDQEgACABKAIAaigC' +
  'ACADaiEGIAAgASgCBGooAgAgA2ohByAGIARBAnRqIQgCQANAIAYgCE8NASAG/QAEACEJIAf9AAQA' +
  'IQogBiAJIAr96gH9CwQAIAcgCSAK/esB/QsEACAGQRBqIQYgB0EQaiEHDAALCyABQQhqIQEMAAsL' +
  'C54BAgN/AnsgAyACa7j9FCEKIAAgBUECdGohBiABIAJBAnRqIQIgASADQQJ0aiEIAkADQCAAIAZP' +
  'DQH9DAAAAAAAAAAAAAAAAAAAAAAhCSACIQcCQANAIAcgCE8NASAJIAcoAgAgBGr9XQMA/V/98AEh' +
  'CSAHQQRqIQcMAAsLIAAgCSAK/fMB/V79WwMAACAAQQhqIQAgBEEIaiEEDAALCws=';

import { compileSimdModule, WASM_PAGE } from './wasm';

/** Bytes of one tile (n rows × B columns): about L2, so the network's passes stay in cache. */
const TILE_BYTES = 512 * 1024;

interface KernelExports {
  sort(rows: number, pairs: number, npairs: number, off: number, count: number): void;
  mean_rows(out: number, rows: number, from: number, to: number, off: number, count: number): void;
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled kernel, or null where wasm SIMD is missing. */
export function robustKernel(): WebAssembly.Module | null {
  if (compiled === undefined) compiled = compileSimdModule(KERNEL_WASM_BASE64);
  return compiled;
}

const networks = new Map<number, Int32Array>();

/**
 * Compare-exchange pairs (i < j: min to i, max to j), flattened, of Batcher's odd–even merge sort
 * for n inputs: the power-of-two network with every comparator that reaches past n dropped, which
 * still sorts (think of the missing inputs as +∞: comparators touching them never swap).
 */
export function sortingNetwork(n: number): Int32Array {
  const cached = networks.get(n);
  if (cached) return cached;
  const pairs: number[] = [];
  for (let p = 1; p < n; p += p) {
    for (let k = p; k >= 1; k >>= 1) {
      for (let j = k % p; j + k < n; j += k + k) {
        for (let i = 0; i < k && i + j + k < n; i++) {
          if (Math.floor((i + j) / (p + p)) === Math.floor((i + j + k) / (p + p))) pairs.push(i + j, i + j + k);
        }
      }
    }
  }
  const network = Int32Array.from(pairs);
  networks.set(n, network);
  return network;
}

/**
 * Reduces the columns of `rows` (n updates of `size` values) a block at a time: each column
 * becomes the float64 mean of its sorted ranks [from, to), summed in rank order, as float32.
 * `reduceBlock(start, out)` fills out[start, start + len) for the block starting at `start`
 * (a multiple of `block`); callers may spread the blocks over several event-loop turns.
 */
export interface ColumnReducer {
  readonly block: number;
  reduceBlock(start: number, out: Float32Array): void;
}

/** The wasm SIMD column reducer; null when the kernel is unavailable. */
export function wasmColumnReducer(rows: readonly Float32Array[], size: number, from: number, to: number): ColumnReducer | null {
  const module = robustKernel();
  if (!module) return null;
  const n = rows.length;
  const network = sortingNetwork(n);
  // B: a multiple of 4 (whole SIMD turns) with B × 4 ≡ 1088 (mod 4096); no wider than needed.
  // Measured at n = 50 over 1M: B = 272 copies tiles in 67 ms, B ≥ 2320 in 25 ms; the sort, ~105 ms,
  // hardly changes.
  const block = Math.min(Math.floor(TILE_BYTES / 4 / n / 1024) * 1024 + 272, Math.ceil(size / 4) * 4);
  const rowTable = 0;
  const pairsAt = Math.ceil((n * 4) / 64) * 64;
  const tile = Math.ceil((pairsAt + network.length * 4) / 4096) * 4096;
  const result = tile + n * block * 4;
  const memory = new WebAssembly.Memory({ initial: Math.ceil((result + block * 4 + 4096) / WASM_PAGE) });
  const kernel = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
  const buffer = memory.buffer;
  const table = new Int32Array(buffer, rowTable, n);
  for (let k = 0; k < n; k++) table[k] = tile + k * block * 4;
  const pairs = new Int32Array(buffer, pairsAt, network.length);
  for (let i = 0; i < network.length; i++) pairs[i] = network[i]! * 4; // byte offsets into the row table
  const npairs = network.length / 2;
  const tileView = new Float32Array(buffer, tile, n * block);
  const resultView = new Float32Array(buffer, result, block);
  return {
    block,
    reduceBlock(start: number, out: Float32Array): void {
      const len = Math.min(block, size - start);
      for (let k = 0; k < n; k++) tileView.set(rows[k]!.subarray(start, start + len), k * block);
      // Lanes past len hold stale values; columns never mix, so they only produce ignored results.
      const lanes = Math.ceil(len / 4) * 4;
      if (npairs > 0) kernel.sort(rowTable, pairsAt, npairs, 0, lanes);
      kernel.mean_rows(result, rowTable, from, to, 0, lanes);
      out.set(len === block ? resultView : resultView.subarray(0, len), start);
    },
  };
}
