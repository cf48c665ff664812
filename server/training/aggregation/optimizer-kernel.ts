/**
 * The per-parameter arithmetic of the server optimizers, in two interchangeable backends: a
 * WebAssembly SIMD kernel (f32x4) for large models and a plain loop. Both compute in float32 —
 * every operation rounded to float32 in the same order (the loop via Math.fround, which for + − × ÷
 * and √ gives exactly the float32 result) — so they produce identical bits, and a checkpoint
 * written by one resumes exactly on the other. Float32 because it is what the weights are, and
 * it lets the kernel do 4 lanes per instruction: adam over 1M parameters is under a millisecond.
 */

/*
 * Assembled with wabt 1.0 (`wat2wasm --enable-simd`) at development time; only the bytes ship.
 * Memory layout: [first moment: float32 × padded size][second moment: same][w area][Δ area], with
 * padded size = size rounded up to 4 so every call can run whole 4-lane turns, and each area a
 * page-aligned CHUNK × 4 + 4096 bytes, where chunks sit at scratchOffset() (see aggregate.ts).
 *
 * (module
 *   (import "env" "memory" (memory 1))
 *   ;; All float32, 4 lanes per turn; n is rounded up to a multiple of 4 by the caller's padding.
 *   ;; plain: w[i] = w[i] + lr*d[i]  (in place)
 *   (func (export "plain") (param $w i32) (param $d i32) (param $n i32) (param $lr f32)
 *     (local $lrv v128) (local $end i32)
 *     (local.set $lrv (f32x4.splat (local.get $lr)))
 *     (local.set $end (i32.add (local.get $w) (i32.shl (local.get $n) (i32.const 2))))
 *     (block $done (loop $turn
 *       (br_if $done (i32.ge_u (local.get $w) (local.get $end)))
 *       (v128.store (local.get $w) (f32x4.add (v128.load (local.get $w))
 *         (f32x4.mul (local.get $lrv) (v128.load (local.get $d)))))
 *       (local.set $w (i32.add (local.get $w) (i32.const 16)))
 *       (local.set $d (i32.add (local.get $d) (i32.const 16)))
 *       (br $turn))))
 *   ;; momentum: u[i] = mu*u[i] + d[i]; w[i] = w[i] + lr*u[i]
 *   (func (export "momentum") (param $w i32) (param $d i32) (param $u i32) (param $n i32) (param $lr f32) (param $mu f32)
 *     (local $lrv v128) (local $muv v128) (local $x v128) (local $end i32)
 *     (local.set $lrv (f32x4.splat (local.get $lr)))
 *     (local.set $muv (f32x4.splat (local.get $mu)))
 *     (local.set $end (i32.add (local.get $w) (i32.shl (local.get $n) (i32.const 2))))
 *     (block $done (loop $turn
 *       (br_if $done (i32.ge_u (local.get $w) (local.get $end)))
 *       (local.set $x (f32x4.add (f32x4.mul (local.get $muv) (v128.load (local.get $u))) (v128.load (local.get $d))))
 *       (v128.store (local.get $u) (local.get $x))
 *       (v128.store (local.get $w) (f32x4.add (v128.load (local.get $w)) (f32x4.mul (local.get $lrv) (local.get $x))))
 *       (local.set $w (i32.add (local.get $w) (i32.const 16)))
 *       (local.set $d (i32.add (local.get $d) (i32.const 16)))
 *       (local.set $u (i32.add (local.get $u) (i32.const 16)))
 *       (br $turn))))
 *   ;; adam (variant 0), yogi (1), adagrad (2):
 *   ;;   m = b1*m + k1*d;  v = per variant;  w = w + (lr*m) / (sqrt(v) + tau)
 *   (func (export "adaptive") (param $w i32) (param $d i32) (param $m i32) (param $v i32) (param $n i32)
 *       (param $lr f32) (param $b1 f32) (param $k1 f32) (param $b2 f32) (param $k2 f32) (param $tau f32) (param $variant i32)
 *     (local $lrv v128) (local $b1v v128) (local $k1v v128) (local $b2v v128) (local $k2v v128) (local $tauv v128)
 *     (local $dd v128) (local $d2 v128) (local $mm v128) (local $vv v128) (local $t v128) (local $x v128) (local $end i32)
 *     (local.set $lrv (f32x4.splat (local.get $lr)))
 *     (local.set $b1v (f32x4.splat (local.get $b1)))
 *     (local.set $k1v (f32x4.splat (local.get $k1)))
 *     (local.set $b2v (f32x4.splat (local.get $b2)))
 *     (local.set $k2v (f32x4.splat (local.get $k2)))
 *     (local.set $tauv (f32x4.splat (local.get $tau)))
 *     (local.set $end (i32.add (local.get $w) (i32.shl (local.get $n) (i32.const 2))))
 *     (block $done (loop $turn
 *       (br_if $done (i32.ge_u (local.get $w) (local.get $end)))
 *       (local.set $dd (v128.load (local.get $d)))
 *       (local.set $d2 (f32x4.mul (local.get $dd) (local.get $dd)))
 *       (local.set $mm (f32x4.add (f32x4.mul (local.get $b1v) (v128.load (local.get $m))) (f32x4.mul (local.get $k1v) (local.get $dd))))
 *       (local.set $vv (v128.load (local.get $v)))
 *       (if (i32.eqz (local.get $variant))
 *         (then (local.set $vv (f32x4.add (f32x4.mul (local.get $b2v) (local.get $vv)) (f32x4.mul (local.get $k2v) (local.get $d2)))))
 *         (else (if (i32.eq (local.get $variant) (i32.const 1))
 *           (then
 *             ;; v - k2*d2*sign(v - d2): subtract where v > d2, add where v < d2, keep where equal
 *             (local.set $t (f32x4.mul (local.get $k2v) (local.get $d2)))
 *             (local.set $x (f32x4.sub (local.get $vv) (local.get $d2)))
 *             (local.set $vv (v128.bitselect
 *               (f32x4.sub (local.get $vv) (local.get $t))
 *               (v128.bitselect (f32x4.add (local.get $vv) (local.get $t)) (local.get $vv)
 *                 (f32x4.lt (local.get $x) (v128.const f32x4 0 0 0 0)))
 *               (f32x4.gt (local.get $x) (v128.const f32x4 0 0 0 0)))))
 *           (else (local.set $vv (f32x4.add (local.get $vv) (local.get $d2)))))))
 *       (v128.store (local.get $m) (local.get $mm))
 *       (v128.store (local.get $v) (local.get $vv))
 *       (v128.store (local.get $w) (f32x4.add (v128.load (local.get $w))
 *         (f32x4.div (f32x4.mul (local.get $lrv) (local.get $mm)) (f32x4.add (f32x4.sqrt (local.get $vv)) (local.get $tauv)))))
 *       (local.set $w (i32.add (local.get $w) (i32.const 16)))
 *       (local.set $d (i32.add (local.get $d) (i32.const 16)))
 *       (local.set $m (i32.add (local.get $m) (i32.const 16)))
 *       (local.set $v (i32.add (local.get $v) (i32.const 16)))
 *       (br $turn))))
 * )
 */
const KERNEL_WASM_BASE64 =
  'AGFzbQEAAAABIANgBH9/f30AYAZ/f39/fX0AYAx/f39/f319fX19fX8AAg8BA2VudgZtZW1vcnkC' +
  'AAEDBAMAAQIHHwMFcGxhaW4AAAhtb21lbnR1bQABCGFkYXB0aXZlAAIKiAQDTQIBewF/IAP9EyEE' +
  'IAAgAkECdGohBQJAA0AgACAFTw0BIAAgAP0ABAAgBCAB/QAEAP3mAf3kAf0LBAAgAEEQaiEAIAFB' +
  'EGohAQwACwsLdAIDewF/IAT9EyEGIAX9EyEHIAAgA0ECdGohCQJAA0AgACAJTw0BIAcgAv0ABAD9' +
  '5gEgAf0ABAD95AEhCCACIAj9CwQAIAAgAP0ABAAgBiAI/eYB/eQB/QsEACAAQRBqIQAgAUEQaiEB' +
  'IAJBEGohAgwACwsLwgICDHsBfyAF/RMhDCAG/RMhDSAH/RMhDiAI/RMhDyAJ/RMhECAK/RMhESAA' +
  'IARBAnRqIRgCQANAIAAgGE8NASAB/QAEACESIBIgEv3mASETIA0gAv0ABAD95gEgDiAS/eYB/eQB' +
  'IRQgA/0ABAAhFSALRQRAIA8gFf3mASAQIBP95gH95AEhFQUgC0EBRgRAIBAgE/3mASEWIBUgE/3l' +
  'ASEXIBUgFv3lASAVIBb95AEgFSAX/QwAAAAAAAAAAAAAAAAAAAAA/UP9UiAX/QwAAAAAAAAAAAAA' +
  'AAAAAAAA/UT9UiEVBSAVIBP95AEhFQsLIAIgFP0LBAAgAyAV/QsEACAAIAD9AAQAIAwgFP3mASAV' +
  '/eMBIBH95AH95wH95AH9CwQAIABBEGohACABQRBqIQEgAkEQaiECIANBEGohAwwACwsL';

import { scratchOffset } from '../../../workers/ml/aggregate';
import { compileSimdModule, WASM_PAGE } from './wasm';

/** Values copied into wasm memory per call: 64 KiB per operand, so the copies stay in L2. */
const CHUNK = 16384;
/** Below this many parameters the plain loop is fast enough and needs no wasm memory. */
const WASM_MIN_SIZE = 4096;
/** Bytes of one scratch area: a chunk plus room to shift it off the JS buffer's 4 KiB alignment. */
const AREA = CHUNK * 4 + 4096;

/** The optimizer's rule and hyperparameters, already rounded to float32. */
export interface KernelParams {
  rule: 'plain' | 'momentum' | 'adam' | 'yogi' | 'adagrad';
  lr: number;
  beta1: number;
  beta2: number;
  tau: number;
  momentum: number;
}

/**
 * Where a step reads Δ from: a vector, or anything that writes a range of it on request — such as
 * a WeightedMeanAccumulator, whose mean then streams through in chunks and is never materialised.
 */
export type DeltaSource = Float32Array | { readonly size: number; meanInto(start: number, out: Float32Array): void };

/** Per-parameter state plus the update rule over it. */
export interface OptimizerKernel {
  readonly backend: 'wasm' | 'js';
  /** First moment m, or velocity u for momentum; null for plain. Exactly `size` long. */
  readonly first: Float32Array | null;
  /** Second moment v; null for plain and momentum. */
  readonly second: Float32Array | null;
  /** out = rule(weights, delta), updating the state; `out` may be `weights`. */
  step(weights: Float32Array, delta: DeltaSource, out: Float32Array, p: KernelParams): void;
}

interface KernelExports {
  plain(w: number, d: number, n: number, lr: number): void;
  momentum(w: number, d: number, u: number, n: number, lr: number, mu: number): void;
  adaptive(w: number, d: number, m: number, v: number, n: number, lr: number, b1: number, k1: number, b2: number, k2: number, tau: number, variant: number): void;
}

let compiled: WebAssembly.Module | null | undefined;

function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) compiled = compileSimdModule(KERNEL_WASM_BASE64);
  return compiled;
}

const stateCount = (rule: KernelParams['rule']): number => (rule === 'plain' ? 0 : rule === 'momentum' ? 1 : 2);

/** A kernel for `size` parameters; backend 'auto' picks wasm for large sizes where available. */
export function createOptimizerKernel(size: number, p: KernelParams, backend: 'auto' | 'wasm' | 'js' = 'auto'): OptimizerKernel {
  if (backend === 'js' || (backend === 'auto' && size < WASM_MIN_SIZE)) return new JsKernel(size, p);
  const module = kernelModule();
  const padded = Math.ceil(size / 4) * 4;
  const bytes = Math.ceil((padded * 4 * stateCount(p.rule)) / 4096) * 4096 + 2 * AREA;
  if (module && bytes <= 2 ** 32 - WASM_PAGE) {
    try {
      return new WasmKernel(module, size, p);
    } catch (err) {
      if (backend === 'wasm') throw err;
    }
  } else if (backend === 'wasm') {
    throw new Error(module ? `Too many parameters (${size}) for a wasm optimizer` : 'WebAssembly SIMD is not available here');
  }
  return new JsKernel(size, p);
}

class JsKernel implements OptimizerKernel {
  readonly backend = 'js';
  readonly first: Float32Array | null;
  readonly second: Float32Array | null;

  constructor(size: number, p: KernelParams) {
    const states = stateCount(p.rule);
    this.first = states >= 1 ? new Float32Array(size) : null;
    this.second = states >= 2 ? new Float32Array(size).fill(Math.fround(p.tau * p.tau)) : null;
  }

  step(weights: Float32Array, source: DeltaSource, out: Float32Array, p: KernelParams): void {
    let delta: Float32Array;
    if (source instanceof Float32Array) delta = source;
    else source.meanInto(0, (delta = new Float32Array(out.length)));
    const f = Math.fround;
    const { lr, beta1, beta2, tau, momentum } = p;
    const n = out.length;
    if (p.rule === 'plain') {
      for (let i = 0; i < n; i++) out[i] = weights[i]! + f(lr * delta[i]!);
      return;
    }
    const m = this.first!;
    if (p.rule === 'momentum') {
      for (let i = 0; i < n; i++) {
        const u = f(f(momentum * m[i]!) + delta[i]!);
        m[i] = u;
        out[i] = weights[i]! + f(lr * u);
      }
      return;
    }
    const v = this.second!;
    const variant = p.rule === 'adam' ? 0 : p.rule === 'yogi' ? 1 : 2;
    const k1 = f(1 - beta1);
    const k2 = f(1 - beta2);
    for (let i = 0; i < n; i++) {
      const d = delta[i]!;
      const d2 = f(d * d);
      const mi = f(f(beta1 * m[i]!) + f(k1 * d));
      let vi = v[i]!;
      if (variant === 0) vi = f(f(beta2 * vi) + f(k2 * d2));
      else if (variant === 1) {
        // Yogi: v − k2·d²·sign(v − d²), as a subtract, an add or nothing.
        const t = f(k2 * d2);
        if (vi > d2) vi = f(vi - t);
        else if (vi < d2) vi = f(vi + t);
      } else vi = f(vi + d2);
      m[i] = mi;
      v[i] = vi;
      // Storing into the Float32Array does the last rounding.
      out[i] = weights[i]! + f(f(lr * mi) / f(f(Math.sqrt(vi)) + tau));
    }
  }
}

class WasmKernel implements OptimizerKernel {
  readonly backend = 'wasm';
  readonly first: Float32Array | null;
  readonly second: Float32Array | null;
  private readonly kernel: KernelExports;
  private readonly memory: WebAssembly.Memory;
  private readonly firstPtr: number;
  private readonly secondPtr: number;
  private readonly wArea: number;
  private readonly dArea: number;

  constructor(
    module: WebAssembly.Module,
    private readonly size: number,
    p: KernelParams,
  ) {
    const padded = Math.ceil(size / 4) * 4;
    const states = stateCount(p.rule);
    this.firstPtr = 0;
    this.secondPtr = padded * 4;
    this.wArea = Math.ceil((padded * 4 * states) / 4096) * 4096;
    this.dArea = this.wArea + AREA;
    const pages = Math.ceil((this.dArea + AREA) / WASM_PAGE);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.kernel = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports as unknown as KernelExports;
    // The memory never grows, so these views stay valid.
    const buffer = this.memory.buffer;
    this.first = states >= 1 ? new Float32Array(buffer, this.firstPtr, size) : null;
    if (states >= 2) {
      // The padding lanes get τ² too, so they never divide zero by zero (harmless, but tidy).
      new Float32Array(buffer, this.secondPtr, padded).fill(Math.fround(p.tau * p.tau));
      this.second = new Float32Array(buffer, this.secondPtr, size);
    } else this.second = null;
  }

  step(weights: Float32Array, delta: DeltaSource, out: Float32Array, p: KernelParams): void {
    const { kernel } = this;
    const wPtr = this.wArea + scratchOffset(weights.byteOffset);
    const dPtr = this.dArea + (delta instanceof Float32Array ? scratchOffset(delta.byteOffset) : 0);
    const buffer = this.memory.buffer;
    const wChunk = new Float32Array(buffer, wPtr, CHUNK);
    const dChunk = new Float32Array(buffer, dPtr, CHUNK);
    const variant = p.rule === 'adam' ? 0 : p.rule === 'yogi' ? 1 : 2;
    const k1 = Math.fround(1 - p.beta1);
    const k2 = Math.fround(1 - p.beta2);
    for (let start = 0; start < this.size; start += CHUNK) {
      const n = Math.min(CHUNK, this.size - start);
      // Whole 4-lane turns: past n the lanes work on stale chunk data and write only padding.
      const lanes = Math.ceil(n / 4) * 4;
      wChunk.set(weights.subarray(start, start + n));
      if (delta instanceof Float32Array) dChunk.set(delta.subarray(start, start + n));
      else delta.meanInto(start, n === CHUNK ? dChunk : dChunk.subarray(0, n));
      const stateOffset = start * 4;
      if (p.rule === 'plain') kernel.plain(wPtr, dPtr, lanes, p.lr);
      else if (p.rule === 'momentum') kernel.momentum(wPtr, dPtr, this.firstPtr + stateOffset, lanes, p.lr, p.momentum);
      else kernel.adaptive(wPtr, dPtr, this.firstPtr + stateOffset, this.secondPtr + stateOffset, lanes, p.lr, p.beta1, k1, p.beta2, k2, p.tau, variant);
      out.set(n === CHUNK ? wChunk : wChunk.subarray(0, n), start);
    }
  }
}
