import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PersistQueue, type SaveJob } from '../../server/training/persist-queue';
import { createLogger } from '../../server/log';
import { waitFor } from '../helpers/server';

const unreachable = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { transient: true });
const duplicate = () => Object.assign(new Error('Unique constraint failed'), { code: 'P2002' });

function roundJob(round: number): SaveJob {
  const checkpoint = { runId: 'r', round, weights: new Uint8Array(4), manifest: '[]', metrics: '{}', optimizerState: null, loopState: null, createdAt: new Date() };
  const row = { runId: 'r', number: round } as unknown as Extract<SaveJob, { kind: 'round' }>['row'];
  return { kind: 'round', runId: 'r', round, row, checkpoint, contributions: [] };
}

/** A queue over a fake database that is up or down, recording what it stored. */
function harness(options: { maxPendingCheckpoints?: number } = {}) {
  const db = { up: true, stored: [] as { round: number | null; checkpoint: boolean; patch?: unknown }[], refuse: new Set<number>(), commitThenFail: new Set<number>() };
  const refused: SaveJob[] = [];
  let changes = 0;
  const queue = new PersistQueue({
    async write(job) {
      await new Promise((resolve) => setImmediate(resolve));
      if (!db.up) throw unreachable();
      if (job.kind === 'run') return void db.stored.push({ round: null, checkpoint: false, patch: job.patch });
      if (db.refuse.has(job.round)) throw new Error('value out of range');
      if (db.stored.some((s) => s.round === job.round)) throw duplicate();
      db.stored.push({ round: job.round, checkpoint: job.checkpoint !== null });
      if (db.commitThenFail.delete(job.round)) throw unreachable(); // committed, then the link dropped before the answer
    },
    isTransient: (error) => (error as { transient?: boolean }).transient === true,
    isAlreadyStored: (error) => (error as { code?: string }).code === 'P2002',
    onRefused: (job) => refused.push(job),
    onChange: () => changes++,
    log: createLogger('silent'),
    maxPendingCheckpoints: options.maxPendingCheckpoints,
    retry: { initialMs: 5, maxMs: 20 },
  });
  return { db, queue, refused, changes: () => changes };
}

describe('persist queue', () => {
  test('while the database answers, each write is awaited and stored in order', async () => {
    const { db, queue } = harness();
    assert.equal(await queue.enqueue(roundJob(1)), true);
    assert.equal(await queue.enqueue(roundJob(2)), true);
    assert.deepEqual(db.stored.map((s) => s.round), [1, 2]);
    assert.deepEqual(queue.status(), { status: 'ok', pendingRounds: 0, droppedCheckpoints: 0 });
  });

  test('during an outage writes return at once, wait in memory, and are stored in order once it is back', async () => {
    const { db, queue, changes } = harness();
    db.up = false;
    assert.equal(await queue.enqueue(roundJob(1)), false);
    assert.equal(queue.status().status, 'unavailable');
    for (const round of [2, 3, 4]) assert.equal(await queue.enqueue(roundJob(round)), false);
    assert.equal(await queue.enqueue({ kind: 'run', runId: 'r', patch: { status: 'finished' } }), false);
    assert.deepEqual(queue.status(), { status: 'unavailable', pendingRounds: 4, droppedCheckpoints: 0 });
    assert.equal(db.stored.length, 0);
    assert.ok(changes() >= 1, 'the outage is announced');
    db.up = true;
    await waitFor(() => queue.status().pendingRounds === 0 && queue.unsaved().length === 0, 5000, 'the backlog to be stored');
    assert.deepEqual(db.stored.map((s) => s.round), [1, 2, 3, 4, null], 'rounds in order, the status change last');
    assert.ok(db.stored.slice(0, 4).every((s) => s.checkpoint));
    assert.equal(queue.status().status, 'ok');
    assert.equal(await queue.enqueue(roundJob(5)), true, 'awaited again once caught up');
  });

  test('a long outage keeps every round but only the latest K checkpoints', async () => {
    const { db, queue } = harness({ maxPendingCheckpoints: 2 });
    db.up = false;
    for (let round = 1; round <= 6; round++) await queue.enqueue(roundJob(round));
    assert.deepEqual(queue.status(), { status: 'unavailable', pendingRounds: 6, droppedCheckpoints: 4 });
    assert.deepEqual(queue.unsaved(), [{ runId: 'r', rounds: [1, 2, 3, 4, 5, 6], checkpoints: [5, 6], statuses: [] }]);
    db.up = true;
    await waitFor(() => queue.status().pendingRounds === 0, 5000, 'the backlog to be stored');
    assert.deepEqual(db.stored, [1, 2, 3, 4, 5, 6].map((round) => ({ round, checkpoint: round >= 5 })));
  });

  test('a write that committed before the link dropped is not stored twice', async () => {
    const { db, queue, refused } = harness();
    db.commitThenFail.add(1);
    assert.equal(await queue.enqueue(roundJob(1)), false);
    await queue.enqueue(roundJob(2));
    await waitFor(() => queue.status().pendingRounds === 0, 5000, 'the retry');
    assert.deepEqual(db.stored.map((s) => s.round), [1, 2]);
    assert.equal(refused.length, 0);
  });

  test('a write the database refuses (not an outage) is reported and does not block the rest', async () => {
    const { db, queue, refused } = harness();
    db.refuse.add(1);
    assert.equal(await queue.enqueue(roundJob(1)), false);
    assert.equal(await queue.enqueue(roundJob(2)), true);
    assert.deepEqual(refused.map((j) => j.kind === 'round' && j.round), [1]);
    assert.deepEqual(db.stored.map((s) => s.round), [2]);
  });

  test('flush waits a bounded time and lists what could not be stored', async () => {
    const { db, queue } = harness();
    db.up = false;
    await queue.enqueue(roundJob(1));
    await queue.enqueue({ kind: 'run', runId: 'r', patch: { status: 'training' } });
    await queue.enqueue({ kind: 'run', runId: 'r', patch: { status: 'finished' } });
    const started = Date.now();
    const unsaved = await queue.flush(100);
    queue.dispose();
    assert.ok(Date.now() - started < 2000);
    assert.deepEqual(unsaved, [{ runId: 'r', rounds: [1], checkpoints: [1], statuses: [{ status: 'finished' }] }], 'consecutive status changes collapse');
  });
});
