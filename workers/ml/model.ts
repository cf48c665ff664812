import type * as tfjs from '@tensorflow/tfjs';
import type { ModelSpec } from '../../server/protocol/spec';
import { manifestSize, type WeightsManifest } from '../../server/protocol/weights';

/** The TensorFlow.js namespace, passed in so one module serves Node and browser builds alike. */
export type TF = typeof tfjs;
export type Sequential = tfjs.Sequential;

/** A fresh optimizer for the spec (a new one per round, so no Adam state leaks between rounds). */
export function makeOptimizer(tf: TF, spec: Pick<ModelSpec, 'optimizer' | 'learningRate'>): tfjs.Optimizer {
  return spec.optimizer === 'adam' ? tf.train.adam(spec.learningRate) : tf.train.sgd(spec.learningRate);
}

/** Keras clips probabilities by this epsilon in binary cross-entropy; evaluation does the same. */
export const PROBABILITY_EPSILON = 1e-7;

/** The spec's loss of predicted probabilities `p` against 0/1 labels `y`, averaged: a scalar. */
export function specLoss(tf: TF, spec: Pick<ModelSpec, 'loss'>, y: tfjs.Tensor, p: tfjs.Tensor): tfjs.Scalar {
  if (spec.loss === 'mse') return tf.mean(tf.squaredDifference(p, y)) as tfjs.Scalar;
  return tf.mean(tf.metrics.binaryCrossentropy(y, p)) as tfjs.Scalar;
}

/**
 * The spec's regulariser for kernels (biases are never penalised), as model.fit adds it to the
 * loss: λ₁·Σ|w| + λ₂·Σw². Undefined when both are 0.
 */
function kernelRegularizer(tf: TF, spec: Pick<ModelSpec, 'regularization'>) {
  const { l1, l2 } = spec.regularization;
  return l1 > 0 || l2 > 0 ? tf.regularizers.l1l2({ l1, l2 }) : undefined;
}

/** The regularisation penalty of a model's current kernels, for hand-written training loops. */
export function regularizationPenalty(tf: TF, spec: Pick<ModelSpec, 'regularization'>, model: Sequential): tfjs.Scalar | null {
  const { l1, l2 } = spec.regularization;
  if (l1 === 0 && l2 === 0) return null;
  const kernels = model.weights.filter((w) => w.originalName.endsWith('/kernel')).map((w) => w.read());
  let total = tf.scalar(0);
  for (const k of kernels) {
    if (l1 > 0) total = total.add(tf.sum(tf.abs(k)).mul(l1));
    if (l2 > 0) total = total.add(tf.sum(tf.square(k)).mul(l2));
  }
  return total as tfjs.Scalar;
}

/**
 * The spec's dense network, compiled with its optimizer and loss (cross-entropy or mean squared
 * error of the output probability) and L1/L2 kernel regularisation. Layers are named
 * by position (h0, h1, …, out) so manifests are identical in every process, whatever the layer ids.
 * `seed` makes the initial weights deterministic; omit it when the weights get overwritten anyway.
 */
export function buildModel(tf: TF, spec: ModelSpec, seed?: number): Sequential {
  const init = (i: number) => (seed === undefined ? 'glorotUniform' : tf.initializers.glorotUniform({ seed: seed + i }));
  const model = tf.sequential();
  let inputShape: [number] | undefined = [spec.features.length];
  spec.layers.forEach((layer, i) => {
    model.add(tf.layers.dense({ inputShape, units: layer.units, activation: layer.activation, name: `h${i}`, kernelInitializer: init(i), kernelRegularizer: kernelRegularizer(tf, spec) }));
    inputShape = undefined;
  });
  model.add(
    tf.layers.dense({ inputShape, units: 1, activation: 'sigmoid', name: 'out', kernelInitializer: init(spec.layers.length), kernelRegularizer: kernelRegularizer(tf, spec) }),
  );
  model.compile({ optimizer: makeOptimizer(tf, spec), loss: spec.loss === 'mse' ? 'meanSquaredError' : 'binaryCrossentropy' });
  return model;
}

/** The model's manifest (variable names and shapes, in order). */
export function modelManifest(model: Sequential): WeightsManifest {
  // originalName: tfjs suffixes `name` (h0/kernel_3) when a process builds several models.
  return model.weights.map((w) => ({ name: w.originalName, shape: [...w.shape] as number[] }));
}

/** The model's weights flattened into one float32 buffer, in manifest order. */
export function readWeights(model: Sequential): { manifest: WeightsManifest; weights: Float32Array } {
  const manifest = modelManifest(model);
  const weights = new Float32Array(manifestSize(manifest));
  let offset = 0;
  for (const w of model.weights) {
    const values = w.read().dataSync() as Float32Array;
    weights.set(values, offset);
    offset += values.length;
  }
  return { manifest, weights };
}

/** Throws a descriptive error unless `manifest` describes exactly the model's variables. */
export function assertManifestMatches(model: Sequential, manifest: WeightsManifest): void {
  const own = modelManifest(model);
  const describe = (m: WeightsManifest) => m.map((t) => `${t.name}[${t.shape.join('x')}]`).join(', ');
  const same =
    own.length === manifest.length &&
    own.every((t, i) => {
      const other = manifest[i]!;
      return t.name === other.name && t.shape.length === other.shape.length && t.shape.every((d, j) => d === other.shape[j]);
    });
  if (!same) throw new Error(`Weights manifest does not match the model: got ${describe(manifest)}; model has ${describe(own)}`);
}

/** Loads a flat buffer (in manifest order) into the model's variables, after checking it fits. */
export function writeWeights(tf: TF, model: Sequential, manifest: WeightsManifest, weights: Float32Array): void {
  assertManifestMatches(model, manifest);
  const expected = manifestSize(manifest);
  if (weights.length !== expected) throw new Error(`Weights buffer has ${weights.length} values; the manifest needs ${expected}`);
  let offset = 0;
  for (const [i, variable] of model.weights.entries()) {
    const shape = manifest[i]!.shape;
    const size = shape.reduce((a, b) => a * b, 1);
    // slice() copies: the CPU backend would otherwise alias the caller's buffer. write() takes its
    // own reference, so the temporary tensor is disposed right away.
    const value = tf.tensor(weights.slice(offset, offset + size), shape);
    variable.write(value);
    value.dispose();
    offset += size;
  }
}

/** Disposes a model and its optimizer (tfjs' Sequential.dispose leaves the optimizer's variables alive). */
export function disposeModel(model: Sequential): void {
  const optimizer = model.optimizer;
  model.dispose();
  optimizer?.dispose();
}

/** Deterministic round-0 weights for the spec: the same seed gives the same buffer everywhere. */
export function initialWeights(tf: TF, spec: ModelSpec, seed: number): { manifest: WeightsManifest; weights: Float32Array } {
  const model = buildModel(tf, spec, seed);
  try {
    return readWeights(model);
  } finally {
    disposeModel(model);
  }
}
