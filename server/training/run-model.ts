import { createHash } from 'node:crypto';
import { canonicalJson, type ModelSpec, type RoundMetrics, type WeightsManifest } from '../protocol';
import { initialWeights } from '../../workers/ml/model';
import { evaluate } from '../../workers/ml/evaluate';
import { loadNodeTf } from '../../workers/ml/node-tf';

/** The server's own TensorFlow.js (pure-JS CPU backend): initial weights and held-out evaluation. */
let tfPromise: ReturnType<typeof loadNodeTf> | null = null;
function serverTf(): ReturnType<typeof loadNodeTf> {
  tfPromise ??= loadNodeTf('cpu');
  return tfPromise;
}

export function specHash(spec: ModelSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, 16);
}

/** Round-0 weights of a run: deterministic for the spec (seeded initialisers). */
export async function createInitialWeights(spec: ModelSpec): Promise<{ manifest: WeightsManifest; weights: Float32Array }> {
  return initialWeights(await serverTf(), spec, spec.dataset.seed);
}

/** Held-out loss and accuracy of global weights. */
export async function evaluateWeights(spec: ModelSpec, manifest: WeightsManifest, weights: Float32Array): Promise<{ loss: number; accuracy: number }> {
  return evaluate(await serverTf(), spec, manifest, weights);
}

export function emptyMetrics(round: number, loss: number, accuracy: number): RoundMetrics {
  return { round, loss, accuracy, trainLoss: null, participants: 0, samples: 0 };
}
