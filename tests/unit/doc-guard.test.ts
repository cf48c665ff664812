import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as Y from 'yjs';
import { DocGuard } from '../../server/collab/doc-guard';
import { addLayer, docTypeProblems, seedSpecDoc, setLayerType, setScalar, updateLayer } from '../../server/protocol/spec-doc';

/** A server doc seeded with the default spec, a client replica, and the guard the room would use. */
function setup() {
  const server = new Y.Doc();
  seedSpecDoc(server);
  const guard = new DocGuard(() => [Y.encodeStateAsUpdate(server)]);
  const replica = () => {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(server));
    return doc;
  };
  let client = replica();
  /** Runs an edit on the client and offers its update to the guard (applied to the server if admitted). */
  const edit = (change: (doc: Y.Doc) => void): string | null => {
    const before = Y.encodeStateVector(client);
    change(client);
    const update = Y.encodeStateAsUpdate(client, before);
    const verdict = guard.admit(update);
    if (verdict === null) Y.applyUpdate(server, update);
    // Refused: the room closes the connection; the next edit comes from a fresh replica.
    else client = replica();
    return verdict;
  };
  return { server, guard, edit };
}

describe('docTypeProblems', () => {
  test('a seeded document has none', () => {
    const doc = new Y.Doc();
    seedSpecDoc(doc);
    assert.deepEqual(docTypeProblems(doc), []);
  });

  test('names unknown keys, wrong enum values, non-numbers, bad layers and unknown roots', () => {
    const doc = new Y.Doc();
    seedSpecDoc(doc);
    doc.getMap('spec').set('optimizer', 'sgd-ish');
    doc.getMap('spec').set('learningRate', 'fast');
    doc.getMap('spec').set('nonsense', 1);
    doc.getMap('features').set('x1', 'yes');
    doc.getMap('layers').set('bad', 'not a map' as never);
    doc.getMap('extra').set('k', 1);
    assert.deepEqual(docTypeProblems(doc).sort(), ['features.x1', 'layers.bad', 'root extra', 'spec.learningRate', 'spec.nonsense', 'spec.optimizer']);
  });

  test('out-of-range numbers are not type problems (the editor writes them and shows the error)', () => {
    const doc = new Y.Doc();
    seedSpecDoc(doc);
    setScalar(doc, 'learningRate', 50);
    setScalar(doc, 'rounds', -3);
    assert.deepEqual(docTypeProblems(doc), []);
  });
});

describe('DocGuard', () => {
  test('admits what the editor does: scalars, layers added, retyped, edited', () => {
    const { edit, server } = setup();
    assert.equal(edit((d) => setScalar(d, 'learningRate', 0.5)), null);
    let id = '';
    assert.equal(edit((d) => (id = addLayer(d))), null);
    assert.equal(edit((d) => setLayerType(d, id, 'dropout')), null);
    assert.equal(edit((d) => updateLayer(d, id, { rate: 0.3 })), null);
    assert.equal(edit((d) => d.getText('notes').insert(0, 'hello')), null);
    assert.equal(server.getMap('spec').get('learningRate'), 0.5);
  });

  test('refuses an update that introduces a wrongly typed value, and keeps checking afterwards', () => {
    const { edit, server } = setup();
    assert.equal(edit((d) => d.getMap('spec').set('dataset.name', 'spirbl')), 'spec.dataset.name');
    assert.equal(server.getMap('spec').get('dataset.name'), 'spiral');
    assert.equal(edit((d) => d.getMap('layers').set('x', 'junk' as never)), 'layers.x');
    assert.equal(edit((d) => d.getMap('evil').set('a', 1)), 'root evil');
    // The guard rebuilt its shadow from the server: a good edit still passes.
    assert.equal(edit((d) => setScalar(d, 'rounds', 7)), null);
    assert.equal(server.getMap('spec').get('rounds'), 7);
  });
});
