import type { ModelSpec } from '../server/protocol/spec';
import type { WeightsManifest } from '../server/protocol/weights';
import type { BackendName, TrainResult, TrainTask, WorkerRequest, WorkerResponse } from './worker-messages';

/** Promise-based handle on a training worker (see train.worker.ts). */
export interface TrainerBridge {
  /** Probes backends in the worker and resolves with the chosen one (`onProbe`: each candidate as it starts). Call once, first. */
  init(opts: { wasmBase: string; candidates?: BackendName[]; onProbe?: ProbeListener }): Promise<{ backend: BackendName; probeMs: number }>;
  /** Trains one round; task.weights' buffer is transferred (detached here) unless it is a view into a larger buffer. */
  train(task: TrainTask): Promise<TrainResult>;
  /** Model outputs at raw points (n×2); the inputs are copied, not transferred. */
  predict(spec: ModelSpec, manifest: WeightsManifest, weights: Float32Array, points: Float32Array): Promise<Float32Array>;
  /** Rows per class in a shard of the spec's training split (the spec's partition), for the histogram. */
  classCounts(spec: ModelSpec, shard: TrainTask['shard']): Promise<number[]>;
  /** Stops the worker; pending calls reject. */
  terminate(): void;
}

/** A backend's speed test starting: step `step` of `of` candidates. */
export type ProbeListener = (progress: { backend: BackendName; step: number; of: number }) => void;

interface Pending {
  resolve: (value: never) => void;
  reject: (error: Error) => void;
}

/** A buffer that can be transferred whole: a copy when `values` views only part of its buffer. */
function ownBuffer(values: Float32Array): Float32Array {
  return values.byteOffset === 0 && values.byteLength === values.buffer.byteLength ? values : values.slice();
}

/** Wraps a module worker running train.worker.ts, correlating requests and replies by id. */
export function createTrainerBridge(worker: Worker): TrainerBridge {
  const pending = new Map<number, Pending>();
  let initPending: Pending | null = null;
  let onProbe: ProbeListener | undefined;
  let nextId = 1;

  const failAll = (error: Error) => {
    initPending?.reject(error);
    initPending = null;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };

  worker.onmessage = (event: MessageEvent<WorkerResponse>) => {
    const message = event.data;
    if (message.type === 'probing') {
      onProbe?.({ backend: message.backend, step: message.step, of: message.of });
      return;
    }
    if (message.type === 'ready') {
      initPending?.resolve({ backend: message.backend, probeMs: message.probeMs } as never);
      initPending = null;
      return;
    }
    const id = message.id;
    if (id === null) {
      initPending?.reject(new Error(message.type === 'error' ? message.message : 'init failed'));
      initPending = null;
      return;
    }
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    if (message.type === 'error') p.reject(new Error(message.message));
    else if (message.type === 'result') p.resolve(message.result as never);
    else if (message.type === 'classes') p.resolve(message.counts as never);
    else p.resolve(message.values as never);
  };
  // A worker that fails to load or throws outside a request would otherwise leave callers waiting forever.
  worker.onerror = (event: ErrorEvent) => failAll(new Error(`Training worker failed: ${event.message || 'unknown error'}`));
  worker.onmessageerror = () => failAll(new Error('Training worker sent a message that could not be read'));

  const request = <T>(build: (id: number) => { message: WorkerRequest; transfer: Transferable[] }): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: never) => void, reject });
      const { message, transfer } = build(id);
      worker.postMessage(message, transfer);
    });

  return {
    init(opts) {
      return new Promise((resolve, reject) => {
        initPending?.reject(new Error('init called again'));
        initPending = { resolve: resolve as (value: never) => void, reject };
        onProbe = opts.onProbe;
        const message: WorkerRequest = { type: 'init', wasmBase: opts.wasmBase, ...(opts.candidates ? { candidates: opts.candidates } : {}) };
        worker.postMessage(message);
      });
    },
    train(task) {
      return request<TrainResult>((id) => {
        const weights = ownBuffer(task.weights);
        return { message: { type: 'train', id, task: { ...task, weights } }, transfer: [weights.buffer] };
      });
    },
    predict(spec, manifest, weights, points) {
      return request<Float32Array>((id) => ({ message: { type: 'predict', id, spec, manifest, weights, points }, transfer: [] }));
    },
    classCounts(spec, shard) {
      return request<number[]>((id) => ({ message: { type: 'classes', id, spec, shard }, transfer: [] }));
    },
    terminate() {
      worker.terminate();
      failAll(new Error('Training worker terminated'));
    },
  };
}
