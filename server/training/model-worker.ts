/**
 * Runs inside a worker thread: the server's TensorFlow.js work (initial weights, held-out
 * evaluation), so model math never stalls the event loop that serves sockets and Yjs.
 */
import { parentPort } from 'node:worker_threads';
import { initialWeights } from '../../workers/ml/model';
import { evaluate } from '../../workers/ml/evaluate';
import { loadNodeTf } from '../../workers/ml/node-tf';
import { ensureMnistRegistered } from '../data/mnist';
import type { ModelSpec, WeightsManifest } from '../protocol';
import { exportModelJson, importModel, type ImportFile } from './model-export';

export type ModelJob =
  | { id: number; kind: 'init'; spec: ModelSpec }
  | { id: number; kind: 'evaluate'; spec: ModelSpec; manifest: WeightsManifest; weights: Float32Array }
  | { id: number; kind: 'export'; spec: ModelSpec }
  | { id: number; kind: 'import'; spec: ModelSpec; file: ImportFile };

export type ModelJobResult =
  | { id: number; ok: true; manifest?: WeightsManifest; weights?: Float32Array; loss?: number; accuracy?: number; modelJson?: string; problem?: string }
  | { id: number; ok: false; error: string };

const tfReady = loadNodeTf('cpu');

parentPort?.on('message', (job: ModelJob) => {
  void (async (): Promise<ModelJobResult> => {
    const tf = await tfReady;
    if (job.spec.dataset.name === 'mnist') await ensureMnistRegistered();
    if (job.kind === 'init') {
      const { manifest, weights } = initialWeights(tf, job.spec, job.spec.dataset.seed);
      return { id: job.id, ok: true, manifest, weights };
    }
    if (job.kind === 'export') return { id: job.id, ok: true, modelJson: await exportModelJson(tf, job.spec) };
    if (job.kind === 'import') {
      const imported = await importModel(tf, job.spec, job.file);
      return imported.ok ? { id: job.id, ...imported } : { id: job.id, ok: true, problem: imported.problem };
    }
    const { loss, accuracy } = await evaluate(tf, job.spec, job.manifest, job.weights);
    return { id: job.id, ok: true, loss, accuracy };
  })()
    .catch((error: unknown): ModelJobResult => ({ id: job.id, ok: false, error: error instanceof Error ? error.message : String(error) }))
    .then((result) => parentPort?.postMessage(result, result.ok && result.weights ? [result.weights.buffer as ArrayBuffer] : []));
});
