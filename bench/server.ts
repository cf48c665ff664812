/**
 * Round overhead over real sockets: the server as its own process, 8 headless clients (the bots
 * CLI, another process) on loopback. The bots share one thread, so their training runs one after
 * another: `socket_overhead_ms_8_clients` = round wall time (server's record) minus the clients'
 * summed compute in that round (the slowest client's compute, had each its own machine).
 * `event_loop_p99_ms` = the server's event-loop delay p99 over those rounds.
 *
 * BENCH_CPU_PROF=<dir> writes the server's CPU profiles (main thread and workers) there, to find
 * what holds the event loop.
 */
import type { ChildProcess } from 'node:child_process';
import { createRepository } from '../server/db/prisma-repository';
import { setScalar } from '../server/protocol/spec-doc';
import { api, waitFor } from '../tests/helpers/server';
import { connectDoc } from '../tests/helpers/yjs';
import { lines, spawnBots, startServerProcess } from './helpers';

export async function benchServer(options: { clients?: number; rounds?: number } = {}): Promise<Record<string, number>> {
  const clients = options.clients ?? 8;
  const rounds = options.rounds ?? 12;
  const server = await startServerProcess({ profileDir: process.env.BENCH_CPU_PROF });
  const { url, dbUrl } = server;
  let bots: ChildProcess | null = null;
  try {
    const created = await api(url, 'POST', '/api/projects', { name: 'Bench' });
    const { slug, joinCode, ownerToken } = created.body as { slug: string; joinCode: string; ownerToken: string };
    const editor = await connectDoc(url, slug, ownerToken);
    setScalar(editor.doc, 'rounds', rounds);
    setScalar(editor.doc, 'dataset.samples', 1600);
    setScalar(editor.doc, 'localEpochs', 1);
    // Wait until the server has the edits before the editor leaves.
    const check = await connectDoc(url, slug, ownerToken);
    await waitFor(() => check.doc.getMap('spec').get('rounds') === rounds, 5000, 'spec edit');
    check.close();
    editor.close();

    const computeByRound = new Map<number, number>();
    bots = spawnBots(url, joinCode, clients);
    lines(bots, (line) => {
      const row = JSON.parse(line) as { round: number; ms: number };
      computeByRound.set(row.round, (computeByRound.get(row.round) ?? 0) + row.ms);
    });
    await new Promise((r) => setTimeout(r, 4000)); // bots load TensorFlow.js and connect
    await server.loop(); // reset the loop histogram: measure the rounds only
    const started = await api(url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    const runId = started.body.runId as string;
    const exited = new Promise<number | null>((resolve) => bots!.on('exit', resolve));
    const code = await exited;
    if (code !== 0) throw new Error(`bots exited with ${code}`);
    const report = await server.loop();

    const repo = await createRepository(dbUrl);
    const stored = await repo.listRounds(runId);
    await repo.close();
    // Skip round 1: clients compile their model then.
    const overheads = stored
      .filter((r) => r.number > 1 && computeByRound.has(r.number))
      .map((r) => r.finishedAt.getTime() - r.startedAt.getTime() - computeByRound.get(r.number)!);
    const roundMs = stored.filter((r) => r.number > 1).map((r) => r.finishedAt.getTime() - r.startedAt.getTime());
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    return {
      socket_overhead_ms_8_clients: mean(overheads),
      round_ms_8_clients: mean(roundMs),
      event_loop_p99_ms: report.p99,
      event_loop_max_ms: report.max,
      rss_mb: report.rssMb,
    };
  } finally {
    bots?.kill('SIGKILL');
    server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.table(await benchServer());
}
