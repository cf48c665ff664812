/**
 * Sample-weighted mean of client updates, folded in one update at a time as they arrive.
 *
 * Accumulates in float64: a float32 running sum of many weighted updates loses low bits, and
 * which bits it loses depends on arrival order. With float64 the sum's error (~1e-16 relative) is
 * far below float32's resolution (~6e-8), so the mean rounds to the same float32 whatever the
 * order clients report in. The price, 8 bytes per parameter for one round, is small; measured on
 * 50 × 1M it costs 1.2–1.6× a float32 accumulator, still well under half the plain JS loop's time.
 *
 * Large accumulators run a WebAssembly SIMD kernel (below); small ones, and any runtime without
 * wasm SIMD, run the plain loop. Both do the same IEEE float64 operations in the same order per
 * value (multiply, add; scale by 1/W, round to float32), so the two give bit-identical results.
 */

/*
 * The kernel, assembled with wabt 1.0 (`wat2wasm --enable-simd`) at development time; only its bytes
 * are shipped. Memory layout per accumulator: [sum: float64 × size][scratch: float32 × CHUNK + 4 KiB].
 * Updates are copied into scratch a chunk at a time, so the copy stays in L1/L2 and the source is
 * read from RAM once.
 *
 * (module
 *   (import "env" "memory" (memory 1))
 *   ;; acc[i] += w * src[i], acc float64, src float32; 8 values per turn, then a scalar tail
 *   (func (export "axpy") (param $acc i32) (param $src i32) (param $n i32) (param $w f64)
 *     (local $wv v128) (local $end i32) (local $end8 i32)
 *     (local.set $wv (f64x2.splat (local.get $w)))
 *     (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 2))))
 *     (local.set $end8 (i32.add (local.get $src) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
 *     (block $done8 (loop $by8
 *       (br_if $done8 (i32.ge_u (local.get $src) (local.get $end8)))
 *       (v128.store offset=0 (local.get $acc) (f64x2.add (v128.load offset=0 (local.get $acc))
 *         (f64x2.mul (local.get $wv) (f64x2.promote_low_f32x4 (v128.load64_zero offset=0 (local.get $src))))))
 *       (v128.store offset=16 (local.get $acc) (f64x2.add (v128.load offset=16 (local.get $acc))
 *         (f64x2.mul (local.get $wv) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $src))))))
 *       (v128.store offset=32 (local.get $acc) (f64x2.add (v128.load offset=32 (local.get $acc))
 *         (f64x2.mul (local.get $wv) (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $src))))))
 *       (v128.store offset=48 (local.get $acc) (f64x2.add (v128.load offset=48 (local.get $acc))
 *         (f64x2.mul (local.get $wv) (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $src))))))
 *       (local.set $src (i32.add (local.get $src) (i32.const 32)))
 *       (local.set $acc (i32.add (local.get $acc) (i32.const 64)))
 *       (br $by8)))
 *     (block $done (loop $by1
 *       (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
 *       (f64.store (local.get $acc) (f64.add (f64.load (local.get $acc))
 *         (f64.mul (local.get $w) (f64.promote_f32 (f32.load (local.get $src))))))
 *       (local.set $src (i32.add (local.get $src) (i32.const 4)))
 *       (local.set $acc (i32.add (local.get $acc) (i32.const 8)))
 *       (br $by1))))
 *   ;; out[i] = f32(acc[i] * s): out float32, acc float64; 4 values per turn, then a scalar tail
 *   (func (export "scale") (param $out i32) (param $acc i32) (param $n i32) (param $s f64)
 *     (local $sv v128) (local $end i32) (local $end4 i32)
 *     (local.set $sv (f64x2.splat (local.get $s)))
 *     (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
 *     (local.set $end4 (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
 *     (block $done4 (loop $by4
 *       (br_if $done4 (i32.ge_u (local.get $out) (local.get $end4)))
 *       (v128.store (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
 *         (f32x4.demote_f64x2_zero (f64x2.mul (v128.load offset=0 (local.get $acc)) (local.get $sv)))
 *         (f32x4.demote_f64x2_zero (f64x2.mul (v128.load offset=16 (local.get $acc)) (local.get $sv)))))
 *       (local.set $out (i32.add (local.get $out) (i32.const 16)))
 *       (local.set $acc (i32.add (local.get $acc) (i32.const 32)))
 *       (br $by4)))
 *     (block $done (loop $by1
 *       (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
 *       (f32.store (local.get $out) (f32.demote_f64 (f64.mul (f64.load (local.get $acc)) (local.get $s))))
 *       (local.set $out (i32.add (local.get $out) (i32.const 4)))
 *       (local.set $acc (i32.add (local.get $acc) (i32.const 8)))
 *       (br $by1)))))
 */
const KERNEL_WASM_BASE64 =
  'AGFzbQEAAAABCAFgBH9/f3wAAg8BA2VudgZtZW1vcnkCAAEDAwIAAAcQAgRheHB5AAAFc2NhbGUA' +
  'AQqEAwLiAQIBewJ/IAP9FCEEIAEgAkECdGohBSABIAJBeHFBAnRqIQYCQANAIAEgBk8NASAAIAD9' +
  'AAQAIAQgAf1dAwD9X/3yAf3wAf0LBAAgACAA/QAEECAEIAH9XQMI/V/98gH98AH9CwQQIAAgAP0A' +
  'BCAgBCAB/V0DEP1f/fIB/fAB/QsEICAAIAD9AAQwIAQgAf1dAxj9X/3yAf3wAf0LBDAgAUEgaiEB' +
  'IABBwABqIQAMAAsLAkADQCABIAVPDQEgACAAKwMAIAMgASoCALuioDkDACABQQRqIQEgAEEIaiEA' +
  'DAALCwudAQIBewJ/IAP9FCEEIAAgAkECdGohBSAAIAJBfHFBAnRqIQYCQANAIAAgBk8NASAAIAH9' +
  'AAQAIAT98gH9XiAB/QAEECAE/fIB/V79DQABAgMEBQYHEBESExQVFhf9CwQAIABBEGohACABQSBq' +
  'IQEMAAsLAkADQCAAIAVPDQEgACABKwMAIAOitjgCACAAQQRqIQAgAUEIaiEBDAALCws=';

/** Values copied into wasm memory per kernel call: 64 KiB of float32, small enough to stay in L2. */
const CHUNK = 16384;
/** Below this many values the plain loop is as fast and saves a wasm memory per accumulator. */
const WASM_MIN_SIZE = 4096;
const WASM_PAGE = 65536;

/**
 * Where in a scratch area (page-aligned, CHUNK × 4 + 4096 bytes) to put a chunk copied to or from
 * a JS buffer at `jsByteOffset`. Copies between addresses that agree in their low 12 bits run ~10×
 * slower (4K aliasing: each load waits on the store before it); measured: 64 KiB chunks from a
 * page-aligned scratch into a page-aligned Float32Array took 1.5 ms per 4 MB instead of 0.13.
 * Large ArrayBuffers start on a page, so half a page off their offset keeps the two apart.
 */
export function scratchOffset(jsByteOffset: number): number {
  return ((jsByteOffset % 4096) + 2048) & 4080;
}

interface KernelExports {
  axpy(accPtr: number, srcPtr: number, n: number, w: number): void;
  scale(outPtr: number, accPtr: number, n: number, s: number): void;
}

let kernelModule: WebAssembly.Module | null | undefined;

function loadKernel(): WebAssembly.Module | null {
  if (kernelModule !== undefined) return kernelModule;
  kernelModule = null;
  try {
    if (typeof WebAssembly !== 'object' || typeof atob !== 'function') return null;
    const bytes = Uint8Array.from(atob(KERNEL_WASM_BASE64), (c) => c.charCodeAt(0));
    // validate() is false where SIMD is unsupported; the module is tiny, so sync compile is allowed everywhere.
    if (WebAssembly.validate(bytes)) kernelModule = new WebAssembly.Module(bytes);
  } catch {
    kernelModule = null;
  }
  return kernelModule;
}

/** True when this runtime can run the WebAssembly SIMD accumulation kernel. */
export function wasmSimdAvailable(): boolean {
  return loadKernel() !== null;
}

/** Which implementation an accumulator runs: 'auto' picks wasm for large sizes when available. */
export type AccumulatorBackend = 'auto' | 'wasm' | 'js';

/** Where the float64 running sum lives and how update bytes are folded into it. */
interface SumStore {
  readonly backend: 'wasm' | 'js';
  addBytes(bytes: Uint8Array, weight: number): void;
  addFloats(values: Float32Array, weight: number): void;
  /** out[j] = float32(sum[start + j] · scale) for j < out.length. */
  scaleInto(start: number, out: Float32Array, scale: number): void;
  /** Sets the sum back to zero, in the memory it already has. */
  reset(): void;
}

class JsSumStore implements SumStore {
  readonly backend = 'js';
  private readonly sum: Float64Array;

  constructor(size: number) {
    this.sum = new Float64Array(size);
  }

  addBytes(bytes: Uint8Array, weight: number): void {
    // A Float32Array view needs 4-byte alignment; socket.io buffers often are not aligned.
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    this.addFloats(new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4), weight);
  }

  addFloats(values: Float32Array, weight: number): void {
    const sum = this.sum;
    for (let i = 0; i < sum.length; i++) sum[i]! += weight * values[i]!;
  }

  scaleInto(start: number, out: Float32Array, scale: number): void {
    const sum = this.sum;
    for (let j = 0; j < out.length; j++) out[j] = sum[start + j]! * scale;
  }

  reset(): void {
    this.sum.fill(0);
  }
}

class WasmSumStore implements SumStore {
  readonly backend = 'wasm';
  private readonly kernel: KernelExports;
  private readonly memory: WebAssembly.Memory;
  private readonly bytes: Uint8Array;
  private readonly scratchBase: number;

  constructor(
    module: WebAssembly.Module,
    private readonly size: number,
  ) {
    this.scratchBase = Math.ceil((size * 8) / 4096) * 4096;
    const pages = Math.ceil((this.scratchBase + CHUNK * 4 + 4096) / WASM_PAGE);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.kernel = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports as unknown as KernelExports;
    // The memory never grows, so this view stays valid for the accumulator's life.
    this.bytes = new Uint8Array(this.memory.buffer);
  }

  addBytes(bytes: Uint8Array, weight: number): void {
    const { kernel } = this;
    const scratchPtr = this.scratchBase + scratchOffset(bytes.byteOffset);
    for (let start = 0; start < this.size; start += CHUNK) {
      const n = Math.min(CHUNK, this.size - start);
      this.bytes.set(bytes.subarray(start * 4, (start + n) * 4), scratchPtr);
      kernel.axpy(start * 8, scratchPtr, n, weight);
    }
  }

  addFloats(values: Float32Array, weight: number): void {
    this.addBytes(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), weight);
  }

  reset(): void {
    this.bytes.fill(0, 0, this.size * 8);
  }

  scaleInto(start: number, out: Float32Array, scale: number): void {
    const { kernel } = this;
    const scratchPtr = this.scratchBase + scratchOffset(out.byteOffset);
    const scratch = new Float32Array(this.memory.buffer, scratchPtr, CHUNK);
    for (let done = 0; done < out.length; done += CHUNK) {
      const n = Math.min(CHUNK, out.length - done);
      kernel.scale(scratchPtr, (start + done) * 8, n, scale);
      out.set(n === CHUNK ? scratch : scratch.subarray(0, n), done);
    }
  }
}

function createStore(size: number, backend: AccumulatorBackend): SumStore {
  if (backend === 'js' || (backend === 'auto' && size < WASM_MIN_SIZE)) return new JsSumStore(size);
  const module = loadKernel();
  // wasm32 addresses 4 GiB; past that (about 500M parameters) only the plain loop can hold the sum.
  const fits = size * 8 + CHUNK * 4 + 8192 <= 2 ** 32 - WASM_PAGE;
  if (module && fits) {
    try {
      return new WasmSumStore(module, size);
    } catch (err) {
      if (backend === 'wasm') throw err;
    }
  } else if (backend === 'wasm') {
    throw new Error(fits ? 'WebAssembly SIMD is not available here' : `Too many values (${size}) for a wasm accumulator`);
  }
  return new JsSumStore(size);
}

/** Options for {@link WeightedMeanAccumulator}; tests force a backend to compare the two. */
export interface AccumulatorOptions {
  backend?: AccumulatorBackend;
}

/** Streaming sample-weighted mean of float32 updates (see the top of this file). */
export class WeightedMeanAccumulator {
  private readonly store: SumStore;
  private weightSum = 0;
  private updates = 0;

  /** An empty accumulator for updates of `size` values. */
  constructor(
    readonly size: number,
    options: AccumulatorOptions = {},
  ) {
    if (!Number.isInteger(size) || size < 0) throw new Error(`Accumulator size must be a whole number >= 0, got ${size}`);
    this.store = createStore(size, options.backend ?? 'auto');
  }

  /** 'wasm' when the SIMD kernel does the work, 'js' for the plain loop. */
  get backend(): 'wasm' | 'js' {
    return this.store.backend;
  }

  /** Folds in one update with weight `weight` (its sample count); weight 0 counts but adds nothing. */
  add(delta: Float32Array, weight: number): void {
    if (delta.length !== this.size) throw new Error(`Update has ${delta.length} values; expected ${this.size}`);
    if (this.accept(weight)) this.store.addFloats(delta, weight);
  }

  /**
   * Like {@link add}, straight from the received bytes (little-endian float32, any alignment), as
   * socket.io delivers them: the copy into the kernel's memory is the only decode.
   */
  addBytes(bytes: Uint8Array, weight: number): void {
    if (bytes.byteLength !== this.size * 4) throw new Error(`Update has ${bytes.byteLength} bytes; expected ${this.size * 4} (${this.size} values)`);
    if (this.accept(weight)) this.store.addBytes(bytes, weight);
  }

  /** Checks the weight and counts the update; false when there is nothing to fold in. */
  private accept(weight: number): boolean {
    if (!Number.isFinite(weight) || weight < 0) throw new Error(`Update weight must be finite and >= 0, got ${weight}`);
    this.updates += 1;
    if (weight === 0) return false;
    this.weightSum += weight;
    return true;
  }

  /**
   * Empties the accumulator for another round. Reusing one is much faster than making a new one:
   * a new wasm memory is fresh pages, and the OS faults each in on first touch (measured at 1M
   * values × 50 updates: ~55 ms fresh against ~25 ms reused).
   */
  reset(): void {
    this.store.reset();
    this.weightSum = 0;
    this.updates = 0;
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
    this.meanInto(0, out);
    return out;
  }

  /**
   * Values [start, start + out.length) of the weighted mean, written to `out`: lets a server
   * optimizer stream the mean chunk by chunk instead of materialising it (see ServerOptimizer.step).
   */
  meanInto(start: number, out: Float32Array): void {
    if (!(Number.isInteger(start) && start >= 0 && start + out.length <= this.size)) {
      throw new Error(`Range ${start}..${start + out.length} is outside 0..${this.size}`);
    }
    if (this.weightSum === 0) {
      out.fill(0);
      return;
    }
    // × (1/W) rather than ÷ W: a quarter of the time, and still exact for equal inputs, since
    // (W·u)·fl(1/W) is within 2⁻⁵² of u relative, far inside float32's half-ulp, so it rounds to u.
    this.store.scaleInto(start, out, 1 / this.weightSum);
  }
}

/** global + delta, as a new buffer (the inputs are left untouched). */
export function applyDelta(global: Float32Array, delta: Float32Array): Float32Array {
  if (global.length !== delta.length) throw new Error(`Delta has ${delta.length} values; weights have ${global.length}`);
  const out = new Float32Array(global.length);
  for (let i = 0; i < out.length; i++) out[i] = global[i]! + delta[i]!;
  return out;
}
