/**
 * What the explain views compute from a global model, as plain functions over typed arrays (no
 * TensorFlow.js): the network's forward pass (dense, conv2d 'same', max-pool, flatten, dropout as
 * identity — exactly what model.ts builds, checked against tfjs in tests/unit/explain.test.ts),
 * the decision surface and each hidden neuron's activation over the 2-D plane, and confusion
 * counts. Isomorphic: runs on the main thread, in a Web Worker or in Node.
 *
 * Why not tfjs: the views' networks are small, and a hand loop over Float32Arrays evaluates a
 * 64×64 grid of the default spiral model in ~2 ms with every hidden activation at hand, with no
 * second TensorFlow.js instance on the page.
 */
import type { Activation, ModelSpec } from '../../server/protocol/spec';
import { inferShapes } from '../../server/protocol/shapes';
import type { WeightsManifest } from '../../server/protocol/weights';
import { DOMAIN, SIGN_RANGE, featurize } from './datasets';

type OutputActivation = Activation | 'softmax';

interface DenseOp {
  kind: 'dense';
  /** Index of the spec layer (-1: the output layer). */
  layer: number;
  inputs: number;
  units: number;
  /** inputs × units, row-major (tfjs' kernel layout). */
  kernel: Float32Array;
  bias: Float32Array;
  activation: OutputActivation;
}

interface ConvOp {
  kind: 'conv';
  layer: number;
  height: number;
  width: number;
  channels: number;
  filters: number;
  size: number;
  /** size × size × channels × filters (tfjs' layout). */
  kernel: Float32Array;
  bias: Float32Array;
  activation: Activation;
}

interface PoolOp {
  kind: 'pool';
  layer: number;
  height: number;
  width: number;
  channels: number;
  size: number;
}

type Op = DenseOp | ConvOp | PoolOp;

/** A spec's network with its weights, ready for {@link forward}. Activations are stored flat (height × width × channels, row-major), so flatten is free. */
export interface Network {
  inputSize: number;
  outputs: number;
  ops: Op[];
  /** Multiply-adds per sample: what a forward pass costs. */
  cost: number;
}

/** One hidden dense layer whose activations a view can show. */
export interface HiddenLayer {
  layer: number;
  units: number;
  activation: Activation;
}

/**
 * The spec's network with `weights` (manifest order, as the server sends them). Throws a
 * descriptive error when the manifest does not describe this spec's network or the buffer's size
 * is wrong — e.g. weights of an older run arriving with a newer spec.
 */
export function networkFromWeights(spec: ModelSpec, manifest: WeightsManifest, weights: Float32Array): Network {
  const tensors = new Map<string, { offset: number; shape: number[] }>();
  let offset = 0;
  for (const t of manifest) {
    tensors.set(t.name, { offset, shape: t.shape });
    offset += t.shape.reduce((a, b) => a * b, 1);
  }
  if (offset !== weights.length) throw new Error(`Weights buffer has ${weights.length} values; the manifest needs ${offset}`);
  const take = (name: string, shape: number[]): Float32Array => {
    const t = tensors.get(name);
    if (!t) throw new Error(`The weights have no tensor ${name}: they belong to another network`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`Tensor ${name} is ${t.shape.join('×')}; this spec's network needs ${shape.join('×')}`);
    }
    return weights.subarray(t.offset, t.offset + shape.reduce((a, b) => a * b, 1));
  };

  const shapes = inferShapes(spec);
  if (shapes.problems.length > 0) throw new Error(`The network cannot be built: ${shapes.problems[0]!.message}`);
  const ops: Op[] = [];
  let shape = shapes.input;
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  spec.layers.forEach((layer, i) => {
    const name = `h${i}`;
    switch (layer.type) {
      case 'dense': {
        const inputs = size(shape);
        ops.push({ kind: 'dense', layer: i, inputs, units: layer.units, kernel: take(`${name}/kernel`, [inputs, layer.units]), bias: take(`${name}/bias`, [layer.units]), activation: layer.activation });
        shape = [layer.units];
        break;
      }
      case 'conv2d': {
        const [height, width, channels] = shape as [number, number, number];
        const { filters, kernelSize } = layer;
        ops.push({
          kind: 'conv',
          layer: i,
          height,
          width,
          channels,
          filters,
          size: kernelSize,
          kernel: take(`${name}/kernel`, [kernelSize, kernelSize, channels, filters]),
          bias: take(`${name}/bias`, [filters]),
          activation: layer.activation,
        });
        shape = [height, width, filters];
        break;
      }
      case 'maxpool': {
        const [height, width, channels] = shape as [number, number, number];
        ops.push({ kind: 'pool', layer: i, height, width, channels, size: layer.poolSize });
        shape = [Math.floor(height / layer.poolSize), Math.floor(width / layer.poolSize), channels];
        break;
      }
      case 'flatten':
        shape = [size(shape)];
        break;
      case 'dropout':
        break; // identity at inference
    }
  });
  const inputs = size(shape);
  const outputs = shapes.outputUnits;
  ops.push({ kind: 'dense', layer: -1, inputs, units: outputs, kernel: take('out/kernel', [inputs, outputs]), bias: take('out/bias', [outputs]), activation: outputs > 1 ? 'softmax' : 'sigmoid' });
  if (tensors.size !== ops.filter((op) => op.kind !== 'pool').length * 2) throw new Error('The weights have tensors this spec’s network does not');
  return { inputSize: size(shapes.input), outputs, ops, cost: ops.reduce((sum, op) => sum + opCost(op), 0) };
}

function opCost(op: Op): number {
  if (op.kind === 'dense') return op.inputs * op.units;
  if (op.kind === 'conv') return op.height * op.width * op.size * op.size * op.channels * op.filters;
  return op.height * op.width * op.channels;
}

/** The hidden dense layers of a network, in order (what the neuron views show). */
export function hiddenLayers(net: Network): HiddenLayer[] {
  return net.ops.filter((op): op is DenseOp => op.kind === 'dense' && op.layer >= 0).map((op) => ({ layer: op.layer, units: op.units, activation: op.activation as Activation }));
}

function activate(activation: OutputActivation, v: Float32Array, length: number): void {
  switch (activation) {
    case 'relu':
      for (let i = 0; i < length; i++) if (v[i]! < 0) v[i] = 0;
      return;
    case 'tanh':
      for (let i = 0; i < length; i++) v[i] = Math.tanh(v[i]!);
      return;
    case 'sigmoid':
      for (let i = 0; i < length; i++) v[i] = 1 / (1 + Math.exp(-v[i]!));
      return;
    case 'linear':
      return;
    case 'softmax': {
      let max = -Infinity;
      for (let i = 0; i < length; i++) max = Math.max(max, v[i]!);
      let sum = 0;
      for (let i = 0; i < length; i++) sum += v[i] = Math.exp(v[i]! - max);
      for (let i = 0; i < length; i++) v[i]! /= sum;
      return;
    }
  }
}

function dense(op: DenseOp, x: Float32Array, out: Float32Array): void {
  const { inputs, units, kernel, bias } = op;
  out.set(bias);
  for (let i = 0; i < inputs; i++) {
    const xi = x[i]!;
    if (xi === 0) continue; // images are mostly background, relu outputs mostly zero
    const row = i * units;
    for (let j = 0; j < units; j++) out[j]! += xi * kernel[row + j]!;
  }
  activate(op.activation, out, units);
}

/** 'same' padding, stride 1, as TensorFlow pads it: the odd pixel of an even kernel goes after. */
function conv(op: ConvOp, x: Float32Array, out: Float32Array): void {
  const { height, width, channels, filters, size, kernel, bias } = op;
  const pad = Math.floor((size - 1) / 2);
  for (let p = 0; p < height * width; p++) out.set(bias, p * filters);
  for (let iy = 0; iy < height; iy++) {
    for (let ix = 0; ix < width; ix++) {
      for (let c = 0; c < channels; c++) {
        const v = x[(iy * width + ix) * channels + c]!;
        if (v === 0) continue;
        // Scatter this input to every output whose window covers it.
        for (let ky = 0; ky < size; ky++) {
          const oy = iy - ky + pad;
          if (oy < 0 || oy >= height) continue;
          for (let kx = 0; kx < size; kx++) {
            const ox = ix - kx + pad;
            if (ox < 0 || ox >= width) continue;
            const k = ((ky * size + kx) * channels + c) * filters;
            const o = (oy * width + ox) * filters;
            for (let f = 0; f < filters; f++) out[o + f]! += v * kernel[k + f]!;
          }
        }
      }
    }
  }
  activate(op.activation, out, height * width * filters);
}

function pool(op: PoolOp, x: Float32Array, out: Float32Array): void {
  const { width, channels, size } = op;
  const oh = Math.floor(op.height / size);
  const ow = Math.floor(width / size);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let c = 0; c < channels; c++) {
        let max = -Infinity;
        for (let ky = 0; ky < size; ky++) for (let kx = 0; kx < size; kx++) max = Math.max(max, x[((oy * size + ky) * width + ox * size + kx) * channels + c]!);
        out[(oy * ow + ox) * channels + c] = max;
      }
    }
  }
}

function opOutputSize(op: Op): number {
  if (op.kind === 'dense') return op.units;
  if (op.kind === 'conv') return op.height * op.width * op.filters;
  return Math.floor(op.height / op.size) * Math.floor(op.width / op.size) * op.channels;
}

/**
 * Runs `n` samples (rows of `net.inputSize` values: featurized points or 28×28 images in [0, 1])
 * through the network. `output` holds n × outputs probabilities; `hidden` maps the spec index of
 * each dense layer listed in `keep` to its n × units activations.
 */
export function forward(net: Network, x: Float32Array, n: number, keep: readonly number[] = []): { output: Float32Array; hidden: Map<number, Float32Array> } {
  if (x.length < n * net.inputSize) throw new Error(`forward: ${n} samples need ${n * net.inputSize} values, got ${x.length}`);
  const output = new Float32Array(n * net.outputs);
  const hidden = new Map<number, Float32Array>();
  const buffers = net.ops.map((op) => new Float32Array(opOutputSize(op)));
  const kept = net.ops.map((op) => (op.kind === 'dense' && keep.includes(op.layer) ? op.units : 0));
  net.ops.forEach((op, k) => kept[k]! > 0 && hidden.set(op.layer, new Float32Array(n * kept[k]!)));
  for (let s = 0; s < n; s++) {
    let input = x.subarray(s * net.inputSize, (s + 1) * net.inputSize);
    for (let k = 0; k < net.ops.length; k++) {
      const op = net.ops[k]!;
      const out = buffers[k]!;
      if (op.kind === 'dense') dense(op, input, out);
      else if (op.kind === 'conv') conv(op, input, out);
      else pool(op, input, out);
      if (kept[k]! > 0) hidden.get(op.layer)!.set(out, s * kept[k]!);
      input = out;
    }
    output.set(input, s * net.outputs);
  }
  return { output, hidden };
}

// ---- the 2-D plane -------------------------------------------------------------------------

/** The part of the plane a 2-D view shows (x to the right, y up). */
export interface PlaneView {
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
}

/** The square around the dataset: ±6 for the 2-D sets, ±11 for "is x > 0" on [−10, 10]. */
export function planeView(spec: Pick<ModelSpec, 'dataset'>): PlaneView {
  const half = spec.dataset.name === 'sign' ? SIGN_RANGE + 1 : DOMAIN;
  return { xMin: -half, xMax: half, yMin: -half, yMax: half };
}

/** Centres of a res × res grid of cells over the view, row by row from the top (n×2, row-major). */
export function planePoints(view: PlaneView, res: number): Float32Array {
  const points = new Float32Array(res * res * 2);
  const dx = (view.xMax - view.xMin) / res;
  const dy = (view.yMax - view.yMin) / res;
  for (let row = 0; row < res; row++) {
    for (let col = 0; col < res; col++) {
      const k = row * res + col;
      points[2 * k] = view.xMin + (col + 0.5) * dx;
      points[2 * k + 1] = view.yMax - (row + 0.5) * dy;
    }
  }
  return points;
}

/** Cells per side for a plane grid: as fine as `max` while the grid costs at most `budget` multiply-adds. */
export function planeResolution(net: Pick<Network, 'cost'>, budget = 40_000_000, max = 64, min = 12): number {
  return Math.max(min, Math.min(max, Math.floor(Math.sqrt(budget / Math.max(1, net.cost)))));
}

export interface NeuronMap {
  layer: number;
  unit: number;
  activation: Activation;
  /** The unit's activation at each cell (res × res, rows from the top). */
  values: Float32Array;
}

export interface PlaneEvaluation {
  res: number;
  /** Probability of label 1 at each cell (res × res, rows from the top). */
  output: Float32Array;
  /** Hidden units' activations, at most `maxUnits` per layer. */
  neurons: NeuronMap[];
}

/** The model's output and its hidden units' activations over a res × res grid of the spec's plane. */
export function evaluatePlane(spec: ModelSpec, net: Network, res: number, maxUnits = 16): PlaneEvaluation {
  const points = planePoints(planeView(spec), res);
  const layers = hiddenLayers(net);
  const { output, hidden } = forward(net, featurize(points, spec.features), res * res, layers.map((l) => l.layer));
  const neurons: NeuronMap[] = [];
  const cells = res * res;
  for (const { layer, units, activation } of layers) {
    const all = hidden.get(layer)!;
    for (let unit = 0; unit < Math.min(units, maxUnits); unit++) {
      const values = new Float32Array(cells);
      for (let c = 0; c < cells; c++) values[c] = all[c * units + unit]!;
      neurons.push({ layer, unit, activation, values });
    }
  }
  return { res, output, neurons };
}

/** Probability of label 1 at one point of the plane (e.g. under the pointer). */
export function predictPoint(spec: ModelSpec, net: Network, x: number, y: number): number {
  return forward(net, featurize(Float32Array.of(x, y), spec.features), 1).output[0]!;
}

/**
 * A neuron's activation mapped to [−1, 1] for a diverging colour scale: tanh as is, sigmoid
 * around ½, relu and linear by the largest magnitude on the grid (so the map shows its shape).
 */
export function neuronScale(activation: Activation, values: Float32Array): (v: number) => number {
  if (activation === 'tanh') return (v) => v;
  if (activation === 'sigmoid') return (v) => 2 * v - 1;
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]!));
  return max > 0 ? (v) => v / max : () => 0;
}

// ---- classification --------------------------------------------------------------------------

/** The most likely class of each of `n` rows of `classes` probabilities (one sigmoid output: p ≥ ½ → 1). */
export function predictedClasses(output: Float32Array, n: number, outputs: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let s = 0; s < n; s++) {
    if (outputs === 1) {
      out[s] = output[s]! >= 0.5 ? 1 : 0;
      continue;
    }
    let best = 0;
    for (let c = 1; c < outputs; c++) if (output[s * outputs + c]! > output[s * outputs + best]!) best = c;
    out[s] = best;
  }
  return out;
}

/** Counts[true × classes + predicted]; rows with a label or prediction out of range are skipped. */
export function confusionMatrix(labels: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): Uint32Array {
  if (labels.length !== predicted.length) throw new Error(`confusionMatrix: ${labels.length} labels but ${predicted.length} predictions`);
  const counts = new Uint32Array(classes * classes);
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i]!;
    const p = predicted[i]!;
    if (Number.isInteger(t) && Number.isInteger(p) && t >= 0 && t < classes && p >= 0 && p < classes) counts[t * classes + p]! += 1;
  }
  return counts;
}
