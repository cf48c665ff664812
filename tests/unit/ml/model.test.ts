import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { DEFAULT_SPEC, countParams, type ModelSpec } from '../../../server/protocol/spec';
import { TEMPLATES } from '../../../server/protocol/templates';
import { manifestSize } from '../../../server/protocol/weights';
import { datasetSplit } from '../../../workers/ml/datasets';
import { disposeEvaluator, evaluate, predictPoints } from '../../../workers/ml/evaluate';
import { buildModel, compileSpec, disposeModel, initialWeights, readWeights, writeWeights, type TF } from '../../../workers/ml/model';
import { loadNodeTf } from '../../../workers/ml/node-tf';

let tf: TF;
before(async () => {
  tf = await loadNodeTf('cpu');
});

describe('model weights', () => {
  it('builds the spec network with a stable manifest', () => {
    const model = buildModel(tf, DEFAULT_SPEC);
    const { manifest, weights } = readWeights(model);
    assert.deepEqual(manifest, [
      { name: 'h0/kernel', shape: [7, 12] },
      { name: 'h0/bias', shape: [12] },
      { name: 'h1/kernel', shape: [12, 8] },
      { name: 'h1/bias', shape: [8] },
      { name: 'out/kernel', shape: [8, 1] },
      { name: 'out/bias', shape: [1] },
    ]);
    assert.equal(weights.length, countParams(DEFAULT_SPEC));
    assert.equal(manifestSize(manifest), countParams(DEFAULT_SPEC));
    disposeModel(model);
  });

  it('round-trips a buffer through writeWeights/readWeights', () => {
    const model = buildModel(tf, DEFAULT_SPEC);
    const { manifest } = readWeights(model);
    const values = Float32Array.from({ length: manifestSize(manifest) }, (_, i) => Math.sin(i) * 0.37);
    writeWeights(tf, model, manifest, values);
    assert.deepEqual(readWeights(model).weights, values);
    // The model must not alias the caller's buffer.
    values[0] = 123;
    assert.notEqual(readWeights(model).weights[0], 123);
    disposeModel(model);
  });

  it('refuses a manifest or buffer that does not fit, saying why', () => {
    const model = buildModel(tf, DEFAULT_SPEC);
    const { manifest, weights } = readWeights(model);
    const wider: ModelSpec = { ...DEFAULT_SPEC, layers: [{ id: 'a', type: 'dense', units: 13, activation: 'tanh' }, DEFAULT_SPEC.layers[1]!] };
    const other = initialWeights(tf, wider, 1);
    assert.throws(() => writeWeights(tf, model, other.manifest, other.weights), /manifest does not match the model.*h0\/kernel\[7x13\].*model has.*h0\/kernel\[7x12\]/);
    assert.throws(() => writeWeights(tf, model, manifest, weights.subarray(1)), new RegExp(`has ${weights.length - 1} values; the manifest needs ${weights.length}`));
    disposeModel(model);
  });

  it('initialWeights is deterministic for a seed, differs across seeds, and leaks no tensors', () => {
    const before = tf.memory().numTensors;
    const a = initialWeights(tf, DEFAULT_SPEC, 42);
    const b = initialWeights(tf, DEFAULT_SPEC, 42);
    const c = initialWeights(tf, DEFAULT_SPEC, 43);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.weights, c.weights);
    assert.ok(a.weights.some((v) => v !== 0));
    assert.equal(tf.memory().numTensors, before);
  });
});

describe('evaluate / predictPoints', () => {
  it('matches a hand computation on the held-out split and keeps tensors flat across specs', async () => {
    const { manifest, weights } = initialWeights(tf, DEFAULT_SPEC, 9);
    const metrics = await evaluate(tf, DEFAULT_SPEC, manifest, weights);
    const test = datasetSplit(DEFAULT_SPEC.dataset).test;
    const p = await predictPoints(tf, DEFAULT_SPEC, manifest, weights, test.x);
    assert.equal(p.length, test.y.length);
    let loss = 0;
    let correct = 0;
    p.forEach((pi, i) => {
      const y = test.y[i]!;
      loss -= y * Math.log(pi) + (1 - y) * Math.log(1 - pi);
      if ((pi >= 0.5 ? 1 : 0) === y) correct += 1;
    });
    assert.ok(Math.abs(metrics.loss - loss / p.length) < 1e-4, `${metrics.loss} vs ${loss / p.length}`);
    assert.ok(Math.abs(metrics.accuracy - correct / p.length) < 1e-6);

    const other = { ...DEFAULT_SPEC, dataset: { ...DEFAULT_SPEC.dataset, name: 'xor' as const } };
    const baseline = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      await evaluate(tf, DEFAULT_SPEC, manifest, weights);
      await evaluate(tf, other, manifest, weights);
    }
    const settled = tf.memory().numTensors;
    await evaluate(tf, DEFAULT_SPEC, manifest, weights);
    assert.equal(tf.memory().numTensors, settled);
    assert.ok(settled > baseline, 'the second spec got its own cached evaluator');
    disposeEvaluator();
  });
});

describe('compileSpec', () => {
  it('gives the problems of a half-edited spec, tied to fields, instead of throwing', () => {
    const half = { ...DEFAULT_SPEC, learningRate: 'abc', layers: [{ id: 'a', type: 'dense', units: 0, activation: 'tanh' }] };
    const result = compileSpec(tf, half);
    assert.equal(result.ok, false);
    if (!result.ok) assert.deepEqual(result.problems.map((p) => p.path).sort(), ['layers.0.units', 'learningRate']);
  });

  it('compiles a CNN for MNIST whose variables match the counted parameters, with 10 softmax outputs', () => {
    const spec = TEMPLATES.mnist_cnn.spec;
    const result = compileSpec(tf, spec);
    assert.ok(result.ok);
    const { manifest, weights } = readWeights(result.model);
    assert.equal(weights.length, countParams(spec));
    assert.deepEqual(manifest.map((t) => t.name), ['h1/kernel', 'h1/bias', 'h4/kernel', 'h4/bias', 'out/kernel', 'out/bias']);
    assert.deepEqual(result.model.outputs[0]!.shape, [null, 10]);
    disposeModel(result.model);
  });
});
