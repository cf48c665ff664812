import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeVector, manifestSize, type AssignMessage, type RoundMetrics, type ServerMessage, type WeightsManifest } from '../../server/protocol';
import { api, startTestServer, suiteServer, waitFor, type TestServer } from '../helpers/server';
import { createShapedProject, joinMember, observe, participant, slowly, participants, rawClient, storedRun, type Participant } from '../helpers/clients';

// Refused updates and dropped clients are expected here: keep the server's warnings out of the output.
process.env.TEST_LOG_LEVEL ??= 'error';

/** A small, cheap run: a few hundred points, one local epoch. */
const SMALL = { 'dataset.samples': 300, localEpochs: 1 } as const;

async function startRun(t: TestServer, slug: string, ownerToken: string): Promise<string> {
  const started = await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
  assert.equal(started.status, 202, JSON.stringify(started.body));
  return started.body.runId as string;
}

async function waitForStatus(t: TestServer, runId: string, status: string, timeoutMs = 30_000) {
  return waitFor(
    async () => {
      const run = await t.repo.getRun(runId);
      if (run && run.status === 'failed') throw new Error(`run failed: ${run.error}`);
      return run?.status === status ? run : null;
    },
    timeoutMs,
    `run ${runId} to be ${status}`,
  );
}

/**
 * Held-out metrics of every round, round 0 included. Round rows are all kept; checkpoints may be
 * thinned by the retention policy (keep the latest 20 and every 10th), so they come from the rows.
 */
async function metricsOf(t: TestServer, runId: string): Promise<RoundMetrics[]> {
  const initial = (await t.repo.getCheckpoint(runId, 0))!;
  const rounds = await t.repo.listRounds(runId);
  return [
    JSON.parse(initial.metrics) as RoundMetrics,
    ...rounds.map((r) => ({ round: r.number, loss: r.loss, accuracy: r.accuracy, trainLoss: r.trainLoss, participants: r.accepted, samples: r.samples })),
  ];
}

const range = (n: number) => Array.from({ length: n + 1 }, (_, i) => i);

describe('the federated engine with in-process headless clients', () => {
  const suite = suiteServer({ roundDeadlineMs: 60_000 });
  const { track } = suite;
  let t: TestServer;
  beforeEach(() => {
    t = suite.server();
  });

  test('8 headless clients train a run where 2 leave mid-round, and the run still finishes', { timeout: 60_000 }, async () => {
    const rounds = 4;
    const { slug, joinCode, ownerToken } = await createShapedProject(t.url, { rounds, ...SMALL, 'dataset.samples': 400 });
    const watcher = track(observe(t.url, slug, ownerToken));
    const clients = (await participants(t.url, slug, joinCode, 8, 'drop')).map(track);
    const leavers = clients.slice(6);
    // They leave the moment round 2 is assigned to them: before training, before sending.
    for (const leaver of leavers) leaver.client.on('assign', (a) => a.round === 2 && leaver.close());
    await waitFor(() => watcher.contributors() === 8, 20_000, 'eight contributors');

    const runId = await startRun(t, slug, ownerToken);
    await waitForStatus(t, runId, 'finished', 50_000);

    const checkpoints = await t.repo.listCheckpoints(runId);
    assert.deepEqual(checkpoints.map((c) => c.round), range(rounds));
    const byRound = new Map((await t.repo.listRounds(runId)).map((r) => [r.number, r]));
    assert.deepEqual([...byRound.keys()], [1, 2, 3, 4]);
    const tally = (n: number) => {
      const { participants, accepted, dropped, late, rejected } = byRound.get(n)!;
      return { participants, accepted, dropped, late, rejected };
    };
    assert.deepEqual(tally(1), { participants: 8, accepted: 8, dropped: 0, late: 0, rejected: 0 });
    assert.deepEqual(tally(2), { participants: 8, accepted: 6, dropped: 2, late: 0, rejected: 0 });
    assert.deepEqual(tally(3), { participants: 6, accepted: 6, dropped: 0, late: 0, rejected: 0 });
    assert.deepEqual(tally(4), { participants: 6, accepted: 6, dropped: 0, late: 0, rejected: 0 });
    const metrics = await metricsOf(t, runId);
    assert.deepEqual(metrics.slice(1).map((m) => m.participants), [8, 6, 6, 6]);
    // Round 2's mean covers exactly the six stayers' shards of an eight-way split.
    assert.ok(metrics[2]!.samples > 0 && metrics[2]!.samples < metrics[1]!.samples, `round 2 samples ${metrics[2]!.samples} vs round 1 ${metrics[1]!.samples}`);
    for (const leaver of leavers) assert.deepEqual(leaver.assigns.map((a) => a.round), [1, 2]);
    const fates = (await t.repo.listContributions(runId)).map((c) => `${c.round}:${c.status}`);
    assert.equal(fates.filter((f) => f.endsWith(':accepted')).length, 8 + 6 + 6 + 6);
    assert.deepEqual(fates.filter((f) => !f.endsWith(':accepted')), ['2:dropped', '2:dropped'], 'the two leavers are recorded as dropped in round 2');
  });

  test('FedAvg on the spiral set reaches ≥ 90% held-out accuracy within 30 rounds with 4 clients', { timeout: 120_000 }, async (ctx) => {
    // DEFAULT_SPEC (the spiral template a project starts with), only the round count set.
    const { slug, joinCode, ownerToken } = await createShapedProject(t.url, { rounds: 30 }, 'Spiral');
    const watcher = track(observe(t.url, slug, ownerToken));
    (await participants(t.url, slug, joinCode, 4, 'spiral')).map(track);
    await waitFor(() => watcher.contributors() === 4, 20_000, 'four contributors');

    const started = performance.now();
    const runId = await startRun(t, slug, ownerToken);
    await waitForStatus(t, runId, 'finished', 110_000);
    const metrics = await metricsOf(t, runId);
    assert.deepEqual(metrics.map((m) => m.round), range(30));
    const accuracies = metrics.map((m) => m.accuracy);
    const best = Math.max(...accuracies);
    const first = accuracies.findIndex((a) => a >= 0.9);
    ctx.diagnostic(
      `30 rounds in ${((performance.now() - started) / 1000).toFixed(1)} s; round 0 accuracy ${accuracies[0]!.toFixed(3)}; ` +
        `first ≥ 90% at round ${first}; best ${best.toFixed(3)}; final ${accuracies[30]!.toFixed(3)}`,
    );
    assert.ok(accuracies[0]! < 0.75, `round 0 is near chance (${accuracies[0]})`);
    assert.ok(best >= 0.9, `best held-out accuracy over 30 rounds: ${best} (${accuracies.map((a) => a.toFixed(2)).join(' ')})`);
    assert.ok(metrics.slice(1).every((m) => m.participants === 4));
  });

  test('a client that joins mid-run gets the current weights at the next round', { timeout: 60_000 }, async () => {
    const rounds = 5;
    const { slug, joinCode, ownerToken } = await createShapedProject(t.url, { rounds, ...SMALL });
    const watcher = track(observe(t.url, slug, ownerToken));
    const first = track(await participant(t.url, slug, await joinMember(t.url, joinCode, 'early'), 'early', { wrap: slowly(300) }));
    await waitFor(() => watcher.contributors() === 1, 20_000, 'first contributor');

    const runId = await startRun(t, slug, ownerToken);
    await waitFor(async () => (await t.repo.listCheckpoints(runId)).length >= 2, 30_000, 'round 1 to be saved');
    const late = track(await participant(t.url, slug, await joinMember(t.url, joinCode, 'late'), 'late'));
    await waitFor(() => late.assigns.length > 0, 30_000, 'the late client to get an assignment');
    const assign = late.assigns[0]!;
    assert.equal(assign.runId, runId);
    assert.ok(assign.round >= 2, `first assignment of the late client is for round ${assign.round}`);

    const checkpoint = await t.repo.getCheckpoint(runId, assign.round - 1);
    assert.ok(checkpoint, `checkpoint ${assign.round - 1} exists when round ${assign.round} is assigned`);
    const manifest = JSON.parse(checkpoint.manifest) as WeightsManifest;
    assert.deepEqual(assign.manifest, manifest);
    const sent = decodeVector(assign.weights, assign.manifest, assign.encoding ?? 'float32');
    const saved = decodeVector(checkpoint.weights, manifest, 'float32');
    assert.ok(sent.ok && saved.ok);
    assert.equal(sent.values.length, manifestSize(manifest));
    assert.ok(Buffer.from(sent.values.buffer, sent.values.byteOffset, sent.values.byteLength).equals(Buffer.from(saved.values.buffer, saved.values.byteOffset, saved.values.byteLength)), `round ${assign.round} weights equal checkpoint ${assign.round - 1}`);
    // ... and they are the weights the early client got for the same round.
    const early = first.assigns.find((a) => a.round === assign.round);
    assert.ok(early, `the early client was assigned round ${assign.round} too`);
    assert.ok(Buffer.from(early.weights as Uint8Array).equals(Buffer.from(assign.weights as Uint8Array)));
    // Round 1 (before the round of the join) had weights ≠ round-0 (sanity: weights do move).
    const zero = await t.repo.getCheckpoint(runId, 0);
    assert.ok(!Buffer.from(zero!.weights).equals(Buffer.from(checkpoint.weights)));

    await waitForStatus(t, runId, 'finished', 40_000);
    const metrics = await metricsOf(t, runId);
    assert.deepEqual(metrics.map((m) => m.round), range(rounds));
    assert.equal(metrics[1]!.participants, 1);
    assert.equal(metrics[rounds]!.participants, 2);
    assert.deepEqual(late.assigns.map((a) => a.round), range(rounds).slice(assign.round));
  });

  test('too few clients → the run waits visibly and resumes', { timeout: 60_000 }, async () => {
    const rounds = 3;
    const { slug, joinCode, ownerToken } = await createShapedProject(t.url, { rounds, ...SMALL, 'sampling.minClients': 2 });
    const watcher = track(observe(t.url, slug, ownerToken));
    const one = track(await participant(t.url, slug, await joinMember(t.url, joinCode, 'one'), 'one'));
    await waitFor(() => watcher.contributors() === 1, 20_000, 'first contributor');

    const runId = await startRun(t, slug, ownerToken);
    const waiting = await waitFor(() => (watcher.state().run?.runId === runId ? watcher.state().run : null), 10_000, 'run state');
    assert.equal(waiting.status, 'waiting');
    assert.match(waiting.waitingReason ?? '', /1 more participant/);
    await sleep(500);
    assert.equal(one.assigns.length, 0, 'nobody is assigned while the run waits');
    assert.equal((await t.repo.getRun(runId))?.status, 'waiting');
    assert.equal(watcher.state().run?.status, 'waiting');
    assert.equal(one.lastState()?.run?.status, 'waiting', 'the waiting client sees it too');

    const two = track(await participant(t.url, slug, await joinMember(t.url, joinCode, 'two'), 'two'));
    await waitForStatus(t, runId, 'finished', 40_000);
    await waitFor(() => watcher.state().run?.status === 'finished', 5000, 'finished state broadcast');
    // Waiting first, finished last; 'training' in between may be folded away, since state messages
    // are coalesced (≤ 1 per 100 ms) and three small rounds can take less than that.
    const seen = watcher.statuses();
    assert.equal(seen[0], 'waiting');
    assert.equal(seen.at(-1), 'finished');
    assert.ok(seen.every((s) => ['waiting', 'training', 'finished'].includes(s)), seen.join(' → '));
    const metrics = await metricsOf(t, runId);
    assert.deepEqual(metrics.map((m) => m.round), range(rounds));
    assert.ok(metrics.slice(1).every((m) => m.participants === 2));
    assert.deepEqual(one.assigns.map((a) => a.round), [1, 2, 3]);
    assert.deepEqual(two.assigns.map((a) => a.round), [1, 2, 3]);
  });

  test('bad updates are rejected with an error code and the round goes on', { timeout: 60_000 }, async () => {
    const rounds = 3;
    const { slug, joinCode, ownerToken } = await createShapedProject(t.url, { rounds, ...SMALL });
    const watcher = track(observe(t.url, slug, ownerToken));
    const honest = track(await participant(t.url, slug, await joinMember(t.url, joinCode, 'honest'), 'honest'));
    const hostile = track(rawClient(t.url, { slug, token: await joinMember(t.url, joinCode, 'hostile') }));
    const bystander = track(rawClient(t.url, { slug, token: await joinMember(t.url, joinCode, 'bystander') }));
    const welcomed = Promise.all([hostile.next((m) => m.type === 'welcome'), bystander.next((m) => m.type === 'welcome')]);
    await waitFor(() => hostile.socket.connected && bystander.socket.connected, 10_000, 'raw sockets to connect');
    hostile.hello(true);
    bystander.hello(false); // in the room, but never a participant
    await welcomed;
    await waitFor(() => watcher.contributors() === 2, 20_000, 'two contributors');

    const assigned = hostile.next<AssignMessage>((m) => m.type === 'assign');
    const runId = await startRun(t, slug, ownerToken);
    const assign = await assigned;
    assert.equal(assign.round, 1);
    const p = manifestSize(assign.manifest);
    const update = (fields: Record<string, unknown>) => ({ type: 'update', runId, round: assign.round, samples: 10, computeMs: 1, trainLoss: null, encoding: 'float32', ...fields });
    const bytes = (values: Float32Array) => new Uint8Array(values.buffer);
    type ErrorMsg = Extract<ServerMessage, { type: 'error' }>;
    const refused = async (client: ReturnType<typeof rawClient>, message: Record<string, unknown>) => {
      const answer = client.next<ErrorMsg>((m) => m.type === 'error');
      client.send(message);
      return answer;
    };

    const short = await refused(hostile, update({ delta: new Uint8Array(4 * p - 3) }));
    assert.equal(short.code, 'bad_update');
    assert.match(short.message, new RegExp(`${4 * p} bytes`));
    const nan = await refused(hostile, update({ delta: bytes(new Float32Array(p).fill(Number.NaN)) }));
    assert.equal(nan.code, 'bad_update');
    assert.match(nan.message, /NaN or infinite/);
    const inf = await refused(hostile, update({ delta: bytes(new Float32Array(p).fill(0).map((_, i) => (i === p - 1 ? Infinity : 0))) }));
    assert.equal(inf.code, 'bad_update');
    // A huge norm: every weight moved by 1000 (the limit is an RMS of 100 per weight).
    const huge = await refused(hostile, update({ delta: bytes(new Float32Array(p).fill(1000)) }));
    assert.equal(huge.code, 'bad_update');
    assert.match(huge.message, /L2 norm .* exceeds the limit/);
    const wrongRound = await refused(hostile, update({ round: assign.round + 5, delta: bytes(new Float32Array(p)) }));
    assert.equal(wrongRound.code, 'stale_update');
    const wrongRun = await refused(hostile, update({ runId: 'not-this-run', delta: bytes(new Float32Array(p)) }));
    assert.equal(wrongRun.code, 'stale_update');
    // The hostile client is still pending, so round 1 is open: the bystander was never assigned it.
    const unassigned = await refused(bystander, update({ delta: bytes(new Float32Array(p)) }));
    assert.equal(unassigned.code, 'not_assigned');
    const garbage = await refused(hostile, { type: 'update', runId, round: 1, samples: 10 });
    assert.equal(garbage.code, 'invalid_message');

    // The round went on: nothing of the above was counted, and it closes once the hostile one leaves.
    // (State messages are coalesced: wait for the first one of this run rather than read one instant.)
    await waitFor(() => watcher.state().run?.runId === runId, 10_000, 'the run state to reach the watcher');
    assert.equal(watcher.state().run?.round, 1);
    hostile.close();
    await waitForStatus(t, runId, 'finished', 40_000);
    const metrics = await metricsOf(t, runId);
    assert.deepEqual(metrics.map((m) => m.round), range(rounds));
    assert.ok(metrics.every((m) => Number.isFinite(m.loss) && Number.isFinite(m.accuracy)), 'no NaN reached the model');
    assert.deepEqual(metrics.slice(1).map((m) => m.participants), [1, 1, 1]);
    const round1 = (await t.repo.listRounds(runId))[0]!;
    assert.equal(round1.participants, 2);
    assert.equal(round1.accepted, 1);
    assert.equal(round1.dropped, 1);
    assert.equal(honest.errors.length, 0, JSON.stringify(honest.errors));
    assert.deepEqual(honest.assigns.map((a) => a.round), [1, 2, 3]);
  });

  test(
    "a round's tally counts every refused update, malformed ones (bad_update) included",
    {
      timeout: 30_000,
    },
    async () => {
      const { slug, joinCode, ownerToken } = await createShapedProject(t.url, { rounds: 1, ...SMALL });
      const watcher = track(observe(t.url, slug, ownerToken));
      track(await participant(t.url, slug, await joinMember(t.url, joinCode, 'honest'), 'honest'));
      const hostile = track(rawClient(t.url, { slug, token: await joinMember(t.url, joinCode, 'hostile') }));
      const bystander = track(rawClient(t.url, { slug, token: await joinMember(t.url, joinCode, 'bystander') }));
      const welcomed = Promise.all([hostile.next((m) => m.type === 'welcome'), bystander.next((m) => m.type === 'welcome')]);
      await waitFor(() => hostile.socket.connected && bystander.socket.connected, 10_000, 'raw sockets to connect');
      hostile.hello(true);
      bystander.hello(false);
      await welcomed;
      await waitFor(() => watcher.contributors() === 2, 20_000, 'two contributors');
      const assigned = hostile.next<AssignMessage>((m) => m.type === 'assign');
      const runId = await startRun(t, slug, ownerToken);
      const assign = await assigned;
      const p = manifestSize(assign.manifest);
      const update = (fields: Record<string, unknown>) => ({ type: 'update', runId, round: assign.round, samples: 10, computeMs: 1, trainLoss: null, encoding: 'float32', ...fields });
      for (const [client, message] of [
        [hostile, update({ delta: new Uint8Array(4 * p - 3) })],
        [hostile, update({ delta: new Uint8Array(new Float32Array(p).fill(Number.NaN).buffer) })],
        [hostile, update({ round: assign.round + 5, delta: new Uint8Array(4 * p) })],
        [bystander, update({ delta: new Uint8Array(4 * p) })],
      ] as const) {
        const answer = client.next((m) => m.type === 'error');
        client.send(message);
        await answer;
      }
      hostile.close();
      await waitForStatus(t, runId, 'finished', 20_000);
      const round1 = (await t.repo.listRounds(runId))[0]!;
      assert.equal(round1.rejected, 4, `Round 1 rejected = ${round1.rejected}`);
    },
  );

  test('owner can pause, resume and stop a run over HTTP; members cannot', { timeout: 60_000 }, async () => {
    const rounds = 20;
    const { slug, joinCode, ownerToken } = await createShapedProject(t.url, { rounds, ...SMALL });
    const watcher = track(observe(t.url, slug, ownerToken));
    const memberToken = await joinMember(t.url, joinCode, 'worker');
    const worker: Participant = track(await participant(t.url, slug, memberToken, 'worker', { wrap: slowly(250) }));
    await waitFor(() => watcher.contributors() === 1, 20_000, 'contributor');
    const runId = await startRun(t, slug, ownerToken);
    const control = (action: string, token = ownerToken, id = runId) => api(t.url, 'POST', `/api/projects/${slug}/runs/${id}/${action}`, {}, token);
    // The stored row is read from the file directly, independent of the repository's mapping.
    const stored = () => storedRun(t.dbUrl, runId)!;
    await waitFor(async () => (await t.repo.listCheckpoints(runId)).length >= 2, 30_000, 'round 1 to be saved');

    // Members and strangers cannot control the run; unknown runs are 404.
    for (const action of ['pause', 'resume', 'stop']) {
      const forbidden = await control(action, memberToken);
      assert.equal(forbidden.status, 403, `${action} as member: ${JSON.stringify(forbidden.body)}`);
      assert.equal(forbidden.body.error.code, 'forbidden');
    }
    assert.equal((await control('pause', 'not-a-valid-token-at-all')).status, 401);
    const unknown = await control('pause', ownerToken, 'no-such-run');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not_found');
    assert.equal((await control('explode')).status, 404);
    assert.equal(stored().status, 'training', 'refused requests changed nothing');

    // Pause: state and database say so, and no round is assigned while paused.
    const paused = await control('pause');
    assert.equal(paused.status, 202, JSON.stringify(paused.body));
    assert.deepEqual(paused.body, { runId, action: 'pause' });
    await waitFor(() => watcher.state().run?.status === 'paused', 10_000, 'paused state broadcast');
    await waitFor(() => stored().status === 'paused', 10_000, 'paused status stored');
    const pausedAt = stored().lastRound;
    const assignsWhenPaused = worker.assigns.length;
    await sleep(1200);
    assert.equal(worker.assigns.length, assignsWhenPaused, 'no assignment while paused');
    assert.equal(stored().lastRound, pausedAt, 'no round saved while paused');
    assert.equal(watcher.state().run?.status, 'paused');
    assert.equal((await control('pause')).status, 202, 'pausing a paused run is harmless');
    assert.equal(stored().status, 'paused');

    // Resume: the next round is the one after the last saved one (an abandoned round runs again).
    const resumed = await control('resume');
    assert.equal(resumed.status, 202);
    await waitFor(() => worker.assigns.length > assignsWhenPaused, 10_000, 'an assignment after resume');
    assert.equal(worker.assigns[assignsWhenPaused]!.round, pausedAt + 1);
    await waitFor(() => stored().lastRound > pausedAt, 20_000, 'a round saved after resume');
    assert.equal(stored().status, 'training');

    // Stop: final, and the run is no longer controllable.
    const stopped = await control('stop');
    assert.equal(stopped.status, 202);
    await waitFor(() => watcher.state().run?.status === 'stopped', 10_000, 'stopped state broadcast');
    const stoppedRow = await waitForStatus(t, runId, 'stopped', 10_000);
    assert.ok(stoppedRow.finishedAt, 'a stopped run has finishedAt');
    assert.ok(stoppedRow.lastRound < rounds);
    const assignsWhenStopped = worker.assigns.length;
    await sleep(800);
    assert.equal(worker.assigns.length, assignsWhenStopped, 'no assignment after stop');
    for (const action of ['resume', 'pause', 'stop']) assert.equal((await control(action)).status, 404, `${action} after stop`);
    const final = await t.repo.getRun(runId);
    assert.equal(final?.status, 'stopped');
    assert.equal(final?.lastRound, stoppedRow.lastRound);
    const checkpoints = await t.repo.listCheckpoints(runId);
    assert.deepEqual(checkpoints.map((c) => c.round), range(stoppedRow.lastRound));
    assert.deepEqual(watcher.statuses().filter((s) => s !== 'waiting'), ['training', 'paused', 'training', 'stopped']);
    // A new run can start once the old one is stopped.
    const next = await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    assert.equal(next.status, 202, JSON.stringify(next.body));
    assert.equal((await control('stop', ownerToken, next.body.runId)).status, 202);
  });

  test(
    'a paused run reads back through the repository and the API, and stays paused across a restart',
    {
      timeout: 60_000,
    },
    async () => {
      const own = await startTestServer({ roundDeadlineMs: 60_000 });
      let restarted: TestServer | null = null;
      let ownClosed = false;
      const problems: string[] = [];
      const check = async (what: string, fn: () => Promise<void> | void) => {
        try {
          await fn();
        } catch (error) {
          problems.push(`${what}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
        }
      };
      try {
        const { slug, joinCode, ownerToken } = await createShapedProject(own.url, { rounds: 4, ...SMALL });
        const worker = await participant(own.url, slug, await joinMember(own.url, joinCode, 'w'), 'w', { wrap: slowly(200) });
        const runId = await startRun(own, slug, ownerToken);
        await waitFor(async () => (await own.repo.listCheckpoints(runId)).length >= 2, 30_000, 'round 1 to be saved');
        assert.equal((await api(own.url, 'POST', `/api/projects/${slug}/runs/${runId}/pause`, {}, ownerToken)).status, 202);
        await waitFor(() => storedRun(own.dbUrl, runId)?.status === 'paused', 10_000, 'paused status stored');

        await check('repo.getRun', async () => assert.equal((await own.repo.getRun(runId))?.status, 'paused'));
        await check('repo.findActiveRun', async () => {
          const project = await own.repo.findProjectBySlug(slug);
          assert.equal((await own.repo.findActiveRun(project!.id))?.id, runId);
        });
        await check('GET run', async () => {
          const res = await api(own.url, 'GET', `/api/projects/${slug}/runs/${runId}`, undefined, ownerToken);
          assert.equal(res.status, 200, JSON.stringify(res.body));
          assert.equal(res.body.run.status, 'paused');
        });
        await check('GET project', async () => {
          const res = await api(own.url, 'GET', `/api/projects/${slug}`, undefined, ownerToken);
          assert.equal(res.status, 200, JSON.stringify(res.body));
          assert.equal(res.body.runs[0]?.status, 'paused');
        });
        await check('POST train while paused', async () => {
          const res = await api(own.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
          assert.equal(res.status, 409, JSON.stringify(res.body));
        });

        worker.close();
        await own.close({ removeDb: false });
        ownClosed = true;
        await check('restart with a paused run', async () => {
          restarted = await startTestServer({ dbUrl: own.dbUrl, roundDeadlineMs: 60_000 });
          const again = await participant(restarted.url, slug, await joinMember(restarted.url, joinCode, 'w2'), 'w2');
          try {
            await waitFor(() => again.lastState()?.run?.status === 'paused', 10_000, 'the resumed run to come back paused');
            await sleep(300);
            assert.equal(again.assigns.length, 0, 'a paused run assigns nothing after a restart');
            assert.equal((await api(restarted.url, 'POST', `/api/projects/${slug}/runs/${runId}/resume`, {}, ownerToken)).status, 202);
            await waitForStatus(restarted, runId, 'finished', 30_000);
          } finally {
            again.close();
          }
        });
        assert.deepEqual(problems, []);
      } finally {
        await (restarted as TestServer | null)?.close();
        if (!ownClosed) await own.close({ removeDb: false });
        rmSync(path.dirname(own.dbUrl.replace(/^file:/, '')), { recursive: true, force: true });
      }
    },
  );
});
