import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RETENTION, roundsToDrop, roundsToKeep } from '../../server/training/retention';
import { readEnv, readRetention } from '../../server/env';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const sorted = (set: Set<number>) => [...set].sort((a, b) => a - b);

test('keeps round 0, every k-th round and the latest N', () => {
  assert.deepEqual(sorted(roundsToKeep(range(0, 10), { keepLatest: 2, keepEvery: 3 })), [0, 3, 6, 9, 10]);
  assert.deepEqual(roundsToDrop(range(0, 10), { keepLatest: 2, keepEvery: 3 }), [1, 2, 4, 5, 7, 8]);
});

test('the final round of an ended run is always kept', () => {
  // Rounds 0..7 stored, run ended at 7: 7 is kept even with keepLatest 1 and 7 % 3 !== 0.
  assert.deepEqual(sorted(roundsToKeep([0, 3, 5, 6, 7], { keepLatest: 1, keepEvery: 3 }, 7)), [0, 3, 6, 7]);
  assert.deepEqual(sorted(roundsToKeep([0, 3, 5, 6], { keepLatest: 1, keepEvery: 3 }, 5)), [0, 3, 5, 6]);
});

test('the latest checkpoint is never dropped, whatever the policy says', () => {
  for (const policy of [{ keepLatest: 0, keepEvery: 1000 }, { keepLatest: -3, keepEvery: 0 }, { keepLatest: 1.7, keepEvery: 7 }]) {
    const stored = [0, 4, 5, 11];
    assert.ok(roundsToKeep(stored, policy).has(11), JSON.stringify(policy));
    assert.ok(!roundsToDrop(stored, policy).includes(11));
    assert.ok(roundsToKeep(stored, policy).has(0));
  }
});

test('thinning is idempotent and works on already-thinned, unordered input with gaps', () => {
  const policy = { keepLatest: 3, keepEvery: 5 };
  const first = sorted(roundsToKeep(range(0, 23), policy));
  assert.deepEqual(first, [0, 5, 10, 15, 20, 21, 22, 23]);
  assert.deepEqual(sorted(roundsToKeep([...first].reverse(), policy)), first);
  assert.deepEqual(roundsToDrop(first, policy), []);
  // The next round arrives: 21 falls out of the latest three.
  assert.deepEqual(roundsToDrop([...first, 24], policy), [21]);
});

test('keepEvery 1 keeps everything; the defaults keep 20 latest and every 10th', () => {
  assert.deepEqual(roundsToDrop(range(0, 50), { keepLatest: 1, keepEvery: 1 }), []);
  assert.deepEqual(DEFAULT_RETENTION, { keepLatest: 20, keepEvery: 10 });
  const kept = sorted(roundsToKeep(range(0, 100), DEFAULT_RETENTION));
  assert.deepEqual(kept, [0, 10, 20, 30, 40, 50, 60, 70, 80, ...range(81, 100)]);
  assert.deepEqual(roundsToDrop([], DEFAULT_RETENTION), []);
});

test('CHECKPOINT_KEEP_LATEST / CHECKPOINT_KEEP_EVERY: defaults 20 and 10, whole numbers ≥ 1, bad values refused', () => {
  assert.deepEqual(readRetention({}), { keepLatest: 20, keepEvery: 10 });
  assert.deepEqual(readRetention({ CHECKPOINT_KEEP_LATEST: '2', CHECKPOINT_KEEP_EVERY: '3' }), { keepLatest: 2, keepEvery: 3 });
  for (const bad of [{ CHECKPOINT_KEEP_LATEST: '0' }, { CHECKPOINT_KEEP_EVERY: 'ten' }, { CHECKPOINT_KEEP_EVERY: '2.5' }, { CHECKPOINT_KEEP_LATEST: '-1' }]) {
    assert.throws(() => readRetention(bad), /CHECKPOINT_KEEP_/, JSON.stringify(bad));
  }
  // The whole configuration knows them too.
  assert.equal(readEnv({ CHECKPOINT_KEEP_LATEST: '5' }).CHECKPOINT_KEEP_LATEST, 5);
  assert.throws(() => readEnv({ CHECKPOINT_KEEP_EVERY: '0' }), /CHECKPOINT_KEEP_EVERY/);
});
