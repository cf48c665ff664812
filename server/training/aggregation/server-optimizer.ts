/**
 * Server optimizers (FedOpt, Reddi et al. 2021, "Adaptive Federated Optimization", Algorithm 2):
 * the round's aggregated client delta Δ (so the pseudo-gradient is −Δ) moves the global weights.
 *
 *   plain     w ← w + η Δ                                   (FedAvg when η = 1)
 *   momentum  u ← μ u + Δ;            w ← w + η u            (FedAvgM, Hsu et al. 2019)
 *   adam      m ← β1 m + (1−β1) Δ;    v ← β2 v + (1−β2) Δ²
 *   yogi      m as adam;              v ← v − (1−β2) Δ² sign(v − Δ²)
 *   adagrad   m as adam;              v ← v + Δ²
 *   (adaptive) w ← w + η m / (√v + τ), with m₀ = 0 and v₀ = τ² (the paper's v₋₁ ≥ τ²); no bias
 *   correction, as in the paper.
 *
 * All arithmetic is float32 (hyperparameters too are rounded to float32), done in a fixed order
 * by either a WebAssembly SIMD kernel or a plain loop that match bit for bit (optimizer-kernel.ts):
 * the same state and Δ always give the same bits, and a restored checkpoint continues exactly as
 * the original would have.
 */

import { createOptimizerKernel, type DeltaSource, type KernelParams, type OptimizerKernel } from './optimizer-kernel';

export type { DeltaSource } from './optimizer-kernel';

/** Which server update rule to run. */
export type ServerOptimizerKind = 'plain' | 'momentum' | 'adam' | 'yogi' | 'adagrad';

/** Server optimizer settings; anything left out takes the kind's default (see {@link defaultsFor}). */
export interface ServerOptimizerConfig {
  kind: ServerOptimizerKind;
  /** Server learning rate η. */
  lr?: number;
  /** First-moment decay β1 (adam, yogi, adagrad). */
  beta1?: number;
  /** Second-moment decay β2 (adam, yogi). */
  beta2?: number;
  /** Adaptivity τ (adam, yogi, adagrad): > 0; smaller means more adaptive. */
  tau?: number;
  /** Momentum μ (momentum). */
  momentum?: number;
}

/** A config with every field filled in. */
export type ResolvedServerOptimizerConfig = Required<ServerOptimizerConfig>;

const KINDS: readonly ServerOptimizerKind[] = ['plain', 'momentum', 'adam', 'yogi', 'adagrad'];

/**
 * Defaults: β1 = 0.9 and β2 = 0.99 are the values Reddi et al. 2021 fix in their experiments (§5);
 * τ = 1e-3 with η = 0.1 (adam, adagrad) or 0.01 (yogi) are Flower's FedAdam/FedAdagrad/FedYogi
 * defaults, which implement that paper. plain uses η = 1 (FedAvg). momentum uses μ = 0.9 and η = 1,
 * the usual FedAvgM setting; its steady-state step is η/(1−μ)·Δ (Hsu et al. 2019), so lower η
 * toward 1−μ to keep FedAvg's step size.
 */
export function defaultsFor(kind: ServerOptimizerKind): ResolvedServerOptimizerConfig {
  const lr = kind === 'plain' || kind === 'momentum' ? 1 : kind === 'yogi' ? 0.01 : 0.1;
  return { kind, lr, beta1: 0.9, beta2: 0.99, tau: 1e-3, momentum: 0.9 };
}

/** Fills in defaults and checks ranges; throws with the offending field named. */
export function resolveServerOptimizerConfig(config: ServerOptimizerConfig): ResolvedServerOptimizerConfig {
  if (!KINDS.includes(config.kind)) throw new Error(`Unknown server optimizer kind: ${String(config.kind)}`);
  const defaults = defaultsFor(config.kind);
  const resolved: ResolvedServerOptimizerConfig = {
    kind: config.kind,
    lr: config.lr ?? defaults.lr,
    beta1: config.beta1 ?? defaults.beta1,
    beta2: config.beta2 ?? defaults.beta2,
    tau: config.tau ?? defaults.tau,
    momentum: config.momentum ?? defaults.momentum,
  };
  if (!(Number.isFinite(resolved.lr) && resolved.lr > 0)) throw new Error(`lr must be a finite number > 0, got ${resolved.lr}`);
  for (const key of ['beta1', 'beta2', 'momentum'] as const) {
    if (!(resolved[key] >= 0 && resolved[key] < 1)) throw new Error(`${key} must be in [0, 1), got ${resolved[key]}`);
  }
  if (!(Number.isFinite(resolved.tau) && resolved.tau > 0)) throw new Error(`tau must be a finite number > 0, got ${resolved.tau}`);
  return resolved;
}

const MAGIC = 0x314f5343; // 'CSO1' read as a little-endian u32
const FORMAT_VERSION = 1;
const HEADER_BYTES = 64;

/** Global-weight update rule with its per-parameter state; one per training run. */
export class ServerOptimizer {
  readonly config: Readonly<ResolvedServerOptimizerConfig>;
  private readonly params: KernelParams;
  private readonly kernel: OptimizerKernel;
  private stepCount = 0;

  /** A fresh optimizer for `size` parameters; `backend` is for tests comparing the two. */
  constructor(
    config: ServerOptimizerConfig,
    readonly size: number,
    backend: 'auto' | 'wasm' | 'js' = 'auto',
  ) {
    if (!Number.isInteger(size) || size < 0 || size > 0xffffffff) throw new Error(`Optimizer size must be a whole number >= 0, got ${size}`);
    this.config = Object.freeze(resolveServerOptimizerConfig(config));
    const f = Math.fround;
    const { kind, lr, beta1, beta2, tau, momentum } = this.config;
    this.params = { rule: kind, lr: f(lr), beta1: f(beta1), beta2: f(beta2), tau: f(tau), momentum: f(momentum) };
    this.kernel = createOptimizerKernel(size, this.params, backend);
  }

  /** 'wasm' when the SIMD kernel does the work, 'js' for the plain loop. */
  get backend(): 'wasm' | 'js' {
    return this.kernel.backend;
  }

  /** Rounds applied so far. */
  get steps(): number {
    return this.stepCount;
  }

  /**
   * Applies one round's aggregated delta and returns the new global weights, written to `out`
   * (a new buffer unless given; it may be `weights` itself to update in place). Passing the
   * round's WeightedMeanAccumulator as `delta` streams the mean straight in: the fastest way from
   * the last update to new weights.
   */
  step(weights: Float32Array, delta: DeltaSource, out: Float32Array = new Float32Array(this.size)): Float32Array {
    const deltaSize = delta instanceof Float32Array ? delta.length : delta.size;
    if (weights.length !== this.size || deltaSize !== this.size || out.length !== this.size) {
      throw new Error(`Optimizer holds ${this.size} values; got weights ${weights.length}, delta ${deltaSize}, out ${out.length}`);
    }
    this.kernel.step(weights, delta, out, this.params);
    this.stepCount += 1;
    return out;
  }

  /** Config, step count and state as bytes (little-endian), for checkpoints. */
  saveState(): Uint8Array {
    const states = [this.kernel.first, this.kernel.second].filter((s): s is Float32Array => s !== null);
    const bytes = new Uint8Array(HEADER_BYTES + states.length * this.size * 4);
    const view = new DataView(bytes.buffer);
    const { kind, lr, beta1, beta2, tau, momentum } = this.config;
    view.setUint32(0, MAGIC, true);
    view.setUint8(4, FORMAT_VERSION);
    view.setUint8(5, KINDS.indexOf(kind));
    view.setUint32(8, this.size, true);
    view.setFloat64(16, this.stepCount, true);
    [lr, beta1, beta2, tau, momentum].forEach((value, i) => view.setFloat64(24 + 8 * i, value, true));
    states.forEach((state, i) => writeFloat32LE(view, HEADER_BYTES + i * this.size * 4, state));
    return bytes;
  }

  /** The optimizer {@link saveState} described, ready to take the next step exactly as it would have. */
  static loadState(bytes: Uint8Array, backend: 'auto' | 'wasm' | 'js' = 'auto'): ServerOptimizer {
    if (bytes.byteLength < HEADER_BYTES) throw new Error(`Optimizer state is ${bytes.byteLength} bytes; too short for a header`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint32(0, true) !== MAGIC) throw new Error('Not a server optimizer state (bad magic)');
    const version = view.getUint8(4);
    if (version !== FORMAT_VERSION) throw new Error(`Unsupported optimizer state version ${version}`);
    const kind = KINDS[view.getUint8(5)];
    if (!kind) throw new Error(`Unknown optimizer kind index ${view.getUint8(5)}`);
    const size = view.getUint32(8, true);
    const [lr, beta1, beta2, tau, momentum] = [0, 1, 2, 3, 4].map((i) => view.getFloat64(24 + 8 * i, true)) as [number, number, number, number, number];
    const optimizer = new ServerOptimizer({ kind, lr, beta1, beta2, tau, momentum }, size, backend);
    const states = [optimizer.kernel.first, optimizer.kernel.second].filter((s): s is Float32Array => s !== null);
    const expected = HEADER_BYTES + states.length * size * 4;
    if (bytes.byteLength !== expected) throw new Error(`Optimizer state is ${bytes.byteLength} bytes; expected ${expected}`);
    optimizer.stepCount = view.getFloat64(16, true);
    states.forEach((state, i) => readFloat32LE(view, HEADER_BYTES + i * size * 4, state));
    return optimizer;
  }
}

function writeFloat32LE(view: DataView, at: number, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) view.setFloat32(at + 4 * i, values[i]!, true);
}

function readFloat32LE(view: DataView, at: number, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(at + 4 * i, true);
}
