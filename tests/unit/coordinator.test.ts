import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Coordinator, type CoordinatorConfig, type Decision } from '../../server/training/coordinator';

const f32 = (...v: number[]) => new Float32Array(v);

function make(overrides: Partial<CoordinatorConfig> = {}): Coordinator {
  return new Coordinator({ runId: 'run-1', totalRounds: 3, paramCount: 2, lastRound: 0, minClients: 1, ...overrides });
}

function update(clientId: string, round: number, delta: Float32Array, samples = 10) {
  return { type: 'update' as const, clientId, round, samples, computeMs: 5, trainLoss: 0.5, delta };
}

function only<T extends Decision['type']>(decisions: Decision[], type: T): Extract<Decision, { type: T }> {
  const found = decisions.filter((d) => d.type === type);
  assert.equal(found.length, 1, `expected exactly one '${type}' in ${JSON.stringify(decisions.map((d) => d.type))}`);
  return found[0] as Extract<Decision, { type: T }>;
}

const types = (decisions: Decision[]) => decisions.map((d) => d.type);

/** The snapshot minus the round tally (checked by its own tests). */
function withoutTally(c: Coordinator) {
  const { tally: _tally, ...rest } = c.snapshot();
  return rest;
}

/** A started coordinator with `ids` registered before start(), i.e. all in round 1. */
function running(ids: string[], overrides: Partial<CoordinatorConfig> = {}): Coordinator {
  const c = make(overrides);
  for (const clientId of ids) c.handle({ type: 'client_available', clientId });
  c.start();
  return c;
}

describe('Coordinator: starting rounds', () => {
  test('after start() it waits, with a reason, until a client is available, then starts round 1 with it', () => {
    const c = make();
    const atStart = c.start();
    assert.deepEqual(atStart, [{ type: 'waiting', reason: 'Waiting for a participant to connect' }]);
    assert.equal(c.snapshot().phase, 'waiting');
    assert.equal(c.snapshot().waitingReason, 'Waiting for a participant to connect');

    const decisions = c.handle({ type: 'client_available', clientId: 'a' });
    assert.deepEqual(decisions, [{ type: 'start_round', round: 1, participants: ['a'] }]);
  });

  test('with minClients > 1 the waiting reason counts the participants still missing', () => {
    const c = make({ minClients: 3 });
    assert.deepEqual(c.start(), [{ type: 'waiting', reason: 'Waiting for 3 more participant(s)' }]);
    assert.deepEqual(c.handle({ type: 'client_available', clientId: 'a' }), [{ type: 'waiting', reason: 'Waiting for 2 more participant(s)' }]);
    assert.deepEqual(c.handle({ type: 'client_available', clientId: 'b' }), [{ type: 'waiting', reason: 'Waiting for 1 more participant(s)' }]);
    assert.equal(types(c.handle({ type: 'client_available', clientId: 'c' }))[0], 'start_round');
  });

  test('clients that arrive before start() are only registered, then all join the first round', () => {
    const c = make();
    assert.deepEqual(c.handle({ type: 'client_available', clientId: 'c' }), []);
    assert.deepEqual(c.handle({ type: 'client_available', clientId: 'a' }), []);
    assert.deepEqual(c.handle({ type: 'client_available', clientId: 'b' }), []);
    assert.equal(c.snapshot().phase, 'waiting');
    assert.deepEqual(c.start(), [{ type: 'start_round', round: 1, participants: ['a', 'b', 'c'] }]);
  });

  test('resuming with lastRound = k starts at round k + 1', () => {
    const c = make({ totalRounds: 10, lastRound: 4 });
    assert.equal(c.snapshot().round, 5);
    c.handle({ type: 'client_available', clientId: 'a' });
    assert.deepEqual(c.start(), [{ type: 'start_round', round: 5, participants: ['a'] }]);
  });

  test('resuming a run whose rounds are all done is finished and starts nothing', () => {
    const c = make({ totalRounds: 3, lastRound: 3 });
    assert.equal(c.snapshot().phase, 'finished');
    c.handle({ type: 'client_available', clientId: 'a' });
    assert.deepEqual(c.start(), []);
    assert.equal(c.snapshot().phase, 'finished');
  });
});

describe('Coordinator: closing rounds', () => {
  test('a round closes when every participant answered, with the sample-weighted mean of their updates', () => {
    const c = running(['a', 'b']);
    const first = c.handle(update('a', 1, f32(1, -2), 10));
    assert.deepEqual(first, [{ type: 'progress' }]);
    const second = c.handle(update('b', 1, f32(4, 6), 30));
    assert.deepEqual(types(second), ['progress', 'close_round']);
    const close = only(second, 'close_round');
    assert.equal(close.round, 1);
    assert.equal(close.samples, 40);
    // (10·1 + 30·4) / 40 = 3.25 ; (10·(−2) + 30·6) / 40 = 4
    assert.deepEqual(close.aggregate.finalize(), f32(3.25, 4));
    assert.deepEqual(close.contributions, [
      { clientId: 'a', samples: 10, computeMs: 5, trainLoss: 0.5 },
      { clientId: 'b', samples: 30, computeMs: 5, trainLoss: 0.5 },
    ]);
  });

  test('the mean of three unequally weighted updates matches the hand-computed value', () => {
    const c = running(['a', 'b', 'c'], { paramCount: 3 });
    c.handle(update('c', 1, f32(0, 0, 8), 1));
    c.handle(update('a', 1, f32(2, 4, 0), 2));
    const close = only(c.handle(update('b', 1, f32(-1, 1, 0), 5)), 'close_round');
    // weights 2, 5, 1 (total 8): [(4 − 5 + 0)/8, (8 + 5 + 0)/8, (0 + 0 + 8)/8]
    assert.deepEqual(close.aggregate.finalize(), f32(-0.125, 1.625, 1));
    assert.equal(close.samples, 8);
    assert.deepEqual(close.contributions.map((x) => x.clientId), ['c', 'a', 'b']);
  });

  test('round_saved after a middle round starts the next round', () => {
    const c = running(['a']);
    c.handle(update('a', 1, f32(1, 1)));
    assert.equal(c.snapshot().phase, 'aggregating');
    assert.deepEqual(c.handle({ type: 'round_saved', round: 1 }), [{ type: 'start_round', round: 2, participants: ['a'] }]);
  });

  test('round_saved for a round other than the one being aggregated is ignored', () => {
    const c = running(['a']);
    c.handle(update('a', 1, f32(1, 1)));
    assert.deepEqual(c.handle({ type: 'round_saved', round: 2 }), []);
    assert.equal(c.snapshot().phase, 'aggregating');
  });

  test('round_saved after the last round finishes the run', () => {
    const c = running(['a'], { totalRounds: 2 });
    c.handle(update('a', 1, f32(1, 1)));
    c.handle({ type: 'round_saved', round: 1 });
    c.handle(update('a', 2, f32(1, 1)));
    assert.deepEqual(c.handle({ type: 'round_saved', round: 2 }), [{ type: 'finished' }]);
    assert.equal(c.snapshot().phase, 'finished');
    assert.deepEqual(c.handle({ type: 'client_available', clientId: 'b' }), []);
  });
});

describe('Coordinator: rejecting updates', () => {
  test('an update for a round that is not open is rejected as stale_update', () => {
    const c = running(['a']);
    const decisions = c.handle(update('a', 2, f32(1, 1)));
    assert.equal(decisions.length, 1);
    const reject = only(decisions, 'reject_update');
    assert.equal(reject.clientId, 'a');
    assert.equal(reject.code, 'stale_update');
    assert.equal(c.snapshot().received, 0);
  });

  test('an update that arrives after its round closed is rejected as stale_update', () => {
    const c = running(['a']);
    c.handle(update('a', 1, f32(1, 1)));
    assert.equal(only(c.handle(update('a', 1, f32(1, 1))), 'reject_update').code, 'stale_update');
  });

  test('an update from a client that is not in the round is rejected as not_assigned', () => {
    const c = running(['a']);
    c.handle({ type: 'client_available', clientId: 'late' });
    const reject = only(c.handle(update('late', 1, f32(1, 1))), 'reject_update');
    assert.equal(reject.clientId, 'late');
    assert.equal(reject.code, 'not_assigned');
    assert.equal(c.snapshot().phase, 'training');
  });

  test('a second update from the same participant in one round is rejected as not_assigned', () => {
    const c = running(['a', 'b']);
    c.handle(update('a', 1, f32(1, 1)));
    assert.equal(only(c.handle(update('a', 1, f32(9, 9))), 'reject_update').code, 'not_assigned');
    assert.equal(c.snapshot().received, 1);
  });

  test('an update of the wrong length is rejected as bad_update and the participant may still answer', () => {
    const c = running(['a']);
    const reject = only(c.handle(update('a', 1, f32(1, 2, 3))), 'reject_update');
    assert.equal(reject.code, 'bad_update');
    assert.match(reject.message, /Expected 2 values, got 3/);
    assert.equal(c.snapshot().received, 0);
    assert.equal(only(c.handle(update('a', 1, f32(1, 2))), 'close_round').round, 1);
  });
});

describe('Coordinator: leaving, joining and deadlines', () => {
  test('a participant leaving mid-round does not stall it: it closes with the others\u2019 updates', () => {
    const c = running(['a', 'b', 'c']);
    c.handle(update('a', 1, f32(2, 2), 10));
    c.handle(update('b', 1, f32(4, 0), 10));
    const decisions = c.handle({ type: 'client_gone', clientId: 'c' });
    assert.deepEqual(types(decisions), ['progress', 'close_round']);
    const close = only(decisions, 'close_round');
    assert.deepEqual(close.aggregate.finalize(), f32(3, 1));
    assert.equal(close.samples, 20);
    assert.deepEqual(close.contributions.map((x) => x.clientId), ['a', 'b']);
  });

  test('a participant leaving before the others answered only reports progress', () => {
    const c = running(['a', 'b']);
    assert.deepEqual(c.handle({ type: 'client_gone', clientId: 'b' }), [{ type: 'progress' }]);
    assert.equal(c.snapshot().phase, 'training');
    assert.equal(only(c.handle(update('a', 1, f32(1, 1))), 'close_round').contributions.length, 1);
  });

  test('a participant that already answered leaving changes nothing', () => {
    const c = running(['a', 'b']);
    c.handle(update('a', 1, f32(1, 1)));
    assert.deepEqual(c.handle({ type: 'client_gone', clientId: 'a' }), []);
    const close = only(c.handle(update('b', 1, f32(3, 3))), 'close_round');
    assert.deepEqual(close.contributions.map((x) => x.clientId), ['a', 'b']);
  });

  test('the deadline closes the round with the updates that arrived', () => {
    const c = running(['a', 'b', 'c']);
    c.handle(update('b', 1, f32(1, 3), 4));
    c.handle(update('c', 1, f32(3, -1), 12));
    const close = only(c.handle({ type: 'deadline', round: 1 }), 'close_round');
    // (4·1 + 12·3)/16 = 2.5 ; (4·3 + 12·(−1))/16 = 0
    assert.deepEqual(close.aggregate.finalize(), f32(2.5, 0));
    assert.equal(close.samples, 16);
    // The straggler's late answer is stale now.
    assert.equal(only(c.handle(update('a', 1, f32(1, 1))), 'reject_update').code, 'stale_update');
  });

  test('a deadline for another round, or outside training, is ignored', () => {
    const c = running(['a', 'b']);
    assert.deepEqual(c.handle({ type: 'deadline', round: 2 }), []);
    assert.equal(c.snapshot().phase, 'training');
    c.handle(update('a', 1, f32(1, 1)));
    c.handle(update('b', 1, f32(1, 1)));
    assert.deepEqual(c.handle({ type: 'deadline', round: 1 }), []);
    assert.equal(c.snapshot().phase, 'aggregating');
  });

  test('a deadline with no updates re-runs the same round number', () => {
    const c = running(['a', 'b']);
    assert.deepEqual(c.handle({ type: 'deadline', round: 1 }), [{ type: 'start_round', round: 1, participants: ['a', 'b'] }]);
    assert.equal(c.snapshot().round, 1);
    assert.equal(c.snapshot().received, 0);
  });

  test('a re-run after a later round keeps that round number', () => {
    const c = running(['a']);
    c.handle(update('a', 1, f32(1, 1)));
    c.handle({ type: 'round_saved', round: 1 });
    assert.deepEqual(c.handle({ type: 'deadline', round: 2 }), [{ type: 'start_round', round: 2, participants: ['a'] }]);
  });

  test('when every participant leaves without answering the same round waits, then re-runs with the next client', () => {
    const c = running(['a', 'b']);
    assert.deepEqual(c.handle({ type: 'client_gone', clientId: 'a' }), [{ type: 'progress' }]);
    const decisions = c.handle({ type: 'client_gone', clientId: 'b' });
    assert.deepEqual(decisions, [{ type: 'progress' }, { type: 'waiting', reason: 'Waiting for a participant to connect' }]);
    assert.deepEqual(
      { phase: c.snapshot().phase, round: c.snapshot().round, participants: c.snapshot().participants },
      { phase: 'waiting', round: 1, participants: 0 },
    );
    assert.deepEqual(c.handle({ type: 'client_available', clientId: 'z' }), [{ type: 'start_round', round: 1, participants: ['z'] }]);
  });

  test('a client joining mid-round is included in the next round, not the current one', () => {
    const c = running(['a']);
    assert.deepEqual(c.handle({ type: 'client_available', clientId: 'b' }), []);
    assert.equal(c.snapshot().participants, 1);
    const close = only(c.handle(update('a', 1, f32(1, 1))), 'close_round');
    assert.deepEqual(close.contributions.map((x) => x.clientId), ['a']);
    assert.deepEqual(c.handle({ type: 'round_saved', round: 1 }), [{ type: 'start_round', round: 2, participants: ['a', 'b'] }]);
  });

  test('a client that left is not in the next round', () => {
    const c = running(['a', 'b']);
    c.handle(update('a', 1, f32(1, 1)));
    c.handle(update('b', 1, f32(1, 1)));
    c.handle({ type: 'client_gone', clientId: 'b' });
    assert.deepEqual(c.handle({ type: 'round_saved', round: 1 }), [{ type: 'start_round', round: 2, participants: ['a'] }]);
  });
});

describe('Coordinator: snapshot', () => {
  test('snapshot() reflects phase, round, participants and updates received as the round goes on', () => {
    const c = make({ totalRounds: 2 });
    assert.deepEqual(withoutTally(c), { phase: 'waiting', round: 1, participants: 0, received: 0, waitingReason: 'Waiting for a participant to connect' });

    c.handle({ type: 'client_available', clientId: 'a' });
    c.handle({ type: 'client_available', clientId: 'b' });
    c.start();
    assert.deepEqual(withoutTally(c), { phase: 'training', round: 1, participants: 2, received: 0, waitingReason: null });

    c.handle(update('a', 1, f32(1, 1)));
    assert.deepEqual(withoutTally(c), { phase: 'training', round: 1, participants: 2, received: 1, waitingReason: null });

    c.handle(update('b', 1, f32(1, 1)));
    assert.deepEqual(withoutTally(c), { phase: 'aggregating', round: 1, participants: 2, received: 2, waitingReason: null });

    c.handle({ type: 'round_saved', round: 1 });
    assert.deepEqual(withoutTally(c), { phase: 'training', round: 2, participants: 2, received: 0, waitingReason: null });

    c.handle(update('a', 2, f32(1, 1)));
    c.handle(update('b', 2, f32(1, 1)));
    c.handle({ type: 'round_saved', round: 2 });
    assert.equal(c.snapshot().phase, 'finished');
    assert.equal(c.snapshot().round, 2);
    assert.equal(c.snapshot().waitingReason, null);
  });

  test('while waiting between rounds, snapshot() shows the next round number', () => {
    const c = running(['a']);
    c.handle(update('a', 1, f32(1, 1)));
    c.handle({ type: 'client_gone', clientId: 'a' });
    assert.deepEqual(c.handle({ type: 'round_saved', round: 1 }), [{ type: 'waiting', reason: 'Waiting for a participant to connect' }]);
    const snap = c.snapshot();
    assert.equal(snap.phase, 'waiting');
    assert.equal(snap.round, 2);
    assert.equal(snap.waitingReason, 'Waiting for a participant to connect');
  });

  test(
    'while waiting for the next round, snapshot() counts no participants and no updates for it',
    () => {
      const c = running(['a']);
      c.handle(update('a', 1, f32(1, 1)));
      c.handle({ type: 'client_gone', clientId: 'a' });
      c.handle({ type: 'round_saved', round: 1 });
      const snap = c.snapshot();
      assert.equal(snap.round, 2);
      assert.equal(snap.participants, 0);
      assert.equal(snap.received, 0);
    },
  );
});

describe('Coordinator: sampling, completion, tallies and owner controls', () => {
  test('samples a fraction of the available clients per round, at least minClients and at most maxClients', () => {
    const ids = Array.from({ length: 10 }, (_, i) => `c${i}`);
    const half = running(ids, { fraction: 0.5 });
    assert.equal(half.snapshot().participants, 5);
    const capped = running(ids, { fraction: 1, maxClients: 3 });
    assert.equal(capped.snapshot().participants, 3);
    const floor = running(ids, { fraction: 0.01, minClients: 4 });
    assert.equal(floor.snapshot().participants, 4);
  });

  test('the same sampler state samples the same participants, so a resumed run continues identically', () => {
    const ids = Array.from({ length: 12 }, (_, i) => `c${i}`);
    const firstRound = (samplerState: number) => {
      const c = make({ fraction: 0.25, samplerState });
      for (const id of ids) c.handle({ type: 'client_available', clientId: id });
      return { participants: only(c.start(), 'start_round').participants, after: c.samplerState };
    };
    const a = firstRound(7);
    const b = firstRound(7);
    assert.equal(a.participants.length, 3);
    assert.deepEqual(a, b);
    assert.notEqual(a.after, 7, 'sampling advances the state that the next checkpoint stores');
  });

  test('at the deadline, fewer updates than minCompletion requires runs the round again', () => {
    const c = running(['a', 'b', 'c', 'd'], { minCompletion: 0.75 });
    c.handle(update('a', 1, f32(1, 1)));
    c.handle(update('b', 1, f32(1, 1)));
    const decisions = c.handle({ type: 'deadline', round: 1 });
    assert.deepEqual(only(decisions, 'start_round'), { type: 'start_round', round: 1, participants: ['a', 'b', 'c', 'd'] });
  });

  test('the round tally counts accepted, late, dropped and rejected updates', () => {
    const c = running(['a', 'b', 'c', 'd']);
    c.handle(update('a', 1, f32(1, 1)));
    c.handle(update('x', 1, f32(1, 1)));
    c.handle({ type: 'client_gone', clientId: 'b' });
    const closed = only(c.handle({ type: 'deadline', round: 1 }), 'close_round');
    assert.deepEqual(closed.tally, { participants: 4, accepted: 1, late: 2, dropped: 1, rejected: 1 });
  });

  test('pause abandons the open round, resume runs it again, stop ends the run', () => {
    const c = running(['a', 'b']);
    c.handle(update('a', 1, f32(1, 1)));
    assert.deepEqual(c.handle({ type: 'pause' }), [{ type: 'paused' }]);
    assert.equal(c.snapshot().phase, 'paused');
    assert.equal(types(c.handle(update('b', 1, f32(1, 1))))[0], 'reject_update');
    assert.deepEqual(c.handle({ type: 'client_available', clientId: 'c' }), []);
    assert.deepEqual(only(c.handle({ type: 'resume' }), 'start_round'), { type: 'start_round', round: 1, participants: ['a', 'b', 'c'] });
    assert.deepEqual(c.handle({ type: 'stop' }), [{ type: 'stopped' }]);
    assert.equal(c.snapshot().phase, 'stopped');
    assert.deepEqual(c.handle({ type: 'resume' }), []);
    assert.equal(types(c.handle(update('a', 1, f32(1, 1))))[0], 'reject_update');
  });

  test('a pause asked for during aggregation takes effect once the round is saved', () => {
    const c = running(['a']);
    c.handle(update('a', 1, f32(1, 1)));
    assert.deepEqual(c.handle({ type: 'pause' }), []);
    assert.deepEqual(c.handle({ type: 'round_saved', round: 1 }), [{ type: 'paused' }]);
    assert.equal(only(c.handle({ type: 'resume' }), 'start_round').round, 2);
  });

  test('a robust aggregator can be chosen: the median ignores one outlier', () => {
    const c = running(['a', 'b', 'c'], { aggregator: { kind: 'median' } });
    c.handle(update('a', 1, f32(1, 1)));
    c.handle(update('b', 1, f32(2, 2)));
    const closed = only(c.handle(update('c', 1, f32(1000, -1000))), 'close_round');
    assert.deepEqual([...closed.aggregate.finalize()], [2, 1]);
  });
});

describe('Coordinator: sampling changed mid-run', () => {
  test('lowering minClients while waiting starts the round at once', () => {
    const c = running(['a'], { minClients: 2 });
    assert.equal(c.snapshot().phase, 'waiting');
    const decisions = c.handle({ type: 'configure', minClients: 1, fraction: 1, maxClients: 10 });
    assert.deepEqual(only(decisions, 'start_round').participants, ['a']);
  });

  test('a new fraction leaves the open round alone and applies from the next one', () => {
    const c = running(['a', 'b', 'c', 'd']);
    assert.equal(c.snapshot().participants, 4);
    assert.deepEqual(c.handle({ type: 'configure', minClients: 1, fraction: 0.5, maxClients: 10 }), []);
    let closed: Decision[] = [];
    for (const id of ['a', 'b', 'c', 'd']) closed = c.handle(update(id, 1, f32(1, 1)));
    assert.equal(only(closed, 'close_round').contributions.length, 4);
    const next = only(c.handle({ type: 'round_saved', round: 1 }), 'start_round');
    assert.equal(next.participants.length, 2);
  });

  test('raising minClients makes the next round wait for more participants', () => {
    const c = running(['a']);
    c.handle({ type: 'configure', minClients: 2, fraction: 1, maxClients: 10 });
    const closed = c.handle(update('a', 1, f32(1, 1)));
    assert.equal(types(closed).includes('close_round'), true);
    assert.deepEqual(c.handle({ type: 'round_saved', round: 1 }), [{ type: 'waiting', reason: 'Waiting for 1 more participant(s)' }]);
  });
});
