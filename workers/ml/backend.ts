// Static import: importing registers the 'wasm' backend (nothing is fetched until it starts), and
// bundlers handle a static import in a worker more predictably than a dynamic one.
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { ModelSpec } from '../../server/protocol/spec';
import type { TF } from './model';

/** TensorFlow.js backends a client may train on. */
export type BackendName = 'webgl' | 'wasm' | 'cpu';

/** Options of pickBackend. */
export interface PickBackendOptions {
  /** Where the tfjs-backend-wasm .wasm files are served (browser: '/vendor/tfjs-wasm/'); default: the package's own. */
  wasmBase?: string;
  /** Stop probing further candidates once this much time is spent (one result is always kept). */
  budgetMs?: number;
  /** Abandon a candidate whose start and probe take longer than this (default 8 s). */
  probeTimeoutMs?: number;
  /** Told before each candidate's probe starts (1-based step of `of`), for a progress display. */
  onProbe?: (backend: BackendName, step: number, of: number) => void;
  /** The speed test (default: a few fit steps of a tiny MLP); tests replace it. */
  probe?: (tf: TF) => Promise<number>;
}

/** The chosen backend, its probe time (lower is faster) and every candidate's time. */
export interface PickedBackend {
  backend: BackendName;
  probeMs: number;
  timings: Partial<Record<BackendName, number>>;
  /** Candidates abandoned because their probe stalled. */
  stalled: BackendName[];
}

let wasmPathsSet = false;

/** Points the wasm backend at its .wasm files; only the first call counts (tfjs ignores later ones once started). */
export function setWasmBase(wasmBase: string): void {
  if (wasmPathsSet) return;
  // setWasmPaths throws once the backend has initialised, so it must come first and only once.
  setWasmPaths(wasmBase.endsWith('/') ? wasmBase : `${wasmBase}/`);
  wasmPathsSet = true;
}

const PROBE_RUNS = 3;
const PROBE_RUN_BUDGET_MS = 400;

/**
 * Best time (ms) of one probe epoch (4 fit steps, batch 16) of a tiny MLP, the workload clients
 * run. A warm-up epoch first pays one-time costs (shader compilation, wasm start-up, JIT); then
 * the minimum of a few runs, because a single run on a busy machine is mostly noise.
 */
async function probe(tf: TF): Promise<number> {
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [7], units: 12, activation: 'tanh' }));
  model.add(tf.layers.dense({ units: 8, activation: 'tanh' }));
  model.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));
  const optimizer = tf.train.adam(0.01);
  model.compile({ optimizer, loss: 'binaryCrossentropy' });
  const x = tf.randomUniform([64, 7], -1, 1);
  const y = tf.tidy(() => tf.randomUniform([64, 1]).greater(0.5).toFloat());
  try {
    await model.fit(x, y, { batchSize: 16, epochs: 1, verbose: 0 });
    const started = performance.now();
    let best = Infinity;
    for (let run = 0; run < PROBE_RUNS && (run === 0 || performance.now() - started < PROBE_RUN_BUDGET_MS); run++) {
      const t0 = performance.now();
      // fit reads the loss back at the end of the epoch, so GPU work is finished when it resolves.
      await model.fit(x, y, { batchSize: 16, epochs: 1, verbose: 0 });
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  } finally {
    model.dispose();
    optimizer.dispose(); // model.dispose() leaves it
    x.dispose();
    y.dispose();
  }
}

/** How long one candidate may take to start and finish its probe before it counts as stalled. */
const PROBE_TIMEOUT_MS = 8000;

/**
 * Backends whose probe stalled in this runtime (a starved or broken GPU: SwiftShader under a
 * loaded CPU never finished a 4-step fit in a minute). They are never picked again, and a
 * convolutional spec does not switch to them.
 */
const stalled = new Set<BackendName>();

/** Resolves with the work's value, or with `null` once `ms` have passed. */
function within<T>(work: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Probes each candidate that initialises, in order, and leaves tf on the fastest one. No new
 * candidate starts once `budgetMs` is spent. A started probe cannot be cut short (a fit has no
 * cancel), but one that takes longer than `probeTimeoutMs` is abandoned and its backend marked
 * stalled. WebGL comes last by default: its first fit compiles shaders (3.3 s under headless
 * Chromium's SwiftShader), it rarely wins for tiny MLPs, and so it is the one the budget drops.
 */
export async function pickBackend(
  tf: TF,
  candidates: readonly BackendName[] = ['wasm', 'cpu', 'webgl'],
  options: PickBackendOptions = {},
): Promise<PickedBackend> {
  const budget = options.budgetMs ?? 1500;
  const timeoutMs = options.probeTimeoutMs ?? PROBE_TIMEOUT_MS;
  const measure = options.probe ?? probe;
  const started = performance.now();
  const timings: Partial<Record<BackendName, number>> = {};
  let best: { backend: BackendName; ms: number } | null = null;
  for (const [index, backend] of candidates.entries()) {
    if (best && performance.now() - started > budget) break;
    if (stalled.has(backend)) continue;
    options.onProbe?.(backend, index + 1, candidates.length);
    const attempt = async (): Promise<number | undefined> => {
      if (backend === 'wasm' && options.wasmBase) setWasmBase(options.wasmBase);
      // setBackend resolves false (or throws) when the backend cannot start here, e.g. WebGL in Node.
      if (!(await tf.setBackend(backend))) return undefined;
      await tf.ready();
      return measure(tf);
    };
    const ms = await within(attempt().catch(() => undefined), timeoutMs);
    if (ms === null) stalled.add(backend);
    if (ms === null || ms === undefined) continue;
    timings[backend] = ms;
    if (!best || ms < best.ms) best = { backend, ms };
  }
  if (!best) throw new Error(`No TensorFlow.js backend could start (tried ${candidates.join(', ')})`);
  if (tf.getBackend() !== best.backend) await tf.setBackend(best.backend);
  return { backend: best.backend, probeMs: best.ms, timings, stalled: candidates.filter((b) => stalled.has(b)) };
}

/**
 * Switches away from a backend that cannot train `spec`: tfjs' wasm backend has no gradient
 * kernels for convolutions (Conv2DBackpropFilter), so a convolutional spec trains on WebGL when
 * this runtime has it, else on the plain CPU backend. Returns the backend in use.
 */
export async function ensureBackendFor(tf: TF, spec: Pick<ModelSpec, 'layers'>): Promise<string> {
  const current = tf.getBackend();
  if (current !== 'wasm' || !spec.layers.some((layer) => layer.type === 'conv2d')) return current;
  for (const fallback of ['webgl', 'cpu'] as const) {
    if (stalled.has(fallback)) continue;
    if (tf.findBackendFactory(fallback) && (await tf.setBackend(fallback))) return fallback;
  }
  throw new Error('No TensorFlow.js backend here can train convolutions');
}
