import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { killBots, startBots } from '../helpers/bots-process';
import { setScalar } from '../../server/protocol/spec-doc';
import { connectHeadless } from '../../workers/headless';
import type { RoundMetrics, RunState } from '../../server/protocol';
import { api, startTestServer, waitFor, type TestServer } from '../helpers/server';
import { connectDoc } from '../helpers/yjs';

// Stragglers' refused updates are expected here: keep the server's warnings out of the output.
process.env.TEST_LOG_LEVEL ??= 'error';

const DEADLINE_MS = 3000;
const STDOUT_KEYS = ['accuracy', 'client', 'loss', 'ms', 'round', 'runId'];

/** A project whose shared spec is set for a short, cheap run. */
async function smallProject(t: TestServer, rounds: number) {
  const created = await api(t.url, 'POST', '/api/projects', { name: 'Chaos' });
  const { slug, joinCode, ownerToken } = created.body as { slug: string; joinCode: string; ownerToken: string };
  const editor = await connectDoc(t.url, slug, ownerToken);
  setScalar(editor.doc, 'rounds', rounds);
  setScalar(editor.doc, 'dataset.samples', 200);
  setScalar(editor.doc, 'localEpochs', 1);
  return { slug, joinCode, ownerToken, editor };
}

/** Watches the project's training state without contributing; remembers the most participants a round had. */
function observe(t: TestServer, slug: string, token: string) {
  let last: { run: RunState | null; clients: unknown[] } = { run: null, clients: [] };
  let maxParticipants = 0;
  const client = connectHeadless({ url: t.url, slug, token, backend: 'cpu', train: () => Promise.reject(new Error('observer does not train')) });
  client.setContribute(false);
  client.on('state', (state) => {
    last = state;
    maxParticipants = Math.max(maxParticipants, state.run?.participants ?? 0);
  });
  return { state: () => last, maxParticipants: () => maxParticipants, close: () => client.close() };
}

/** `npm run bots` as a child process. */
const bots = (t: TestServer, joinCode: string, extra: string[]) => startBots(t.url, joinCode, extra);

async function roundMetrics(t: TestServer, runId: string): Promise<RoundMetrics[]> {
  const checkpoints = await t.repo.listCheckpoints(runId);
  return checkpoints.map((c) => JSON.parse(c.metrics) as RoundMetrics);
}

describe('npm run bots with stragglers and drop-outs', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ roundDeadlineMs: DEADLINE_MS });
  });
  after(async () => {
    killBots();
    await t.close();
  });

  test('a straggler slower than the round deadline is left out and the run still finishes', { timeout: 40_000 }, async () => {
    const rounds = 3;
    const { slug, joinCode, ownerToken, editor } = await smallProject(t, rounds);
    const watcher = observe(t, slug, ownerToken);
    const fast = bots(t, joinCode, ['--count', '2', '--name', 'fast']);
    const slow = bots(t, joinCode, ['--count', '1', '--name', 'slow', '--delay-ms', String(DEADLINE_MS + 2000)]);

    await waitFor(() => watcher.state().clients.length >= 4, 30_000, 'three bots to connect');
    const started = await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    assert.equal(started.status, 202);
    const runId = started.body.runId as string;

    const [fastCode, slowCode] = await Promise.all([fast.exited, slow.exited]);
    assert.equal(fastCode, 0, `fast bots exited with ${fastCode}; stderr:\n${fast.stderr()}`);
    assert.equal(slowCode, 0, `slow bot exited with ${slowCode}; stderr:\n${slow.stderr()}`);

    // Every round was assigned to all three, but only the two fast clients made the deadline.
    assert.equal(watcher.maxParticipants(), 3);
    const metrics = await roundMetrics(t, runId);
    assert.deepEqual(metrics.map((m) => m.round), [0, 1, 2, 3]);
    assert.deepEqual(metrics.slice(1).map((m) => m.participants), [2, 2, 2]);
    // One contribution row per client per round: the fast ones accepted, the straggler late.
    const fates = (await t.repo.listContributions(runId)).map((c) => c.status);
    assert.equal(fates.filter((f) => f === 'accepted').length, 2 * rounds);
    assert.equal(fates.filter((f) => f === 'late').length, rounds);
    assert.equal((await t.repo.getRun(runId))?.status, 'finished');

    const fastLines = fast.lines();
    assert.equal(fastLines.length, 2 * rounds);
    for (const line of fastLines) assert.deepEqual(Object.keys(line).sort(), STDOUT_KEYS);
    assert.deepEqual(slow.lines(), [], 'the straggler took part in no round');
    // Its late update for round 1 arrives while round 2 is open and is refused.
    assert.match(slow.stderr(), /slow-1 error stale_update/);
    watcher.close();
    editor.close();
  });

  test('with --drop-prob 0.5 clients leave mid-round and rejoin, and the run still finishes', { timeout: 40_000 }, async () => {
    const rounds = 4;
    const { slug, joinCode, ownerToken, editor } = await smallProject(t, rounds);
    const watcher = observe(t, slug, ownerToken);
    const flaky = bots(t, joinCode, ['--count', '3', '--name', 'flaky', '--drop-prob', '0.5', '--seed', '1']);

    await waitFor(() => watcher.state().clients.length >= 4, 30_000, 'three bots to connect');
    const started = await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    assert.equal(started.status, 202);
    const runId = started.body.runId as string;

    const code = await flaky.exited;
    assert.equal(code, 0, `bots exited with ${code}; stderr:\n${flaky.stderr()}`);
    const run = await t.repo.getRun(runId);
    assert.equal(run?.status, 'finished');
    assert.equal(run?.lastRound, rounds);
    assert.match(flaky.stderr(), /flaky-\d: dropping out of round \d+ after training; rejoining in \d+ ms/);
    assert.match(flaky.stderr(), /disconnected \(io client disconnect\)/);

    // One stdout line per accepted update: a client that left mid-round reports nothing for it.
    const lines = flaky.lines();
    for (const line of lines) assert.deepEqual(Object.keys(line).sort(), STDOUT_KEYS);
    const contributions = (await t.repo.listContributions(runId)).filter((c) => c.status === 'accepted');
    assert.equal(lines.length, contributions.length, flaky.stderr());
    const metrics = await roundMetrics(t, runId);
    assert.equal(metrics.slice(1).reduce((s, m) => s + m.participants, 0), contributions.length);
    watcher.close();
    editor.close();
  });
});
