import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setScalar } from '../../server/protocol/spec-doc';
import { connectHeadless } from '../../workers/headless';
import type { RunState } from '../../server/protocol';
import { api, startTestServer, waitFor, type TestServer } from '../helpers/server';
import { connectDoc } from '../helpers/yjs';

/** A project whose shared spec is set for a short run. */
async function smallProject(t: TestServer, rounds: number) {
  const created = await api(t.url, 'POST', '/api/projects', { name: 'Federated' });
  const { slug, joinCode, ownerToken } = created.body as { slug: string; joinCode: string; ownerToken: string };
  const editor = await connectDoc(t.url, slug, ownerToken);
  setScalar(editor.doc, 'rounds', rounds);
  setScalar(editor.doc, 'dataset.samples', 400);
  setScalar(editor.doc, 'localEpochs', 2);
  return { slug, joinCode, ownerToken, editor };
}

/** Watches the project's training state without contributing compute. */
function observe(t: TestServer, slug: string, token: string) {
  let last: { run: RunState | null; clients: unknown[] } = { run: null, clients: [] };
  const client = connectHeadless({
    url: t.url,
    slug,
    token,
    backend: 'cpu',
    train: () => Promise.reject(new Error('observer does not train')),
  });
  client.setContribute(false);
  client.on('state', (state) => (last = state));
  return { state: () => last, close: () => client.close() };
}

describe('federated training across headless clients', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ roundDeadlineMs: 60_000 });
  });
  after(async () => {
    await t.close();
  });

  test('a run with nobody connected waits and says why', async () => {
    const { slug, ownerToken, editor } = await smallProject(t, 2);
    const started = await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    assert.equal(started.status, 202);
    const watcher = observe(t, slug, ownerToken);
    const state = await waitFor(() => watcher.state().run, 5000, 'run state');
    assert.equal(state.status, 'waiting');
    assert.match(state.waitingReason ?? '', /Waiting for a participant/);
    watcher.close();
    editor.close();
  });

  test('npm run bots trains a 5-round FedAvg run to the end and every round is saved', async () => {
    const rounds = 5;
    const { slug, joinCode, ownerToken, editor } = await smallProject(t, rounds);
    const watcher = observe(t, slug, ownerToken);

    const bots = spawn(process.execPath, ['--import', 'tsx', 'workers/bots.ts', '--url', t.url, '--code', joinCode, '--count', '2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    bots.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    bots.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => bots.on('exit', (code) => resolve(code)));

    await waitFor(() => watcher.state().clients.length >= 3, 30_000, 'two bots to connect');
    const started = await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    assert.equal(started.status, 202);
    const runId = started.body.runId as string;

    const code = await exited;
    assert.equal(code, 0, `bots exited with ${code}; stderr:\n${stderr}`);

    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(lines.length, 2 * rounds, stdout);
    for (const line of lines) {
      assert.deepEqual(Object.keys(line).sort(), ['accuracy', 'client', 'loss', 'ms', 'round', 'runId']);
      assert.equal(line.runId, runId);
      assert.ok(Number.isFinite(line.loss) && Number.isFinite(line.accuracy) && Number.isFinite(line.ms));
    }
    assert.deepEqual([...new Set(lines.map((l) => l.round))].sort(), [1, 2, 3, 4, 5]);

    const checkpoints = await t.repo.listCheckpoints(runId);
    assert.deepEqual(checkpoints.map((c) => c.round), [0, 1, 2, 3, 4, 5]);
    const first = JSON.parse(checkpoints[0]!.metrics) as { loss: number };
    const last = JSON.parse(checkpoints[rounds]!.metrics) as { loss: number; participants: number };
    assert.ok(last.loss < first.loss, `held-out loss should fall: ${first.loss} → ${last.loss}`);
    assert.equal(last.participants, 2);
    const contributions = await t.repo.listContributions(runId);
    assert.equal(contributions.length, 2 * rounds);
    assert.ok(contributions.every((c) => c.samples > 0 && c.backend === 'cpu'));
    const run = await t.repo.getRun(runId);
    assert.equal(run?.status, 'finished');
    assert.equal(run?.lastRound, rounds);
    await waitFor(() => watcher.state().run?.status === 'finished', 5000, 'finished state broadcast');
    assert.equal(watcher.state().run?.history.length, rounds + 1);
    watcher.close();
    editor.close();
  });
});
