import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { DEFAULT_SPEC, SPEC_VERSION, type ModelSpec } from '../../server/protocol/spec';
import { TEMPLATES } from '../../server/protocol/templates';
import type { WeightsManifest } from '../../server/protocol/weights';
import { featurize } from '../../workers/ml/datasets';
import {
  confusionMatrix,
  evaluatePlane,
  forward,
  hiddenLayers,
  networkFromWeights,
  neuronScale,
  planePoints,
  planeResolution,
  planeView,
  predictPoint,
  predictedClasses,
} from '../../workers/ml/explain';
import { buildModel, disposeModel, readWeights, type TF } from '../../workers/ml/model';
import { loadNodeTf } from '../../workers/ml/node-tf';
import { mulberry32 } from '../../workers/ml/random';

/** "Is x > 0" with 1 input → 2 tanh units → 1 sigmoid output, weights chosen by hand. */
const TINY: ModelSpec = { ...TEMPLATES.sign.spec, layers: [{ id: 'l1', type: 'dense', units: 2, activation: 'tanh' }] };
const TINY_MANIFEST: WeightsManifest = [
  { name: 'h0/kernel', shape: [1, 2] },
  { name: 'h0/bias', shape: [2] },
  { name: 'out/kernel', shape: [2, 1] },
  { name: 'out/bias', shape: [1] },
];
// h0 = tanh(x₁), h1 = tanh(−x₁ + 0.5), out = σ(2·h0 − 3·h1 + 0.1), with x₁ = x / 5.
const TINY_WEIGHTS = Float32Array.of(1, -1, 0, 0.5, 2, -3, 0.1);

let tf: TF;
before(async () => {
  tf = await loadNodeTf('cpu');
});

const close = (actual: number, expected: number, tolerance = 1e-6, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what} ${actual} vs ${expected}`);

describe('the explain views’ forward pass', () => {
  it('evaluates the plane of a hand-computed 1-2-1 network, with each hidden unit’s activation', () => {
    const net = networkFromWeights(TINY, TINY_MANIFEST, TINY_WEIGHTS);
    assert.deepEqual(hiddenLayers(net), [{ layer: 0, units: 2, activation: 'tanh' }]);
    // The sign task's view is x, y ∈ [−11, 11]; 3 cells per side have centres −22/3, 0, 22/3.
    const plane = evaluatePlane(TINY, net, 3);
    assert.equal(plane.res, 3);
    assert.equal(plane.output.length, 9);
    // By hand (x₁ = −22/15, 0, 22/15):
    //   h0 = tanh(x₁)        = −0.898940, 0, 0.898940
    //   h1 = tanh(0.5 − x₁)  =  0.961595, 0.462117, −0.747236
    //   out = σ(2h0 − 3h1 + 0.1) = 0.010124, 0.216471, 0.984320
    const out = [0.010124056, 0.216471002, 0.984320336];
    const h0 = [-0.898939676, 0, 0.898939676];
    const h1 = [0.961595294, 0.462117157, -0.747235821];
    assert.equal(plane.neurons.length, 2);
    assert.deepEqual(plane.neurons.map((n) => [n.layer, n.unit, n.activation]), [[0, 0, 'tanh'], [0, 1, 'tanh']]);
    for (let row = 0; row < 3; row++) {
      for (let col = 0; col < 3; col++) {
        // The task has the single input x₁: every row of the plane is the same.
        close(plane.output[row * 3 + col]!, out[col]!, 1e-6, `output at row ${row} col ${col}`);
        close(plane.neurons[0]!.values[row * 3 + col]!, h0[col]!, 1e-6, 'h0');
        close(plane.neurons[1]!.values[row * 3 + col]!, h1[col]!, 1e-6, 'h1');
      }
    }
    close(predictPoint(TINY, net, 0, 7), out[1]!, 1e-6, 'at the origin column');
  });

  it('lays the plane out row by row from the top, at cell centres', () => {
    const view = planeView(DEFAULT_SPEC);
    assert.deepEqual(view, { xMin: -6, xMax: 6, yMin: -6, yMax: 6 });
    const points = planePoints(view, 4);
    assert.deepEqual([...points.subarray(0, 4)], [-4.5, 4.5, -1.5, 4.5]);
    assert.deepEqual([...points.subarray(30, 32)], [4.5, -4.5]);
  });

  it('keeps only the first units of wide layers', () => {
    const spec: ModelSpec = { ...DEFAULT_SPEC, layers: [{ id: 'a', type: 'dense', units: 40, activation: 'relu' }, { id: 'b', type: 'dropout', rate: 0.5 }, { id: 'c', type: 'dense', units: 3, activation: 'sigmoid' }] };
    const model = initial(spec);
    disposeModel(model.model);
    const net = networkFromWeights(spec, model.manifest, model.weights);
    const plane = evaluatePlane(spec, net, 5, 16);
    assert.deepEqual(plane.neurons.map((n) => `${n.layer}:${n.unit}`), [...Array.from({ length: 16 }, (_, i) => `0:${i}`), '2:0', '2:1', '2:2']);
  });

  it('refuses weights that belong to another network', () => {
    assert.throws(() => networkFromWeights(TINY, TINY_MANIFEST, TINY_WEIGHTS.subarray(1)), /7/);
    const wide = { ...TINY, layers: [{ id: 'l1', type: 'dense' as const, units: 3, activation: 'tanh' as const }] };
    assert.throws(() => networkFromWeights(wide, TINY_MANIFEST, TINY_WEIGHTS), /h0\/kernel is 1×2; this spec's network needs 1×3/);
    assert.throws(() => networkFromWeights(TINY, [{ name: 'x/kernel', shape: [7] }], TINY_WEIGHTS), /no tensor h0\/kernel/);
  });

  it('maps activations onto a diverging scale', () => {
    const values = Float32Array.of(0, 2, 4);
    assert.equal(neuronScale('relu', values)(2), 0.5);
    assert.equal(neuronScale('sigmoid', values)(0.75), 0.5);
    assert.equal(neuronScale('tanh', values)(-0.3), -0.3);
    assert.equal(neuronScale('linear', new Float32Array(3))(1), 0);
  });

  it('sizes the plane grid by the network’s cost', () => {
    assert.equal(planeResolution({ cost: 200 }), 64);
    assert.equal(planeResolution({ cost: 40_000 }), 31);
    assert.equal(planeResolution({ cost: 50_000_000 }), 12);
  });
});

describe('confusion counts', () => {
  it('counts rows by true class and predicted class', () => {
    const labels = [0, 1, 2, 2, 1, 0, 2];
    const predicted = [0, 2, 2, 2, 1, 1, 0];
    assert.deepEqual([...confusionMatrix(labels, predicted, 3)], [
      1, 1, 0, // true 0
      0, 1, 1, // true 1
      1, 0, 2, // true 2
    ]);
  });

  it('skips labels out of range and refuses mismatched lengths', () => {
    assert.deepEqual([...confusionMatrix([0, 5, 1], [0, 0, 9], 2)], [1, 0, 0, 0]);
    assert.throws(() => confusionMatrix([0], [0, 1], 2), /1 labels but 2 predictions/);
  });

  it('picks the most likely class, or p ≥ ½ for one sigmoid output', () => {
    assert.deepEqual([...predictedClasses(Float32Array.of(0.2, 0.5, 0.9), 3, 1)], [0, 1, 1]);
    assert.deepEqual([...predictedClasses(Float32Array.of(0.1, 0.7, 0.2, 0.5, 0.3, 0.2), 2, 3)], [1, 0]);
  });
});

/** A fresh model of the spec with seeded weights; the caller disposes it. */
function initial(spec: ModelSpec, seed = 3) {
  const model = buildModel(tf, spec, seed);
  return { ...readWeights(model), model };
}

/** Largest |tfjs − ours| over `n` random inputs of the spec's network. */
function agree(spec: ModelSpec, inputs: Float32Array, n: number): number {
  const { model, manifest, weights } = initial(spec, 11);
  try {
    const shape = spec.dataset.name === 'mnist' ? [n, 28, 28, 1] : [n, spec.features.length];
    const expected = tf.tidy(() => (model.predict(tf.tensor(inputs, shape)) as ReturnType<typeof tf.tensor>).dataSync());
    const net = networkFromWeights(spec, manifest, weights);
    const ours = forward(net, inputs, n).output;
    assert.equal(ours.length, expected.length);
    let worst = 0;
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - expected[i]!));
    return worst;
  } finally {
    disposeModel(model);
  }
}

describe('the forward pass agrees with TensorFlow.js', () => {
  it('on the spiral template, at random points of the plane', () => {
    const rng = mulberry32(5);
    const points = Float32Array.from({ length: 200 }, () => rng() * 12 - 6);
    const worst = agree(DEFAULT_SPEC, featurize(points, DEFAULT_SPEC.features), 100);
    assert.ok(worst < 1e-5, `max difference ${worst}`);
  });

  it('on every activation, dropout included', () => {
    const spec: ModelSpec = {
      ...DEFAULT_SPEC,
      layers: [
        { id: 'a', type: 'dense', units: 6, activation: 'relu' },
        { id: 'b', type: 'dropout', rate: 0.5 },
        { id: 'c', type: 'dense', units: 5, activation: 'sigmoid' },
        { id: 'd', type: 'dense', units: 4, activation: 'linear' },
      ],
    };
    const rng = mulberry32(6);
    const points = Float32Array.from({ length: 100 }, () => rng() * 12 - 6);
    assert.ok(agree(spec, featurize(points, spec.features), 50) < 1e-5);
  });

  it('on MNIST networks: the MLP and CNN templates and a CNN with even kernels and uneven pooling', () => {
    const rng = mulberry32(7);
    const n = 6;
    // Sparse images like digits: mostly zero, some ink.
    const images = Float32Array.from({ length: n * 784 }, () => (rng() < 0.7 ? 0 : rng()));
    const odd: ModelSpec = {
      ...TEMPLATES.mnist_cnn.spec,
      specVersion: SPEC_VERSION,
      layers: [
        { id: 'a', type: 'conv2d', filters: 3, kernelSize: 4, activation: 'relu' },
        { id: 'b', type: 'maxpool', poolSize: 3 },
        { id: 'c', type: 'conv2d', filters: 4, kernelSize: 5, activation: 'tanh' },
        { id: 'd', type: 'conv2d', filters: 2, kernelSize: 2, activation: 'linear' },
        { id: 'e', type: 'flatten' },
        { id: 'f', type: 'dense', units: 7, activation: 'relu' },
      ],
    };
    for (const spec of [TEMPLATES.mnist_mlp.spec, TEMPLATES.mnist_cnn.spec, odd]) {
      const worst = agree(spec, images, n);
      assert.ok(worst < 1e-5, `${spec.layers.map((l) => l.type).join(',')}: max difference ${worst}`);
    }
  });
});
