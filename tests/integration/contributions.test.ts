import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { contributionsResponse, type ContributionsReport, type RoundMetrics } from '../../server/protocol';
import { api, suiteServer, waitFor, type TestServer } from '../helpers/server';
import { createShapedProject, joinMember, observe, participant, type Participant } from '../helpers/clients';
import type { TrainResult, TrainTask } from '../../workers/client';

// Late, refused and dropped updates are the point here: keep the server's warnings out of the output.
process.env.TEST_LOG_LEVEL ??= 'error';

/** Round deadline: far above a round of this tiny model, so only the deliberately slow client misses it. */
const DEADLINE_MS = 6000;
const ROUNDS = 3;

/** The round a participant is training for right now (assignments arrive before training starts). */
const currentRound = (self: Participant) => self.assigns[self.assigns.length - 1]?.round ?? 0;

/** Records what a participant computed per round, as its `trained` events report it. */
function trainedLog(p: Participant): Map<number, TrainResult> {
  const log = new Map<number, TrainResult>();
  p.client.on('trained', (e) => log.set(e.round, e.result));
  return log;
}

describe('who did what: per-member contributions through the real server', () => {
  const suite = suiteServer({ roundDeadlineMs: DEADLINE_MS });
  const { track } = suite;
  let t: TestServer;
  beforeEach(() => {
    t = suite.server();
  });

  test('a late, a rejected and a dropped client are each counted exactly, by name, also after a revoke', { timeout: 90_000 }, async () => {
    const { slug, joinCode, ownerToken } = await createShapedProject(t.url, { rounds: ROUNDS, 'dataset.samples': 300, localEpochs: 1 }, 'Scale');
    const watcher = track(observe(t.url, slug, ownerToken));
    const join = async (name: string, wrap?: NonNullable<Parameters<typeof participant>[4]>['wrap']) =>
      track(await participant(t.url, slug, await joinMember(t.url, joinCode, name), name, { wrap }));

    const honest1 = await join('honest1');
    const honest2 = await join('honest2');
    // Late in round 1 only: it trains, then sits on its update until well past the deadline.
    const late = await join('late', (train, self) => async (task: TrainTask) => {
      const slow = currentRound(self) === 1;
      const result = await train(task);
      if (slow) await sleep(DEADLINE_MS + 1500);
      return result;
    });
    // Sends NaN in round 1 (refused by the server), honest updates after.
    const nan = await join('nan', (train, self) => async (task: TrainTask) =>
      currentRound(self) === 1 ? { delta: new Float32Array(task.weights.length).fill(Number.NaN), samples: 10, trainLoss: null, computeMs: 1 } : train(task),
    );
    const dropper = await join('dropper');
    // Leaves the moment round 1 is assigned to it: assigned, never delivered.
    dropper.client.on('assign', (a) => a.round === 1 && dropper.close());
    const logs = new Map<Participant, Map<number, TrainResult>>([honest1, honest2, late, nan].map((p) => [p, trainedLog(p)]));
    await waitFor(() => watcher.contributors() === 5, 20_000, 'five contributors');

    const started = await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const runId = started.body.runId as string;
    const report = async (token = ownerToken): Promise<ContributionsReport> => {
      const res = await api(t.url, 'GET', `/api/projects/${slug}/runs/${runId}/contributions`, undefined, token);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const parsed = contributionsResponse.safeParse(res.body);
      assert.ok(parsed.success, parsed.error?.message);
      return parsed.data;
    };
    const byName = (r: ContributionsReport) => new Map(r.members.map((m) => [m.name, m]));
    const counts = (m: ContributionsReport['members'][number] | undefined) => m && { accepted: m.accepted, late: m.late, rejected: m.rejected, dropped: m.dropped };

    // Live: as soon as round 1 is saved, its late, rejected and dropped clients show (any member may ask).
    await waitFor(async () => (await t.repo.listRounds(runId)).length >= 1, 30_000, 'round 1 to be saved');
    const live = byName(await report(await joinMember(t.url, joinCode, 'reader')));
    assert.equal(live.get('late')?.late, 1);
    assert.equal(live.get('nan')?.rejected, 1);
    assert.equal(live.get('dropper')?.dropped, 1);

    await waitFor(async () => (await t.repo.getRun(runId))?.status === 'finished', 60_000, 'the run to finish');
    // The late client's round-1 update did arrive, after the deadline, and was refused as stale:
    // it must stay counted once, as late, and never as rejected.
    await waitFor(() => late.errors.some((e) => e.code === 'stale_update'), 15_000, 'the late update to arrive');
    assert.ok(nan.errors.some((e) => e.code === 'bad_update'), JSON.stringify(nan.errors));

    const final = await report();
    const members = byName(final);
    assert.deepEqual(counts(members.get('honest1')), { accepted: 3, late: 0, rejected: 0, dropped: 0 });
    assert.deepEqual(counts(members.get('honest2')), { accepted: 3, late: 0, rejected: 0, dropped: 0 });
    assert.deepEqual(counts(members.get('late')), { accepted: 2, late: 1, rejected: 0, dropped: 0 });
    assert.deepEqual(counts(members.get('nan')), { accepted: 2, late: 0, rejected: 1, dropped: 0 });
    assert.deepEqual(counts(members.get('dropper')), { accepted: 0, late: 0, rejected: 0, dropped: 1 });
    assert.equal(final.members.length, 5, 'the watching owner and the reader trained nothing and are not listed');

    // Samples and compute are those of accepted updates, exactly as each client reported them.
    const acceptedRounds = new Map<Participant, number[]>([
      [honest1, [1, 2, 3]],
      [honest2, [1, 2, 3]],
      [late, [2, 3]],
      [nan, [2, 3]],
    ]);
    for (const [p, rounds] of acceptedRounds) {
      const log = logs.get(p)!;
      const m = members.get(p.name)!;
      assert.equal(m.samples, rounds.reduce((s, r) => s + log.get(r)!.samples, 0), `${p.name} samples`);
      assert.equal(m.computeMs, rounds.reduce((s, r) => s + Math.round(log.get(r)!.computeMs), 0), `${p.name} compute`);
      assert.deepEqual(m.backends, ['cpu']);
    }
    assert.equal(members.get('dropper')!.samples, 0);
    assert.deepEqual(final.totals, {
      samples: final.members.reduce((s, m) => s + m.samples, 0),
      computeMs: final.members.reduce((s, m) => s + m.computeMs, 0),
      accepted: 10,
      late: 1,
      rejected: 1,
      dropped: 1,
    });

    // Throughput per round: round 1 asked five and waited for the deadline; rounds 2–3 asked four.
    assert.deepEqual(final.rounds.map((r) => [r.round, r.participants, r.accepted]), [
      [1, 5, 2],
      [2, 4, 4],
      [3, 4, 4],
    ]);
    const round1 = final.rounds[0]!;
    assert.ok(round1.durationMs! >= DEADLINE_MS, `round 1 took ${round1.durationMs} ms, yet it waited for the deadline`);
    for (const r of final.rounds) assert.ok(Math.abs(r.samplesPerSecond! - r.samples / (r.durationMs! / 1000)) < 1e-6);
    assert.deepEqual(final.scale.map((s) => [s.participants, s.rounds]), [
      [5, 1],
      [4, 2],
    ]);
    // The live model messages carry the same round wall time (stored with each checkpoint).
    const metrics = (await t.repo.listCheckpoints(runId)).map((c) => JSON.parse(c.metrics) as RoundMetrics).slice(1);
    assert.deepEqual(metrics.map((m) => m.durationMs), final.rounds.map((r) => r.durationMs));

    // A revoked member's work stays on record under their name.
    const dropperId = members.get('dropper')!.memberId;
    const revoked = await api(t.url, 'POST', `/api/projects/${slug}/members/${dropperId}/revoke`, {}, ownerToken);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.deepEqual(counts(byName(await report()).get('dropper')), { accepted: 0, late: 0, rejected: 0, dropped: 1 });
  });

  test('contributions need a member of the project and a run of that project', async () => {
    const mine = await api(t.url, 'POST', '/api/projects', { name: 'Mine' });
    const other = await api(t.url, 'POST', '/api/projects', { name: 'Other' });
    const run = await t.repo.createRun({ projectId: (await t.repo.findProjectBySlug(mine.body.slug))!.id, spec: '{}', specHash: 'x', totalRounds: 1, status: 'finished' });
    const path = (slug: string, runId = run.id) => `/api/projects/${slug}/runs/${runId}/contributions`;

    const empty = await api(t.url, 'GET', path(mine.body.slug), undefined, mine.body.ownerToken);
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body, { runId: run.id, members: [], totals: { samples: 0, computeMs: 0, accepted: 0, late: 0, rejected: 0, dropped: 0 }, rounds: [], scale: [] });
    assert.equal((await api(t.url, 'GET', path(mine.body.slug))).status, 401);
    assert.equal((await api(t.url, 'GET', path(mine.body.slug, 'no-such-run'), undefined, mine.body.ownerToken)).status, 404);
    // Another project's member cannot read this run through their own project either.
    assert.equal((await api(t.url, 'GET', path(other.body.slug), undefined, other.body.ownerToken)).status, 404);
    assert.equal((await api(t.url, 'GET', path(mine.body.slug), undefined, other.body.ownerToken)).status, 401);
  });
});
