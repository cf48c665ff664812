import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as Y from 'yjs';
import { DEFAULT_SPEC, TEMPLATES, countParams, validateSpec, type LayerSpec, type ModelSpec } from '../../server/protocol';
import { inferShapes } from '../../server/protocol/shapes';
import { addLayer, readLayers, readSpec, seedSpecDoc, setLayerType, updateLayer } from '../../server/protocol/spec-doc';

const mnist = (layers: LayerSpec[]): ModelSpec => ({ ...DEFAULT_SPEC, dataset: { ...DEFAULT_SPEC.dataset, name: 'mnist', samples: 1000 }, layers });

describe('inferShapes', () => {
  test('a dense network on points: shapes and the hand-counted parameters', () => {
    const report = inferShapes(DEFAULT_SPEC);
    assert.deepEqual(report.input, [7]);
    assert.deepEqual(report.layers.map((l) => l.shape), [[12], [8]]);
    assert.equal(report.params, 7 * 12 + 12 + 12 * 8 + 8 + 8 + 1);
    assert.equal(report.outputUnits, 1);
    assert.deepEqual(report.problems, []);
  });

  test('a CNN on MNIST: same-padded convs keep the size, pools halve it, dense flattens, 10 softmax outputs', () => {
    const report = inferShapes(
      mnist([
        { id: 'a', type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' },
        { id: 'b', type: 'maxpool', poolSize: 2 },
        { id: 'c', type: 'dropout', rate: 0.25 },
        { id: 'd', type: 'dense', units: 16, activation: 'relu' },
      ]),
    );
    assert.deepEqual(report.input, [28, 28, 1]);
    assert.deepEqual(report.layers.map((l) => l.shape), [[28, 28, 4], [14, 14, 4], [14, 14, 4], [16]]);
    assert.equal(report.layers[3]!.flattensInput, true);
    assert.equal(report.params, 3 * 3 * 1 * 4 + 4 + 14 * 14 * 4 * 16 + 16 + 16 * 10 + 10);
    assert.equal(report.outputUnits, 10);
  });

  test('the templates agree with their counted parameters', () => {
    for (const { spec } of Object.values(TEMPLATES)) assert.equal(countParams(spec), inferShapes(spec).params);
    assert.equal(countParams(TEMPLATES.sign.spec), 1 * 2 + 2 + 2 * 1 + 1);
  });

  test('image layers are problems on point data and after a flatten, tied to the layer field', () => {
    const onPoints = validateSpec({ ...DEFAULT_SPEC, layers: [{ id: 'a', type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' }] });
    assert.equal(onPoints.ok, false);
    if (!onPoints.ok) assert.deepEqual(onPoints.problems.map((p) => [p.path, p.message]), [['layers.0.type', 'A convolution needs an image dataset (MNIST)']]);
    const afterFlatten = validateSpec(mnist([{ id: 'f', type: 'flatten' }, { id: 'p', type: 'maxpool', poolSize: 2 }]));
    assert.equal(afterFlatten.ok, false);
    if (!afterFlatten.ok) assert.match(afterFlatten.problems[0]!.message, /Max pooling needs an image input: put it before any dense or flatten layer/);
  });

  test('a pool larger than what is left of the image is a problem on its pool size', () => {
    const layers: LayerSpec[] = [2, 2, 2, 2].map((poolSize, i) => ({ id: `p${i}`, type: 'maxpool', poolSize }));
    const result = validateSpec(mnist([...layers, { id: 'x', type: 'maxpool', poolSize: 2 }]));
    assert.equal(result.ok, false); // 28 → 14 → 7 → 3 → 1, then 2 > 1
    if (!result.ok) assert.deepEqual(result.problems.map((p) => p.path), ['layers.4.poolSize']);
  });

  test('a version-1 layer without a type reads as dense', () => {
    const v1 = { ...DEFAULT_SPEC, specVersion: 1, layers: [{ id: 'old', units: 3, activation: 'tanh' }] };
    const result = validateSpec(v1);
    assert.ok(result.ok);
    assert.deepEqual(result.spec.layers, [{ id: 'old', type: 'dense', units: 3, activation: 'tanh' }]);
  });
});

describe('layer types in the shared document', () => {
  test('setLayerType keeps shared fields, fills the new type’s defaults and drops the rest', () => {
    const doc = new Y.Doc();
    seedSpecDoc(doc, mnist([{ id: 'a', type: 'dense', units: 20, activation: 'tanh' }]));
    setLayerType(doc, 'a', 'conv2d');
    const { order: _o, ...conv } = readLayers(doc)[0]!;
    assert.deepEqual(conv, { id: 'a', type: 'conv2d', activation: 'tanh', filters: 8, kernelSize: 3 });
    setLayerType(doc, 'a', 'flatten');
    const { order: _o2, ...flat } = readLayers(doc)[0]!;
    assert.deepEqual(flat, { id: 'a', type: 'flatten' });
    updateLayer(doc, 'a', { type: 'dense', units: 5 }); // updateLayer never changes the type
    assert.equal(readLayers(doc)[0]!.type, 'flatten');
  });

  test('a document with conv, pool and dense layers reads back as a valid spec', () => {
    const doc = new Y.Doc();
    seedSpecDoc(doc, mnist([]));
    addLayer(doc, { type: 'conv2d', filters: 4, kernelSize: 5, activation: 'relu' });
    addLayer(doc, { type: 'maxpool', poolSize: 2 });
    addLayer(doc, { type: 'dense', units: 10, activation: 'relu' });
    const { spec, problems } = readSpec(doc);
    assert.deepEqual(problems, []);
    assert.deepEqual(spec!.layers.map((l) => l.type), ['conv2d', 'maxpool', 'dense']);
  });
});
