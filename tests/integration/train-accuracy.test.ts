import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manifestSize, type AssignMessage, type ModelMessage, type RoundMetrics, type ServerMessage } from '../../server/protocol';
import { api, suiteServer, waitFor, type TestServer } from '../helpers/server';
import { createShapedProject, joinMember, observe, participant, rawClient } from '../helpers/clients';

process.env.TEST_LOG_LEVEL ??= 'error';

const SMALL = { 'dataset.samples': 300, localEpochs: 1 } as const;

async function startRun(t: TestServer, slug: string, ownerToken: string): Promise<string> {
  const started = await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
  assert.equal(started.status, 202, JSON.stringify(started.body));
  return started.body.runId as string;
}

async function finished(t: TestServer, runId: string): Promise<void> {
  await waitFor(async () => (await t.repo.getRun(runId))?.status === 'finished', 30_000, `run ${runId} to finish`);
}

describe("the clients' training accuracy", () => {
  const suite = suiteServer({ roundDeadlineMs: 60_000 });
  const { track } = suite;
  let t: TestServer;
  beforeEach(() => {
    t = suite.server();
  });

  test('is averaged by samples over the clients that report it, stored per round and served with the run', { timeout: 60_000 }, async () => {
    const { slug, joinCode, ownerToken } = await createShapedProject(t.url, { rounds: 2, ...SMALL });
    const watcher = track(observe(t.url, slug, ownerToken));
    const a = track(rawClient(t.url, { slug, token: await joinMember(t.url, joinCode, 'a') }));
    const b = track(rawClient(t.url, { slug, token: await joinMember(t.url, joinCode, 'b') }));
    await waitFor(() => a.socket.connected && b.socket.connected, 10_000, 'raw sockets to connect');
    a.hello(true);
    b.hello(true);
    await waitFor(() => watcher.contributors() === 2, 20_000, 'two contributors');

    const assigned = (round: number) => Promise.all([a, b].map((c) => c.next<AssignMessage>((m) => m.type === 'assign' && m.round === round, 20_000)));
    const round1 = assigned(1);
    const runId = await startRun(t, slug, ownerToken);
    const [assignA] = await round1;
    const zero = new Uint8Array(4 * manifestSize(assignA!.manifest));
    const update = (round: number, samples: number, extra: Record<string, unknown>) => ({
      type: 'update',
      runId,
      round,
      samples,
      computeMs: 1,
      trainLoss: 0.5,
      encoding: 'float32',
      delta: zero,
      ...extra,
    });

    // Out of range: refused at the boundary, the round goes on.
    const refused = a.next<Extract<ServerMessage, { type: 'error' }>>((m) => m.type === 'error');
    a.send(update(1, 10, { trainAccuracy: 1.5 }));
    assert.equal((await refused).code, 'invalid_message');

    const round2 = assigned(2);
    a.send(update(1, 10, { trainAccuracy: 0.5 }));
    b.send(update(1, 30, { trainAccuracy: 0.9 }));
    await round2;
    // Round 2: only a reports one; b's null (an old client) does not count, nor dilute.
    a.send(update(2, 10, { trainAccuracy: 0.25 }));
    b.send(update(2, 30, { trainAccuracy: null }));
    await finished(t, runId);

    const rounds = await t.repo.listRounds(runId);
    assert.deepEqual(rounds.map((r) => r.number), [1, 2]);
    assert.ok(Math.abs(rounds[0]!.trainAccuracy! - (0.5 * 10 + 0.9 * 30) / 40) < 1e-9, `round 1: ${rounds[0]!.trainAccuracy}`);
    assert.ok(Math.abs(rounds[1]!.trainAccuracy! - 0.25) < 1e-9, `round 2: ${rounds[1]!.trainAccuracy}`);

    const checkpoints = (await t.repo.listCheckpoints(runId)).map((c) => JSON.parse(c.metrics) as RoundMetrics);
    assert.equal(checkpoints[0]!.trainAccuracy ?? null, null, 'round 0 has no training');
    assert.ok(Math.abs(checkpoints[1]!.trainAccuracy! - 0.8) < 1e-9);

    const detail = await api(t.url, 'GET', `/api/projects/${slug}/runs/${runId}`, undefined, ownerToken);
    assert.equal(detail.status, 200);
    const served = detail.body.rounds as { number: number; trainAccuracy: number | null; trainLoss: number | null }[];
    assert.ok(Math.abs(served[0]!.trainAccuracy! - 0.8) < 1e-9);
    assert.ok(Math.abs(served[0]!.trainLoss! - 0.5) < 1e-9);
  });

  test('real headless clients report it, and a client joining later gets the current global model at once', { timeout: 60_000 }, async () => {
    const { slug, joinCode, ownerToken } = await createShapedProject(t.url, { rounds: 2, ...SMALL });
    const watcher = track(observe(t.url, slug, ownerToken));
    track(await participant(t.url, slug, await joinMember(t.url, joinCode, 'p1'), 'p1'));
    track(await participant(t.url, slug, await joinMember(t.url, joinCode, 'p2'), 'p2'));
    await waitFor(() => watcher.contributors() === 2, 20_000, 'two contributors');
    const runId = await startRun(t, slug, ownerToken);
    await finished(t, runId);

    for (const round of await t.repo.listRounds(runId)) {
      assert.ok(round.trainAccuracy !== null && round.trainAccuracy >= 0 && round.trainAccuracy <= 1, `round ${round.number}: ${round.trainAccuracy}`);
    }

    const late = track(rawClient(t.url, { slug, token: await joinMember(t.url, joinCode, 'late') }));
    await waitFor(() => late.socket.connected, 10_000, 'late client to connect');
    const model = late.next<ModelMessage>((m) => m.type === 'model');
    late.hello(false);
    const got = await model;
    assert.equal(got.runId, runId);
    assert.equal(got.metrics.round, 2);
    assert.equal(got.metrics.trainAccuracy, (await t.repo.listRounds(runId))[1]!.trainAccuracy);
  });
});
