import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as Y from 'yjs';
import { mapIndex, textChange, type Delta } from '../../app/_lib/notes-text';
import { mulberry32 } from '../../workers/ml/random';

/** Applies a textChange to a Y.Text and returns the resulting string. */
function applyChange(before: string, after: string): string {
  const doc = new Y.Doc();
  const text = doc.getText('t');
  text.insert(0, before);
  const change = textChange(before, after);
  if (change) {
    if (change.remove > 0) text.delete(change.index, change.remove);
    if (change.insert) text.insert(change.index, change.insert);
  }
  return text.toString();
}

describe('textChange', () => {
  test('finds the one replaced range between the common prefix and suffix', () => {
    assert.equal(textChange('abc', 'abc'), null);
    assert.deepEqual(textChange('hello world', 'hello brave world'), { index: 6, remove: 0, insert: 'brave ' });
    assert.deepEqual(textChange('hello brave world', 'hello world'), { index: 6, remove: 6, insert: '' });
    assert.deepEqual(textChange('abcdef', 'abXYef'), { index: 2, remove: 2, insert: 'XY' });
  });

  test('never splits a surrogate pair (an emoji stays whole in Yjs)', () => {
    const change = textChange('a😀b', 'a😃b')!; // same high surrogate, different low one
    assert.equal(change.index, 1);
    assert.equal(change.insert, '😃');
    assert.equal(applyChange('a😀b', 'a😃b'), 'a😃b');
  });

  test('applied to a Y.Text it always turns before into after (seeded random edits)', () => {
    const rng = mulberry32(5);
    const alphabet = ['a', 'b', ' ', '😀', 'é', '\n'];
    const word = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rng() * alphabet.length)]).join('');
    for (let i = 0; i < 500; i++) {
      const before = word(Math.floor(rng() * 12));
      const cut = Math.floor(rng() * (before.length + 1));
      const after = before.slice(0, cut) + word(Math.floor(rng() * 4)) + before.slice(cut + Math.floor(rng() * 3));
      assert.equal(applyChange(before, after), after, JSON.stringify({ before, after }));
    }
  });
});

describe('mapIndex', () => {
  const delta: Delta = [{ retain: 2 }, { insert: 'XY' }, { retain: 1 }, { delete: 2 }];
  test('moves an index through inserts and deletes', () => {
    assert.equal(mapIndex(0, delta, true), 0);
    assert.equal(mapIndex(1, delta, true), 1);
    assert.equal(mapIndex(2, delta, true), 4, 'text inserted at the index goes before it when sticking right');
    assert.equal(mapIndex(2, delta, false), 2, 'and after it otherwise');
    assert.equal(mapIndex(3, delta, true), 5);
    assert.equal(mapIndex(4, delta, true), 5, 'an index inside a deleted range lands at its start');
    assert.equal(mapIndex(6, delta, true), 6);
  });
});
