import { createHash } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { canonicalJson, type ModelSpec, type WeightsManifest } from '../protocol';
import { startTsWorker } from '../threads';
import type { ModelJob, ModelJobResult } from './model-worker';
import type { ImportFile } from './model-export';

/**
 * The server's model math (initial weights, held-out evaluation) runs in one worker thread with
 * its own TensorFlow.js; jobs are answered in order. Started on first use; `close()` ends it
 * (the server's shutdown calls it).
 */
class ModelThread {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: ModelJobResult) => void; reject: (e: Error) => void }>();

  run(job: DistributiveOmit<ModelJob, 'id'>): Promise<ModelJobResult & { ok: true }> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        resolve: (result) => (result.ok ? resolve(result) : reject(new Error(result.error))),
        reject,
      });
      worker.postMessage({ ...job, id } as ModelJob);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = startTsWorker(new URL('./model-worker.ts', import.meta.url));
    worker.on('message', (result: ModelJobResult) => {
      this.pending.get(result.id)?.resolve(result);
      this.pending.delete(result.id);
    });
    const fail = (error: Error) => {
      for (const { reject } of this.pending.values()) reject(error);
      this.pending.clear();
      this.worker = null;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.worker === worker) fail(new Error(`model worker exited (${code})`));
    });
    this.worker = worker;
    return worker;
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const thread = new ModelThread();

export function specHash(spec: ModelSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, 16);
}

/** Round-0 weights of a run: deterministic for the spec (seeded initialisers). */
export async function createInitialWeights(spec: ModelSpec): Promise<{ manifest: WeightsManifest; weights: Float32Array }> {
  const result = await thread.run({ kind: 'init', spec });
  return { manifest: result.manifest!, weights: result.weights! };
}

/** Held-out loss and accuracy of global weights (the weights are copied to the worker). */
export async function evaluateWeights(spec: ModelSpec, manifest: WeightsManifest, weights: Float32Array): Promise<{ loss: number; accuracy: number }> {
  const result = await thread.run({ kind: 'evaluate', spec, manifest, weights });
  return { loss: result.loss!, accuracy: result.accuracy! };
}

/** model.json (TensorFlow.js layers format) of the spec's network; see model-export.ts. */
export async function exportModelJson(spec: ModelSpec): Promise<string> {
  return (await thread.run({ kind: 'export', spec })).modelJson!;
}

/** Checks an uploaded model against the spec and evaluates it (see model-export.ts); `problem` says why it was refused. */
export async function importModelFile(spec: ModelSpec, file: ImportFile): Promise<{ problem: string } | { problem?: undefined; manifest: WeightsManifest; weights: Float32Array; loss: number; accuracy: number }> {
  const result = await thread.run({ kind: 'import', spec, file });
  if (result.problem !== undefined) return { problem: result.problem };
  return { manifest: result.manifest!, weights: result.weights!, loss: result.loss!, accuracy: result.accuracy! };
}

/** Ends the model worker thread (server shutdown); the next job starts a new one. */
export function closeModelThread(): Promise<void> {
  return thread.close();
}
