import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkJsonTree, checkTopology, compareShapes, decodeWeights, fileWeightSpecs, parseOrigin } from '../../server/training/export-check';

const dense = (name: string, units: number, extra: Record<string, unknown> = {}) => ({ class_name: 'Dense', config: { name, units, activation: 'tanh', use_bias: true, ...extra } });
const sequential = (...layers: unknown[]) => ({ class_name: 'Sequential', config: { name: 's', layers } });
const input = (...shape: number[]) => ({ class_name: 'InputLayer', config: { name: 'input', batch_input_shape: [null, ...shape] } });
const b64 = (values: number[]) => Buffer.from(new Float32Array(values).buffer).toString('base64');

describe('import checks before TensorFlow.js sees a file', () => {
  test('counts the variables of a Sequential stack and lists them in TF.js order', () => {
    const checked = checkTopology(
      sequential(input(28, 28, 1), { class_name: 'Conv2D', config: { name: 'h0', filters: 4, kernel_size: [3, 3], strides: [1, 1] } }, { class_name: 'MaxPooling2D', config: { name: 'h1', pool_size: [2, 2] } }, { class_name: 'Flatten', config: { name: 'h2' } }, dense('out', 10)),
    );
    assert.ok(checked.ok);
    assert.equal(checked.value.params, 3 * 3 * 1 * 4 + 4 + 14 * 14 * 4 * 10 + 10);
    assert.deepEqual(checked.value.weights, [
      { name: 'h0/kernel', shape: [3, 3, 1, 4] },
      { name: 'h0/bias', shape: [4] },
      { name: 'out/kernel', shape: [784, 10] },
      { name: 'out/bias', shape: [10] },
    ]);
  });

  test('reads Keras files (model_config wrapper, input shape on the first layer)', () => {
    const checked = checkTopology({ model_config: sequential(dense('dense_1', 4, { batch_input_shape: [null, 2] }), dense('dense_2', 1)) });
    assert.ok(checked.ok);
    assert.equal(checked.value.params, 2 * 4 + 4 + 4 + 1);
  });

  test('refuses other model kinds, unknown layers, missing input shapes and oversized networks', () => {
    const problem = (value: unknown) => {
      const checked = checkTopology(value);
      return checked.ok ? null : checked.problem;
    };
    assert.match(problem({ class_name: 'Functional', config: {} })!, /Only Sequential models/);
    assert.match(problem(sequential(input(2), { class_name: 'Lambda', config: { name: 'evil' } }))!, /Layer evil is a Lambda/);
    assert.match(problem(sequential(dense('d', 4)))!, /declares no usable input shape/);
    assert.match(problem(sequential(input(1000), dense('d', 1001)))!, /more than 1,000,000 parameters/);
    assert.match(problem(sequential(input(8), { class_name: 'Conv2D', config: { name: 'c', filters: 2, kernel_size: 3 } }))!, /needs an image input/);
    assert.match(problem('nope')!, /no modelTopology/);
  });

  test('refuses deep, huge or prototype-touching JSON', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    assert.match(checkJsonTree(deep)!, /nested more than 32/);
    assert.match(checkJsonTree(JSON.parse('{"a":{"__proto__":{"x":1}}}'))!, /"__proto__"/);
    assert.match(checkJsonTree({ a: { constructor: 1 } })!, /"constructor"/);
    assert.match(checkJsonTree(Array.from({ length: 60_000 }, () => 0))!, /more than 50,000 values/);
    assert.equal(checkJsonTree({ fine: [1, 'two', { three: null }] }), null);
  });

  test('takes only plain float32 model weights from the manifest', () => {
    const manifest = (weights: unknown[]) => ({ weightsManifest: [{ paths: ['weights.bin'], weights }] });
    const specs = fileWeightSpecs(manifest([{ name: 'a/kernel', shape: [2, 3], dtype: 'float32' }]));
    assert.ok(specs.ok);
    assert.deepEqual(specs.value, [{ name: 'a/kernel', shape: [2, 3], dtype: 'float32' }]);
    const problem = (value: Record<string, unknown>) => {
      const checked = fileWeightSpecs(value);
      return checked.ok ? null : checked.problem;
    };
    assert.match(problem({})!, /no weightsManifest/);
    assert.match(problem(manifest([{ name: 'a', shape: [2], dtype: 'int32' }]))!, /a is int32/);
    assert.match(problem(manifest([{ name: 'a', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8' } }]))!, /quantised/);
    assert.match(problem(manifest([{ name: 'iter', shape: [], dtype: 'float32', group: 'optimizer' }]))!, /optimizer weights/);
    assert.match(problem(manifest([{ name: 'a', shape: [-1], dtype: 'float32' }]))!, /invalid shape/);
  });

  test('names the first tensor whose shape differs, and a missing or extra tensor', () => {
    const spec = [
      { name: 'h0/kernel', shape: [2, 4] },
      { name: 'h0/bias', shape: [4] },
    ];
    const where = { given: 'the file', expected: 'the spec' };
    assert.equal(compareShapes(spec, spec, where), null);
    assert.equal(compareShapes([{ name: 'dense_1/kernel', shape: [2, 8] }, spec[1]!], spec, where), 'dense_1/kernel is [2,8] in the file but [2,4] in the spec (h0/kernel)');
    assert.match(compareShapes(spec.slice(0, 1), spec, where)!, /the file has 1 weight tensors but the spec has 2: h0\/bias \[4\] is missing/);
    assert.match(compareShapes([...spec, { name: 'x', shape: [1] }], spec, where)!, /x \[1\] is not in the spec/);
  });

  test('decodes weights.bin of exactly the listed size with finite values only', () => {
    const specs = [{ name: 'k', shape: [2], dtype: 'float32' as const }];
    const ok = decodeWeights(b64([1.5, -2]), specs);
    assert.ok(ok.ok);
    assert.deepEqual([...ok.value], [1.5, -2]);
    const short = decodeWeights(b64([1]), specs);
    assert.ok(!short.ok && /4 bytes but model\.json lists 2 float32 values \(8 bytes\)/.test(short.problem));
    const inf = decodeWeights(b64([1, Number.POSITIVE_INFINITY]), specs);
    assert.ok(!inf.ok && /Infinity at index 1 of k/.test(inf.problem));
  });

  test('reads a stored origin, and nothing from a damaged one', () => {
    assert.deepEqual(parseOrigin('{"kind":"checkpoint","runId":"r","round":3}'), { kind: 'checkpoint', runId: 'r', round: 3 });
    assert.deepEqual(parseOrigin('{"kind":"import","name":"n"}'), { kind: 'import', name: 'n' });
    assert.equal(parseOrigin(null), null);
    assert.equal(parseOrigin('{"kind":"magic"}'), null);
    assert.equal(parseOrigin('not json'), null);
  });
});
