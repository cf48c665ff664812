import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contributionsResponse } from '../../server/protocol';
import type { ContributionRow, ContributionStatus } from '../../server/db/repository';
import { Coordinator, type ClientFate, type CoordinatorConfig, type Decision } from '../../server/training/coordinator';
import { contributionsReport, memberTotals, scaleSummary, throughputSeries, totalsOf } from '../../server/training/contributions';

const row = (memberId: string, round: number, status: ContributionStatus, samples = 0, computeMs = 0, backend = 'cpu'): ContributionRow => ({
  runId: 'run',
  round,
  memberId,
  samples,
  computeMs,
  backend,
  status,
});

const MEMBERS = [
  { id: 'ann', name: 'Ann' },
  { id: 'bob', name: 'Bob' },
  { id: 'cy', name: 'Cy (revoked)' },
];

describe('memberTotals', () => {
  test('counts every status per member and sums samples and compute of accepted work only', () => {
    const totals = memberTotals(
      [
        row('ann', 1, 'accepted', 100, 250, 'webgl'),
        row('bob', 1, 'late'),
        row('cy', 1, 'dropped'),
        row('ann', 2, 'accepted', 120, 300, 'webgl'),
        row('bob', 2, 'accepted', 80, 900, 'wasm'),
        row('cy', 2, 'rejected', 999, 999),
        row('ann', 3, 'rejected', 0, 0, 'webgl'),
      ],
      MEMBERS,
    );
    assert.deepEqual(totals, [
      { memberId: 'ann', name: 'Ann', backends: ['webgl'], samples: 220, computeMs: 550, accepted: 2, late: 0, rejected: 1, dropped: 0 },
      { memberId: 'bob', name: 'Bob', backends: ['cpu', 'wasm'], samples: 80, computeMs: 900, accepted: 1, late: 1, rejected: 0, dropped: 0 },
      { memberId: 'cy', name: 'Cy (revoked)', backends: ['cpu'], samples: 0, computeMs: 0, accepted: 0, late: 0, rejected: 1, dropped: 1 },
    ]);
  });

  test('lists backends most used first, leaves out unknown ones, and names unknown members null', () => {
    const [ghost] = memberTotals(
      [row('ghost', 1, 'accepted', 1, 1, 'wasm'), row('ghost', 2, 'accepted', 1, 1, 'cpu'), row('ghost', 3, 'accepted', 1, 1, 'cpu'), row('ghost', 4, 'dropped', 0, 0, 'unknown')],
      MEMBERS,
    );
    assert.equal(ghost!.name, null);
    assert.deepEqual(ghost!.backends, ['cpu', 'wasm']);
  });

  test('a run without rows has no members and zero totals', () => {
    assert.deepEqual(memberTotals([], MEMBERS), []);
    assert.deepEqual(totalsOf([]), { samples: 0, computeMs: 0, accepted: 0, late: 0, rejected: 0, dropped: 0 });
  });
});

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);
const round = (n: number, participants: number, samples: number, durationMs: number, accuracy = 0.5) => ({
  number: n,
  participants,
  accepted: participants,
  samples,
  accuracy,
  startedAt: at(n * 100_000),
  finishedAt: at(n * 100_000 + durationMs),
});

describe('throughputSeries and scaleSummary', () => {
  test('throughput is samples per second of round wall time, in round order', () => {
    const series = throughputSeries([round(2, 4, 2000, 500, 0.8), round(1, 2, 1000, 2000, 0.6)]);
    assert.deepEqual(series, [
      { round: 1, participants: 2, accepted: 2, samples: 1000, durationMs: 2000, samplesPerSecond: 500, accuracy: 0.6 },
      { round: 2, participants: 4, accepted: 4, samples: 2000, durationMs: 500, samplesPerSecond: 4000, accuracy: 0.8 },
    ]);
  });

  test('a round with no measurable time has no throughput and is left out of the summary', () => {
    const series = throughputSeries([round(1, 3, 300, 0), { ...round(2, 3, 300, 0), finishedAt: at(0) }]);
    assert.deepEqual(series.map((p) => [p.durationMs, p.samplesPerSecond]), [[0, null], [null, null]]);
    assert.deepEqual(scaleSummary(series), []);
  });

  test('groups rounds by participant count, most first, with the median throughput (one straggler round does not speak for the rest)', () => {
    const series = throughputSeries([
      round(1, 2, 1000, 1000), // 1000/s
      round(2, 2, 1000, 1000), // 1000/s
      round(3, 2, 1000, 10_000), // 100/s: waited for a straggler
      round(4, 8, 4000, 1000), // 4000/s
      round(5, 8, 4000, 500), // 8000/s
    ]);
    assert.deepEqual(scaleSummary(series), [
      { participants: 8, rounds: 2, samplesPerSecond: 6000 },
      { participants: 2, rounds: 3, samplesPerSecond: 1000 },
    ]);
  });

  test('the whole report satisfies the API schema, and its totals are the sums of its members', () => {
    const report = contributionsReport({
      runId: 'run',
      rows: [row('ann', 1, 'accepted', 10, 5), row('bob', 1, 'late'), row('ann', 2, 'accepted', 12, 7), row('bob', 2, 'dropped')],
      rounds: [round(1, 2, 10, 100), round(2, 2, 12, 100)],
      members: MEMBERS,
    });
    assert.ok(contributionsResponse.safeParse(report).success);
    assert.deepEqual(report.totals, { samples: 22, computeMs: 12, accepted: 2, late: 1, rejected: 0, dropped: 1 });
    assert.deepEqual(report.scale, [{ participants: 2, rounds: 2, samplesPerSecond: 110 }]);
  });
});

// ---- where the rows come from: the coordinator's fate of each client's work in a round ----------

const f32 = (...v: number[]) => new Float32Array(v);
const update = (clientId: string, round: number, delta = f32(1, 1), samples = 10) => ({ type: 'update' as const, clientId, round, samples, computeMs: 7, trainLoss: null, delta });

function running(ids: string[], overrides: Partial<CoordinatorConfig> = {}): Coordinator {
  const c = new Coordinator({ runId: 'run', totalRounds: 3, paramCount: 2, lastRound: 0, minClients: 1, ...overrides });
  for (const clientId of ids) c.handle({ type: 'client_available', clientId });
  c.start();
  return c;
}

function fatesOf(decisions: Decision[]): Record<string, string> {
  const close = decisions.find((d): d is Extract<Decision, { type: 'close_round' }> => d.type === 'close_round');
  assert.ok(close, `no close_round in ${JSON.stringify(decisions.map((d) => d.type))}`);
  return Object.fromEntries(close.fates.map((f: ClientFate) => [f.clientId, f.status]));
}

describe('Coordinator: the fate of every client in a round', () => {
  test('accepted, late at the deadline, dropped by leaving, rejected for a bad update: one fate each', () => {
    const c = running(['ok', 'slow', 'gone', 'bad']);
    c.handle(update('ok', 1));
    c.handle({ type: 'client_gone', clientId: 'gone' });
    c.handle({ type: 'update_refused', clientId: 'bad', round: 1 }); // NaN, say: still pending after
    const close = c.handle({ type: 'deadline', round: 1 });
    assert.deepEqual(fatesOf(close), { ok: 'accepted', gone: 'dropped', bad: 'rejected', slow: 'late' });
    const accepted = (close.find((d) => d.type === 'close_round') as Extract<Decision, { type: 'close_round' }>).fates.find((f) => f.clientId === 'ok');
    assert.deepEqual(accepted, { clientId: 'ok', status: 'accepted', samples: 10, computeMs: 7 });
  });

  test('a rejected client that then sends a good update is accepted; one that then leaves stays rejected', () => {
    const c = running(['retry', 'quitter', 'ok']);
    c.handle(update('retry', 1, f32(1, 2, 3))); // wrong length: bad_update
    c.handle({ type: 'update_refused', clientId: 'quitter', round: 1 });
    c.handle({ type: 'client_gone', clientId: 'quitter' });
    c.handle(update('ok', 1));
    assert.deepEqual(fatesOf(c.handle(update('retry', 1))), { retry: 'accepted', quitter: 'rejected', ok: 'accepted' });
  });

  test('the late update that arrives after the deadline is not counted again as rejected in the next round', () => {
    const c = running(['ok', 'slow']);
    c.handle(update('ok', 1));
    const first = c.handle({ type: 'deadline', round: 1 });
    assert.deepEqual(fatesOf(first), { ok: 'accepted', slow: 'late' });
    c.handle({ type: 'round_saved', round: 1 }); // round 2 starts with both
    assert.equal(c.snapshot().round, 2);
    const stale = c.handle(update('slow', 1));
    assert.equal(stale[0]?.type, 'reject_update');
    c.handle({ type: 'update_refused', clientId: 'slow', round: 1 }); // the same, refused before decoding
    c.handle(update('ok', 2));
    assert.deepEqual(fatesOf(c.handle(update('slow', 2))), { ok: 'accepted', slow: 'accepted' });
  });

  test('an update from a client that was not asked is its rejected fate', () => {
    const c = running(['a'], { maxClients: 1 });
    c.handle({ type: 'client_available', clientId: 'b' });
    assert.equal(c.handle(update('b', 1))[0]?.type, 'reject_update');
    assert.deepEqual(fatesOf(c.handle(update('a', 1))), { b: 'rejected', a: 'accepted' });
  });

  test('a round that must run again keeps who dropped out of the failed attempt', () => {
    const c = running(['a', 'b'], { minCompletion: 1 });
    c.handle(update('a', 1));
    c.handle({ type: 'client_gone', clientId: 'b' }); // 1 of 2 delivered: round 1 runs again with a
    assert.equal(c.snapshot().round, 1);
    const close = c.handle(update('a', 1));
    assert.deepEqual(
      (close.find((d) => d.type === 'close_round') as Extract<Decision, { type: 'close_round' }>).fates.map((f) => [f.clientId, f.status]),
      [
        ['b', 'dropped'],
        ['a', 'accepted'],
      ],
    );
  });

  test('a paused round leaves no fates behind: it runs again from scratch', () => {
    const c = running(['a', 'b']);
    c.handle({ type: 'client_gone', clientId: 'b' });
    c.handle({ type: 'pause' });
    c.handle({ type: 'resume' });
    assert.deepEqual(fatesOf(c.handle(update('a', 1))), { a: 'accepted' });
  });
});
