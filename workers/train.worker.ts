/// <reference lib="webworker" />
// The browser's training worker (module worker): keeps TensorFlow.js off the UI thread.
import * as tf from '@tensorflow/tfjs';
import { ensureBackendFor, pickBackend, type BackendName } from './ml/backend';
import { predictPoints } from './ml/evaluate';
import { shardLabelCounts } from './ml/local-data';
import { fetchMnist } from './ml/mnist-fetch';
import { trainRound } from './ml/train';
import type { WorkerRequest, WorkerResponse } from './worker-messages';

const scope = self as unknown as DedicatedWorkerGlobalScope;

function reply(message: WorkerResponse, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

async function handle(request: WorkerRequest): Promise<void> {
  switch (request.type) {
    case 'init': {
      const onProbe = (backend: BackendName, step: number, of: number) => reply({ type: 'probing', backend, step, of });
      const { backend, probeMs } = await pickBackend(tf, request.candidates, { wasmBase: request.wasmBase, onProbe });
      reply({ type: 'ready', backend, probeMs });
      return;
    }
    case 'train': {
      // MNIST digits come from the server once (HTTP-cached); other datasets are generated here.
      if (request.task.spec.dataset.name === 'mnist') await fetchMnist();
      await ensureBackendFor(tf, request.task.spec);
      const result = await trainRound(tf, request.task);
      reply({ type: 'result', id: request.id, result }, [result.delta.buffer]);
      return;
    }
    case 'predict': {
      if (request.spec.dataset.name === 'mnist') await fetchMnist();
      const values = await predictPoints(tf, request.spec, request.manifest, request.weights, request.points);
      reply({ type: 'prediction', id: request.id, values }, [values.buffer]);
      return;
    }
    case 'classes': {
      if (request.spec.dataset.name === 'mnist') await fetchMnist();
      reply({ type: 'classes', id: request.id, counts: shardLabelCounts(request.spec, request.shard) });
      return;
    }
  }
}

// One request at a time, in arrival order: fit() refuses to run twice on one model, and a train
// must not start before init has chosen the backend.
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  queue = queue.then(() =>
    handle(request).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      reply({ type: 'error', id: request.type === 'init' ? null : request.id, message });
    }),
  );
};
