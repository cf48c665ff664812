import type * as tfjs from '@tensorflow/tfjs';
import { validateSpec, type ModelSpec, type SpecProblem } from '../../server/protocol/spec';
import { classCount, inferShapes, inputShape } from '../../server/protocol/shapes';
import { featurize, type Dataset } from './datasets';
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

/**
 * The spec's loss of predicted probabilities `p` against labels `y` (n×1 0/1 for two classes,
 * n×classes one-hot otherwise), averaged: a scalar, as model.fit computes it.
 */
export function specLoss(tf: TF, spec: Pick<ModelSpec, 'loss'>, y: tfjs.Tensor, p: tfjs.Tensor): tfjs.Scalar {
  if (spec.loss === 'mse') return tf.mean(tf.squaredDifference(p, y)) as tfjs.Scalar;
  if (y.shape[1] !== undefined && y.shape[1] > 1) return tf.mean(tf.metrics.categoricalCrossentropy(y, p)) as tfjs.Scalar;
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
 * The spec's network (see server/protocol/shapes.ts for what each layer does to the shape),
 * compiled with its optimizer and loss and with L1/L2 kernel regularisation. Layers are named by
 * position (h0, h1, …, out) so manifests are identical in every process, whatever the layer ids;
 * an implicit flatten before a dense layer on an image is `h<i>_flatten` (no variables).
 * `seed` makes the initial weights deterministic; omit it when the weights get overwritten anyway.
 * Throws when the spec's shapes do not work (the validator reports those as problems first).
 */
export function buildModel(tf: TF, spec: ModelSpec, seed?: number): Sequential {
  const shapes = inferShapes(spec);
  if (shapes.problems.length > 0) throw new Error(`The network cannot be built: ${shapes.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const init = (i: number) => (seed === undefined ? 'glorotUniform' : tf.initializers.glorotUniform({ seed: seed + i }));
  const regularizer = kernelRegularizer(tf, spec);
  const model = tf.sequential();
  // The first layer carries the input shape; an input layer keeps that true whatever comes first.
  model.add(tf.layers.inputLayer({ inputShape: shapes.input, name: 'input' }));
  spec.layers.forEach((layer, i) => {
    const name = `h${i}`;
    switch (layer.type) {
      case 'dense':
        if (shapes.layers[i]!.flattensInput) model.add(tf.layers.flatten({ name: `${name}_flatten` }));
        model.add(tf.layers.dense({ units: layer.units, activation: layer.activation, name, kernelInitializer: init(i), kernelRegularizer: regularizer }));
        break;
      case 'conv2d':
        model.add(
          tf.layers.conv2d({ filters: layer.filters, kernelSize: layer.kernelSize, padding: 'same', activation: layer.activation, name, kernelInitializer: init(i), kernelRegularizer: regularizer }),
        );
        break;
      case 'maxpool':
        model.add(tf.layers.maxPooling2d({ poolSize: layer.poolSize, strides: layer.poolSize, name }));
        break;
      case 'flatten':
        model.add(tf.layers.flatten({ name }));
        break;
      case 'dropout':
        model.add(tf.layers.dropout({ rate: layer.rate, name }));
        break;
    }
  });
  const last = shapes.layers[shapes.layers.length - 1]?.shape ?? shapes.input;
  if (last.length === 3) model.add(tf.layers.flatten({ name: 'out_flatten' }));
  const multiclass = shapes.outputUnits > 1;
  model.add(
    tf.layers.dense({ units: shapes.outputUnits, activation: multiclass ? 'softmax' : 'sigmoid', name: 'out', kernelInitializer: init(spec.layers.length), kernelRegularizer: regularizer }),
  );
  model.compile({ optimizer: makeOptimizer(tf, spec), loss: spec.loss === 'mse' ? 'meanSquaredError' : multiclass ? 'categoricalCrossentropy' : 'binaryCrossentropy' });
  return model;
}

/**
 * Input and label tensors of dataset rows for the spec's model: featurized points (n×features) or
 * images (n×28×28×1); labels n×1 (0/1) for two classes, one-hot n×classes otherwise.
 */
export function dataTensors(tf: TF, spec: ModelSpec, rows: Dataset): { x: tfjs.Tensor; y: tfjs.Tensor } {
  const n = rows.y.length;
  const input = inputShape(spec);
  const classes = classCount(spec);
  return tf.tidy(() => ({
    x: input.length === 3 ? tf.tensor(rows.x, [n, ...input]) : tf.tensor2d(featurize(rows.x, spec.features), [n, spec.features.length]),
    y: classes === 2 ? tf.tensor2d(rows.y, [n, 1]) : tf.oneHot(tf.tensor1d(Int32Array.from(rows.y), 'int32'), classes).toFloat(),
  }));
}

/** Share of rows whose predicted class (p ≥ 0.5, or the most likely class) matches the label. */
export function accuracyOf(tf: TF, y: tfjs.Tensor, p: tfjs.Tensor): tfjs.Scalar {
  return tf.tidy(() =>
    (y.shape[1] !== undefined && y.shape[1] > 1 ? tf.equal(tf.argMax(p, 1), tf.argMax(y, 1)) : tf.equal(p.greaterEqual(0.5).toFloat(), y)).toFloat().mean(),
  ) as tfjs.Scalar;
}

/**
 * The spec compiled: the TF.js model, or the problems (tied to field paths) that stop it being
 * built. Never throws on a half-edited spec.
 */
export function compileSpec(tf: TF, value: unknown): { ok: true; spec: ModelSpec; model: Sequential } | { ok: false; problems: SpecProblem[] } {
  const checked = validateSpec(value);
  if (!checked.ok) return checked;
  return { ok: true, spec: checked.spec, model: buildModel(tf, checked.spec) };
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
