import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRepository } from '../../server/db/prisma-repository';
import { api, tempDatabase, waitFor } from '../helpers/server';
import { freePort } from '../helpers/process-server';
import { createShapedProject, observe } from '../helpers/clients';
import { killBots, startBots } from '../helpers/bots-process';

const children = new Set<ChildProcess>();

/** The API/socket/Yjs server (tests/helpers/api-server-main.ts) as a child process on a fixed port. */
function startServer(dbUrl: string, port: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/helpers/api-server-main.ts'], {
    env: { ...process.env, DATABASE_URL: dbUrl, PORT: String(port), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const match = /READY (\d+)/.exec(stdout);
      if (match) resolve(`http://127.0.0.1:${match[1]}`);
    });
    child.on('exit', (code, signal) => reject(new Error(`server exited (${code ?? signal}) before READY: ${stderr}`)));
  });
  const exited = new Promise<void>((resolve) =>
    child.on('exit', () => {
      children.delete(child);
      resolve();
    }),
  );
  return {
    child,
    ready,
    exited,
    stderr: () => stderr,
    /** pino's JSON log lines (LOG_LEVEL=info). */
    logs: () =>
      stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}


function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms))),
  ]);
}

describe('training survives a server crash', () => {
  const cleanups: (() => void)[] = [];
  after(() => {
    for (const child of children) child.kill('SIGKILL');
    killBots();
    for (const cleanup of cleanups) cleanup();
  });

  test('after a server restart (SIGKILL) an interrupted run resumes from its last checkpoint', { timeout: 90_000 }, async (ctx) => {
    const rounds = 6;
    const { dbUrl, dir } = await tempDatabase();
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();

    const first = startServer(dbUrl, port);
    const url = await first.ready;
    // minClients 2: after the restart each round waits until both bots are back, so every round has both.
    const { slug, joinCode, ownerToken } = await createShapedProject(url, { rounds, 'dataset.samples': 300, localEpochs: 1, 'sampling.minClients': 2 }, 'Crash');
    const watcher = observe(url, slug, ownerToken);
    cleanups.push(() => watcher.close());
    // Each bot waits 300 ms after training, so a round takes long enough to kill the server mid-run.
    const bots = startBots(url, joinCode, ['--count', '2', '--name', 'survivor', '--delay-ms', '300']);
    await waitFor(() => watcher.contributors() >= 2, 30_000, 'two bots to connect');

    const started = await api(url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const runId = started.body.runId as string;
    await waitFor(
      async () => {
        const res = await api(url, 'GET', `/api/projects/${slug}/runs/${runId}`, undefined, ownerToken);
        return res.status === 200 && res.body.checkpoints.length >= 3;
      },
      30_000,
      'round 2 to be saved',
    );

    // No graceful shutdown: the process dies mid-run, with a round open and updates in flight.
    const killedAt = new Date();
    first.child.kill('SIGKILL');
    await first.exited;

    const reader = await createRepository(dbUrl);
    const atKill = await reader.getRun(runId);
    const savedBefore = await reader.listCheckpoints(runId);
    await reader.close();
    assert.ok(atKill, 'the run is stored');
    const k = atKill.lastRound;
    assert.ok(k >= 2 && k < rounds, `the server must die mid-run (last saved round ${k} of ${rounds})`);
    assert.equal(atKill.status, 'training', 'the crash left the run active in the database');
    assert.deepEqual(savedBefore.map((c) => c.round), Array.from({ length: k + 1 }, (_, i) => i));

    const restartedAt = new Date();
    const second = startServer(dbUrl, port);
    assert.equal(await second.ready, url, 'same port, so clients can reconnect');

    const code = await withTimeout(bots.exited, 60_000, 'the bots to finish the run');
    assert.equal(code, 0, `bots exited with ${code}; stderr:\n${bots.stderr()}\nserver stderr:\n${second.stderr()}`);
    // The bots saw the crash and came back by themselves.
    assert.match(bots.stderr(), /survivor-1 disconnected \(transport close\)/);
    assert.equal(bots.stderr().match(/survivor-\d connected/g)?.length, 4, bots.stderr());

    const res = await api(url, 'GET', `/api/projects/${slug}/runs/${runId}`, undefined, ownerToken);
    assert.equal(res.status, 200);
    assert.equal(res.body.run.status, 'finished');
    assert.equal(res.body.run.lastRound, rounds);
    const checkpoints = res.body.checkpoints as { round: number; createdAt: string }[];
    assert.deepEqual(checkpoints.map((c) => c.round), [0, 1, 2, 3, 4, 5, 6], 'every round saved exactly once');
    const created = checkpoints.map((c) => Date.parse(c.createdAt));
    assert.deepEqual([...created].sort((a, b) => a - b), created, 'checkpoints were written in round order');
    // Rounds up to k are the first server's, the rest the restarted server's: nothing was redone or skipped.
    for (const c of checkpoints) {
      if (c.round <= k) assert.ok(Date.parse(c.createdAt) <= killedAt.getTime(), `checkpoint ${c.round} predates the crash`);
      else assert.ok(Date.parse(c.createdAt) >= restartedAt.getTime(), `checkpoint ${c.round} was written after the restart`);
    }
    const roundRows = res.body.rounds as { number: number; startedAt: string; accepted: number }[];
    assert.deepEqual(roundRows.map((r) => r.number), [1, 2, 3, 4, 5, 6]);
    const firstAfter = roundRows.find((r) => Date.parse(r.startedAt) >= restartedAt.getTime());
    assert.equal(firstAfter?.number, k + 1, 'the restarted server continued with the round after the last checkpoint');
    const accepted = roundRows.map((r) => r.accepted);
    assert.deepEqual(accepted, [2, 2, 2, 2, 2, 2], 'both bots took part in every round, before and after the crash');

    const resumed = second.logs().find((l) => l.msg === 'resuming run');
    assert.equal(resumed?.runId, runId);
    assert.equal(resumed?.fromRound, k);
    // The round open at the crash was started again, not counted twice.
    const startedRounds = second.logs().filter((l) => l.msg === 'round started').map((l) => l.round);
    assert.deepEqual(startedRounds, Array.from({ length: rounds - k }, (_, i) => k + 1 + i));

    // One bot line per accepted update (bots print a round only when its update counted).
    const lines = bots.lines();
    assert.ok(lines.every((l) => l.runId === runId));
    assert.deepEqual(
      roundRows.map((r) => lines.filter((l) => l.round === r.number).length),
      accepted,
      'bot stdout lines per round = accepted updates per round',
    );
    await waitFor(() => watcher.state().run?.status === 'finished', 10_000, 'the reconnected observer to see the end');
    ctx.diagnostic(`killed after round ${k}; resumed from ${resumed?.fromRound}; ${rounds - k} rounds after the restart`);

    second.child.kill('SIGKILL');
    await second.exited;
  });
});
