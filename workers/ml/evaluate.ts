import type * as tfjs from '@tensorflow/tfjs';
import { layerKey, type ModelSpec } from '../../server/protocol/spec';
import type { WeightsManifest } from '../../server/protocol/weights';
import { datasetKey, datasetSplit, featurize } from './datasets';
import { PROBABILITY_EPSILON, accuracyOf, buildModel, dataTensors, disposeModel, specLoss, writeWeights, type Sequential, type TF } from './model';

/** An inference model plus the held-out tensors, kept per spec so each round's evaluation is one forward pass. */
interface EvalCache {
  tf: TF;
  key: string;
  model: Sequential;
  x: tfjs.Tensor;
  y: tfjs.Tensor;
}

// Several entries: the server evaluates the runs of several projects in turn.
const MAX_CACHED_EVALUATORS = 8;
const cache = new Map<string, EvalCache>();

function evalKey(tf: TF, spec: ModelSpec): string {
  const layers = spec.layers.map(layerKey).join(',');
  return `${tf.getBackend()}|${datasetKey(spec.dataset)}|${spec.features.join(',')}|${layers}`;
}

function disposeEntry(entry: EvalCache): void {
  disposeModel(entry.model);
  entry.x.dispose();
  entry.y.dispose();
}

/** Frees every cached evaluation model and tensor. */
export function disposeEvaluator(): void {
  for (const entry of cache.values()) disposeEntry(entry);
  cache.clear();
}

function evaluator(tf: TF, spec: ModelSpec): EvalCache {
  const key = evalKey(tf, spec);
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key); // re-inserted below: the Map's order is then least recently used first
    if (hit.tf === tf) {
      cache.set(key, hit);
      return hit;
    }
    disposeEntry(hit);
  }
  if (cache.size >= MAX_CACHED_EVALUATORS) {
    const [oldestKey, oldest] = cache.entries().next().value!;
    disposeEntry(oldest);
    cache.delete(oldestKey);
  }
  const test = datasetSplit(spec.dataset).test;
  const entry: EvalCache = { tf, key, model: buildModel(tf, spec), ...dataTensors(tf, spec, test) };
  cache.set(key, entry);
  return entry;
}

/**
 * Held-out loss (the spec's: cross-entropy clipped as Keras does, or mean squared error; without
 * the regularisation penalty, which is not about the data) and accuracy (threshold 0.5).
 */
export async function evaluate(
  tf: TF,
  spec: ModelSpec,
  manifest: WeightsManifest,
  weights: Float32Array,
): Promise<{ loss: number; accuracy: number }> {
  const entry = evaluator(tf, spec);
  writeWeights(tf, entry.model, manifest, weights);
  const result = tf.tidy(() => {
    const p = (entry.model.predict(entry.x) as tfjs.Tensor).clipByValue(PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
    const y = entry.y;
    const loss = specLoss(tf, spec, y, p);
    const accuracy = accuracyOf(tf, y, p);
    return tf.stack([loss, accuracy]);
  });
  const [loss, accuracy] = await result.data();
  result.dispose();
  return { loss: loss!, accuracy: accuracy! };
}

/** Model output (probability of label 1) at raw 2-D points (n×2, row-major), e.g. for a decision heatmap. */
export async function predictPoints(
  tf: TF,
  spec: ModelSpec,
  manifest: WeightsManifest,
  weights: Float32Array,
  points: Float32Array,
): Promise<Float32Array> {
  const entry = evaluator(tf, spec);
  writeWeights(tf, entry.model, manifest, weights);
  const n = points.length >> 1;
  if (n === 0) return new Float32Array(0);
  const out = tf.tidy(() => entry.model.predict(tf.tensor2d(featurize(points, spec.features), [n, spec.features.length])) as tfjs.Tensor);
  // Copy: the CPU backend may hand out its own storage, and callers transfer this buffer.
  const values = new Float32Array((await out.data()) as Float32Array);
  out.dispose();
  return values;
}
