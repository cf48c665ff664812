'use client';

import type { DigitsEvaluation, ExplainRequest, ExplainResponse } from '@/workers/explain-messages';
import type { PlaneEvaluation } from '@/workers/ml/explain';
import type { GlobalModelView } from './useGlobalModel';

/** Promise-based handle on the page's explain worker; one worker serves every view. */
export interface ExplainWorker {
  plane(model: GlobalModelView): Promise<{ plane: PlaneEvaluation; ms: number }>;
  digits(model: GlobalModelView, samples: number): Promise<{ digits: DigitsEvaluation; ms: number }>;
  digit(model: GlobalModelView, image: Float32Array): Promise<{ probabilities: Float32Array; ms: number }>;
}

interface Shared {
  worker: Worker;
  users: number;
  api: ExplainWorker;
}

let shared: Shared | null = null;

function create(): Shared {
  const worker = new Worker(new URL('../../workers/explain.worker.ts', import.meta.url), { type: 'module' });
  const pending = new Map<number, { resolve: (r: ExplainResponse) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let loadedKey: string | null = null;
  const failAll = (error: Error) => {
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  worker.onmessage = (event: MessageEvent<ExplainResponse>) => {
    const message = event.data;
    if (message.id === null) {
      // The model itself was refused: requests for it fail as they come.
      if (message.key === loadedKey) loadedKey = null;
      return;
    }
    const p = pending.get(message.id);
    if (!p) return;
    pending.delete(message.id);
    if (message.type === 'error') p.reject(new Error(message.message));
    else p.resolve(message);
  };
  worker.onerror = (event: ErrorEvent) => failAll(new Error(`Explain worker failed: ${event.message || 'unknown error'}`));

  const request = <T extends ExplainResponse['type']>(model: GlobalModelView, build: (id: number) => ExplainRequest, transfer: Transferable[] = []) => {
    if (loadedKey !== model.key) {
      // A copy: the hook keeps its weights for hover predictions on the main thread.
      worker.postMessage({ type: 'model', key: model.key, spec: model.spec, manifest: model.manifest, weights: model.weights.slice() } satisfies ExplainRequest);
      loadedKey = model.key;
    }
    return new Promise<Extract<ExplainResponse, { type: T }>>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (r: ExplainResponse) => void, reject });
      worker.postMessage(build(id), transfer);
    });
  };

  const api: ExplainWorker = {
    plane: (model) => request<'plane'>(model, (id) => ({ type: 'plane', id, key: model.key })),
    digits: (model, samples) => request<'digits'>(model, (id) => ({ type: 'digits', id, key: model.key, samples })),
    digit: (model, image) => request<'digit'>(model, (id) => ({ type: 'digit', id, key: model.key, image })),
  };
  return { worker, users: 0, api };
}

/** The shared explain worker; call the returned release() when the view unmounts (the last one stops it). */
export function acquireExplainWorker(): { worker: ExplainWorker; release: () => void } {
  shared ??= create();
  const mine = shared;
  mine.users += 1;
  let released = false;
  return {
    worker: mine.api,
    release: () => {
      if (released) return;
      released = true;
      mine.users -= 1;
      if (mine.users === 0) {
        mine.worker.terminate();
        if (shared === mine) shared = null;
      }
    },
  };
}
