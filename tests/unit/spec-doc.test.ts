import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as Y from 'yjs';
import { DEFAULT_SPEC, MAX_HIDDEN_LAYERS, canonicalJson, countParams, validateSpec, type ModelSpec } from '../../server/protocol/spec';
import {
  LAYERS_MAP,
  SPEC_MAP,
  addLayer,
  moveLayer,
  readLayers,
  readSpec,
  removeLayer,
  seedSpecDoc,
  setFeature,
  setScalar,
  updateLayer,
} from '../../server/protocol/spec-doc';

const ids = (doc: Y.Doc) => readLayers(doc).map((l) => l.id);

function seeded(spec: ModelSpec = DEFAULT_SPEC): Y.Doc {
  const doc = new Y.Doc();
  seedSpecDoc(doc, spec);
  return doc;
}

/** Exchanges full state both ways, as two peers that reconnect would. */
function sync(a: Y.Doc, b: Y.Doc): void {
  const fromA = Y.encodeStateAsUpdate(a, Y.encodeStateVector(b));
  const fromB = Y.encodeStateAsUpdate(b, Y.encodeStateVector(a));
  Y.applyUpdate(b, fromA);
  Y.applyUpdate(a, fromB);
}

/** Two peers that start from the same seeded document. */
function peers(spec: ModelSpec = DEFAULT_SPEC): [Y.Doc, Y.Doc] {
  const a = seeded(spec);
  const b = new Y.Doc();
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
  return [a, b];
}

const threeLayers: ModelSpec = {
  ...DEFAULT_SPEC,
  layers: [
    { id: 'a', type: 'dense', units: 4, activation: 'relu' },
    { id: 'b', type: 'dense', units: 5, activation: 'tanh' },
    { id: 'c', type: 'dense', units: 6, activation: 'sigmoid' },
  ],
};

describe('seeding and reading', () => {
  test('seedSpecDoc then readSpec gives DEFAULT_SPEC back with no problems', () => {
    const { spec, problems } = readSpec(seeded());
    assert.deepEqual(problems, []);
    assert.deepEqual(spec, DEFAULT_SPEC);
  });

  test('a non-default spec round-trips too, including a feature subset and layer order', () => {
    const custom: ModelSpec = {
      ...threeLayers,
      dataset: { name: 'xor', samples: 300, noise: 0.25, seed: 7, trainRatio: 0.6, points: 'integers' },
      features: ['x1', 'x1x2'],
      optimizer: 'sgd',
      learningRate: 0.5,
      batchSize: 64,
      localEpochs: 1,
      rounds: 100,
    };
    assert.deepEqual(readSpec(seeded(custom)), { spec: custom, problems: [] });
  });

  test('an empty document reads as problems, not as a spec', () => {
    const { spec, problems } = readSpec(new Y.Doc());
    assert.equal(spec, null);
    assert.ok(problems.length > 0);
  });

  test('seeding a document that already holds a spec does nothing', () => {
    const doc = seeded();
    const before = Y.encodeStateAsUpdate(doc);
    let updates = 0;
    doc.on('update', () => updates++);
    seedSpecDoc(doc, threeLayers);
    assert.equal(updates, 0);
    assert.deepEqual(Y.encodeStateAsUpdate(doc), before);
    assert.deepEqual(readSpec(doc).spec, DEFAULT_SPEC);
  });

  test('seeding is one transaction (peers see one update)', () => {
    const doc = new Y.Doc();
    let updates = 0;
    doc.on('update', () => updates++);
    seedSpecDoc(doc);
    assert.equal(updates, 1);
  });
});

describe('scalar and feature edits', () => {
  test('setScalar with a valid value shows up in readSpec', () => {
    const doc = seeded();
    setScalar(doc, 'dataset.noise', 0.3);
    setScalar(doc, 'dataset.name', 'circle');
    setScalar(doc, 'rounds', 5);
    const { spec } = readSpec(doc);
    assert.equal(spec?.dataset.noise, 0.3);
    assert.equal(spec?.dataset.name, 'circle');
    assert.equal(spec?.rounds, 5);
  });

  test('setScalar with an out-of-range value yields a problem tied to that path', () => {
    const cases: [Parameters<typeof setScalar>[1], string | number][] = [
      ['dataset.noise', 0.9],
      ['dataset.samples', 10],
      ['dataset.trainRatio', 0.99],
      ['learningRate', 0],
      ['batchSize', 2048],
      ['localEpochs', 1.5],
      ['rounds', 0],
      ['dataset.name', 'moons'],
      ['optimizer', 'rmsprop'],
    ];
    for (const [path, value] of cases) {
      const doc = seeded();
      setScalar(doc, path, value);
      const { spec, problems } = readSpec(doc);
      assert.equal(spec, null, path);
      assert.deepEqual(
        problems.map((p) => p.path),
        [path],
        `${path} = ${value}`,
      );
      assert.ok(problems[0]!.message.length > 0);
    }
  });

  test('a number typed as a string is a problem on that path', () => {
    const doc = seeded();
    setScalar(doc, 'batchSize', '16');
    assert.deepEqual(readSpec(doc).problems.map((p) => p.path), ['batchSize']);
  });

  test('fixing the value clears the problem', () => {
    const doc = seeded();
    setScalar(doc, 'dataset.noise', 0.9);
    assert.equal(readSpec(doc).spec, null);
    setScalar(doc, 'dataset.noise', 0.2);
    assert.equal(readSpec(doc).spec?.dataset.noise, 0.2);
  });

  test('setFeature toggles features, kept in canonical feature order; none at all is a problem on features', () => {
    const doc = seeded();
    for (const f of DEFAULT_SPEC.features) setFeature(doc, f, false);
    assert.deepEqual(readSpec(doc).problems.map((p) => p.path), ['features']);
    setFeature(doc, 'sin2', true);
    setFeature(doc, 'x1', true);
    assert.deepEqual(readSpec(doc).spec?.features, ['x1', 'sin2']);
  });
});

describe('layer edits', () => {
  test('addLayer appends a layer at the end and returns its id', () => {
    const doc = seeded();
    const id = addLayer(doc, { type: 'dense', units: 3, activation: 'relu' });
    assert.deepEqual(ids(doc), ['l1', 'l2', id]);
    assert.deepEqual(readSpec(doc).spec?.layers.at(-1), { id, type: 'dense', units: 3, activation: 'relu' });
  });

  test('addLayer with no layer given adds 4 tanh units', () => {
    const doc = seeded();
    const id = addLayer(doc);
    assert.deepEqual(readSpec(doc).spec?.layers.at(-1), { id, type: 'dense', units: 4, activation: 'tanh' });
  });

  test('addLayer gives each layer a fresh id that passes validation', () => {
    const doc = seeded();
    const a = addLayer(doc);
    const b = addLayer(doc);
    assert.notEqual(a, b);
    assert.ok(validateSpec(readSpec(doc).spec).ok);
  });

  test('addLayer after a given layer inserts it right after that layer', () => {
    const doc = seeded(threeLayers);
    const afterA = addLayer(doc, { type: 'dense', units: 2, activation: 'linear' }, 'a');
    const afterC = addLayer(doc, { type: 'dense', units: 2, activation: 'linear' }, 'c');
    assert.deepEqual(ids(doc), ['a', afterA, 'b', 'c', afterC]);
  });

  test('addLayer into a spec with no hidden layers gives a one-layer spec', () => {
    const doc = seeded({ ...DEFAULT_SPEC, layers: [] });
    const id = addLayer(doc);
    assert.deepEqual(ids(doc), [id]);
  });

  test(
    'addLayer after a layer that no longer exists appends at the end',
    () => {
      const doc = seeded(threeLayers);
      const id = addLayer(doc, { type: 'dense', units: 2, activation: 'relu' }, 'gone');
      assert.deepEqual(ids(doc), ['a', 'b', 'c', id]);
    },
  );

  test('more than the maximum number of hidden layers is a problem on layers', () => {
    const doc = seeded({ ...DEFAULT_SPEC, layers: [] });
    for (let i = 0; i < MAX_HIDDEN_LAYERS; i++) addLayer(doc);
    assert.equal(readSpec(doc).spec?.layers.length, MAX_HIDDEN_LAYERS);
    addLayer(doc);
    assert.deepEqual(readSpec(doc).problems.map((p) => p.path), ['layers']);
  });

  test('removeLayer removes only that layer; an unknown id changes nothing', () => {
    const doc = seeded(threeLayers);
    removeLayer(doc, 'b');
    assert.deepEqual(ids(doc), ['a', 'c']);
    removeLayer(doc, 'nope');
    assert.deepEqual(ids(doc), ['a', 'c']);
  });

  test('updateLayer patches units and/or activation, in one transaction', () => {
    const doc = seeded(threeLayers);
    let updates = 0;
    doc.on('update', () => updates++);
    updateLayer(doc, 'b', { type: 'dense', units: 9, activation: 'relu' });
    assert.equal(updates, 1);
    updateLayer(doc, 'c', { type: 'dense', units: 1 });
    updateLayer(doc, 'a', { activation: 'linear' });
    assert.deepEqual(readSpec(doc).spec?.layers, [
      { id: 'a', type: 'dense', units: 4, activation: 'linear' },
      { id: 'b', type: 'dense', units: 9, activation: 'relu' },
      { id: 'c', type: 'dense', units: 1, activation: 'sigmoid' },
    ]);
  });

  test('updateLayer on an unknown id does nothing', () => {
    const doc = seeded(threeLayers);
    const before = Y.encodeStateAsUpdate(doc);
    updateLayer(doc, 'nope', { type: 'dense', units: 2 });
    assert.deepEqual(Y.encodeStateAsUpdate(doc), before);
  });

  test('updateLayer with invalid units yields a problem on that layer\u2019s units', () => {
    const doc = seeded(threeLayers);
    updateLayer(doc, 'b', { type: 'dense', units: 0 });
    assert.deepEqual(readSpec(doc).problems.map((p) => p.path), ['layers.1.units']);
  });

  test('moveLayer moves a layer one place up or down', () => {
    const doc = seeded(threeLayers);
    moveLayer(doc, 'c', -1);
    assert.deepEqual(ids(doc), ['a', 'c', 'b']);
    moveLayer(doc, 'c', -1);
    assert.deepEqual(ids(doc), ['c', 'a', 'b']);
    moveLayer(doc, 'c', 1);
    assert.deepEqual(ids(doc), ['a', 'c', 'b']);
    moveLayer(doc, 'a', 1);
    moveLayer(doc, 'a', 1);
    assert.deepEqual(ids(doc), ['c', 'b', 'a']);
  });

  test('moveLayer past either end, or of an unknown id, does nothing', () => {
    const doc = seeded(threeLayers);
    moveLayer(doc, 'a', -1);
    moveLayer(doc, 'c', 1);
    moveLayer(doc, 'nope', 1);
    assert.deepEqual(ids(doc), ['a', 'b', 'c']);
  });

  test('a move is one write to the layer\u2019s order; the layer count never changes', () => {
    const doc = seeded(threeLayers);
    const layers = doc.getMap(LAYERS_MAP);
    moveLayer(doc, 'b', 1);
    assert.equal(layers.size, 3);
    assert.deepEqual(readSpec(doc).spec?.layers.map((l) => l.id), ['a', 'c', 'b']);
  });

  test(
    'many moves between the same two neighbours keep working',
    () => {
      const doc = seeded({
        ...DEFAULT_SPEC,
        layers: ['a', 'x', 'y', 'b'].map((id) => ({ id, type: 'dense' as const, units: 2, activation: 'tanh' as const })),
      });
      for (let i = 0; i < 80; i++) {
        const [first, second, third, fourth] = ids(doc);
        moveLayer(doc, third!, -1);
        assert.deepEqual(ids(doc), [first, third, second, fourth], `move ${i + 1}`);
      }
    },
  );
});

describe('concurrent edits on two peers', () => {
  test('both peers moving the same layer converge to one list with no duplicate', () => {
    const [a, b] = peers(threeLayers);
    moveLayer(a, 'b', -1);
    moveLayer(b, 'b', 1);
    assert.deepEqual(ids(a), ['b', 'a', 'c']);
    assert.deepEqual(ids(b), ['a', 'c', 'b']);
    sync(a, b);
    assert.deepEqual(ids(a), ids(b));
    assert.deepEqual([...ids(a)].sort(), ['a', 'b', 'c']);
    assert.deepEqual(readSpec(a), readSpec(b));
    assert.ok(readSpec(a).spec);
  });

  test('both peers moving the same layer the same way converge to that move', () => {
    const [a, b] = peers(threeLayers);
    moveLayer(a, 'c', -1);
    moveLayer(b, 'c', -1);
    sync(a, b);
    assert.deepEqual(ids(a), ['a', 'c', 'b']);
    assert.deepEqual(ids(b), ['a', 'c', 'b']);
  });

  test('peers moving different layers converge, each layer exactly once', () => {
    const [a, b] = peers(threeLayers);
    moveLayer(a, 'a', 1);
    moveLayer(b, 'c', -1);
    sync(a, b);
    assert.deepEqual(ids(a), ids(b));
    assert.deepEqual([...ids(a)].sort(), ['a', 'b', 'c']);
  });

  test('both peers adding a layer at the end converge to the same order, keeping both', () => {
    const [a, b] = peers();
    const fromA = addLayer(a, { type: 'dense', units: 3, activation: 'relu' });
    const fromB = addLayer(b, { type: 'dense', units: 5, activation: 'sigmoid' });
    sync(a, b);
    assert.deepEqual(ids(a), ids(b));
    assert.equal(ids(a).length, 4);
    assert.deepEqual(ids(a).slice(0, 2), ['l1', 'l2']);
    assert.deepEqual([...ids(a).slice(2)].sort(), [fromA, fromB].sort());
    assert.deepEqual(readSpec(a), readSpec(b));
  });

  test('a layer removed on one peer and moved on the other stays removed', () => {
    const [a, b] = peers(threeLayers);
    removeLayer(a, 'b');
    moveLayer(b, 'b', -1);
    sync(a, b);
    assert.deepEqual(ids(a), ['a', 'c']);
    assert.deepEqual(ids(b), ['a', 'c']);
  });

  test('concurrent edits of different fields of one layer both survive', () => {
    const [a, b] = peers(threeLayers);
    updateLayer(a, 'b', { type: 'dense', units: 32 });
    updateLayer(b, 'b', { activation: 'relu' });
    sync(a, b);
    for (const doc of [a, b]) assert.deepEqual(readSpec(doc).spec?.layers[1], { id: 'b', type: 'dense', units: 32, activation: 'relu' });
  });

  test('concurrent writes of one scalar settle on the same value on both peers', () => {
    const [a, b] = peers();
    setScalar(a, 'learningRate', 0.1);
    setScalar(b, 'learningRate', 0.2);
    sync(a, b);
    const lr = a.getMap(SPEC_MAP).get('learningRate');
    assert.ok(lr === 0.1 || lr === 0.2);
    assert.equal(b.getMap(SPEC_MAP).get('learningRate'), lr);
  });
});

describe('spec version 2: limits, the sign task, upgrading version 1', () => {
  test('a version-1 spec (a run stored before) validates as version 2 with the new fields at their defaults', () => {
    const { loss: _loss, regularization: _reg, ...rest } = DEFAULT_SPEC;
    const v1 = { ...rest, specVersion: 1, dataset: { name: 'spiral', samples: 800, noise: 0.1, seed: 42, trainRatio: 0.8 } };
    const result = validateSpec(v1);
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    assert.deepEqual(result.spec, DEFAULT_SPEC);
  });

  test('the "is x > 0" task takes x₁ only, with the problem on features', () => {
    const sign = { ...DEFAULT_SPEC, dataset: { ...DEFAULT_SPEC.dataset, name: 'sign' as const } };
    const result = validateSpec(sign);
    assert.equal(result.ok, false);
    if (!result.ok) assert.deepEqual(result.problems.map((p) => p.path), ['features']);
    assert.equal(validateSpec({ ...sign, features: ['x1'] }).ok, true);
  });

  test('more than 1,000,000 parameters is a problem on layers, naming the count', () => {
    const huge = { ...DEFAULT_SPEC, layers: [{ id: 'a', type: 'dense', units: 1024, activation: 'relu' as const }, { id: 'b', type: 'dense', units: 1024, activation: 'relu' as const }] };
    assert.equal(validateSpec(huge).ok, false);
    const result = validateSpec(huge);
    if (!result.ok) {
      assert.equal(result.problems[0]!.path, 'layers');
      assert.equal(result.problems[0]!.message, "The network has 1,058,817 parameters; at most 1,000,000 fit a round");
    }
    assert.equal(validateSpec({ ...huge, layers: huge.layers.slice(0, 1) }).ok, true);
  });

  test('differential privacy can be switched on, with noise', () => {
    assert.equal(validateSpec({ ...DEFAULT_SPEC, privacy: { ...DEFAULT_SPEC.privacy, differentialPrivacy: 'on', clipNorm: 2, noiseMultiplier: 1.1 } }).ok, true);
    const noiseless = validateSpec({ ...DEFAULT_SPEC, privacy: { ...DEFAULT_SPEC.privacy, differentialPrivacy: 'on', noiseMultiplier: 0 } });
    assert.equal(noiseless.ok, false);
    if (!noiseless.ok) assert.deepEqual(noiseless.problems.map((p) => p.path), ['privacy.noiseMultiplier']);
  });

  test('loss and L1/L2 regularisation are validated fields', () => {
    assert.equal(validateSpec({ ...DEFAULT_SPEC, loss: 'mse', regularization: { l1: 0.001, l2: 0.01 } }).ok, true);
    const bad = validateSpec({ ...DEFAULT_SPEC, loss: 'hinge', regularization: { l1: -1, l2: 0 } });
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.deepEqual(bad.problems.map((p) => p.path).sort(), ['loss', 'regularization.l1']);
  });
});

describe('countParams and canonicalJson', () => {
  test('countParams of DEFAULT_SPEC is the hand count: 7→12→8→1 dense with biases = 209', () => {
    // (7·12 + 12) + (12·8 + 8) + (8·1 + 1) = 96 + 104 + 9
    assert.equal(countParams(DEFAULT_SPEC), 209);
  });

  test('countParams of a spec with no hidden layers is features + 1 (logistic regression)', () => {
    assert.equal(countParams({ ...DEFAULT_SPEC, features: ['x1', 'x2'], layers: [] }), 3);
  });

  test('countParams follows each layer\u2019s width', () => {
    // 2 features, 3 → 1 hidden: (2·3 + 3) + (3·1 + 1) + (1·1 + 1) = 9 + 4 + 2
    const spec: ModelSpec = {
      ...DEFAULT_SPEC,
      features: ['x1', 'x2'],
      layers: [
        { id: 'h1', type: 'dense', units: 3, activation: 'relu' },
        { id: 'h2', type: 'dense', units: 1, activation: 'relu' },
      ],
    };
    assert.equal(countParams(spec), 15);
  });

  test('canonicalJson sorts keys at every depth and keeps array order', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  test('canonicalJson is the same whatever order the keys were written in', () => {
    // The same spec with every object's keys written in reverse order.
    const reverseKeys = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reverseKeys)
        : value && typeof value === 'object'
          ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)]))
          : value;
    const reordered = reverseKeys(DEFAULT_SPEC);
    assert.notEqual(JSON.stringify(reordered), JSON.stringify(DEFAULT_SPEC));
    assert.equal(canonicalJson(reordered), canonicalJson(DEFAULT_SPEC));
    assert.equal(canonicalJson(readSpec(seeded()).spec), canonicalJson(DEFAULT_SPEC));
  });

  test('canonicalJson of primitives is plain JSON', () => {
    assert.equal(canonicalJson(1.5), '1.5');
    assert.equal(canonicalJson('x'), '"x"');
    assert.equal(canonicalJson(null), 'null');
    assert.equal(canonicalJson([{ b: 1, a: 2 }]), '[{"a":2,"b":1}]');
  });
});
