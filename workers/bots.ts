/**
 * `npm run bots -- --url URL --code CODE --count N [--backend cpu|wasm] [--name bot]`
 * Joins N headless clients that train like browsers. stdout: one JSON line per client per round
 * it took part in; logs on stderr. Exits 0 when the run ends, non-zero on errors.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadNodeTf } from './ml/node-tf';
import { trainRound } from './ml/train';
import { connectHeadless, joinProject, serialize } from './headless';
import type { TrainResult } from './client';

const argsSchema = z.object({
  url: z.url(),
  code: z.string().min(4),
  count: z.coerce.number().int().min(1).max(500),
  backend: z.enum(['cpu', 'wasm']),
  name: z.string().min(1).max(30),
});

function log(message: string): void {
  process.stderr.write(`[bots] ${message}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://localhost:3000' },
      code: { type: 'string' },
      count: { type: 'string', default: '1' },
      backend: { type: 'string', default: 'cpu' },
      name: { type: 'string', default: 'bot' },
    },
  });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) {
    log(`bad arguments: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return 2;
  }
  const args = parsed.data;
  const tf = await loadNodeTf(args.backend);
  const train = serialize((task: Parameters<typeof trainRound>[1]) => trainRound(tf, task));

  return new Promise<number>((resolve) => {
    let running = args.count;
    let failed = false;
    const finish = (code: number) => {
      failed ||= code !== 0;
      if (--running === 0) resolve(failed ? 1 : 0);
    };
    for (let i = 1; i <= args.count; i++) {
      const clientName = `${args.name}-${i}`;
      void joinProject(args.url, args.code, clientName).then(
        ({ slug, token }) => {
          const client = connectHeadless({ url: args.url, slug, token, backend: args.backend, train });
          const trained = new Map<string, TrainResult>();
          let seenRunId: string | null = null;
          client.on('connection', ({ connected, reason }) => log(`${clientName} ${connected ? 'connected' : `disconnected (${reason ?? 'unknown'})`}`));
          client.on('trained', ({ runId, round, result }) => trained.set(`${runId}:${round}`, result));
          client.on('model', ({ runId, metrics }) => {
            const mine = trained.get(`${runId}:${metrics.round}`);
            if (!mine) return;
            trained.delete(`${runId}:${metrics.round}`);
            process.stdout.write(
              `${JSON.stringify({ client: clientName, runId, round: metrics.round, loss: metrics.loss, accuracy: metrics.accuracy, ms: Math.round(mine.computeMs) })}\n`,
            );
          });
          client.on('state', ({ run }) => {
            if (!run) return;
            if (run.status === 'waiting' || run.status === 'training') seenRunId = run.runId;
            else if (run.runId === seenRunId) {
              log(`${clientName}: run ${run.runId} ${run.status}`);
              client.close();
              finish(run.status === 'finished' ? 0 : 1);
            }
          });
          client.on('error', ({ code, message }) => {
            log(`${clientName} error ${code}: ${message}`);
            if (code === 'protocol_version' || code === 'unauthorized') {
              client.close();
              finish(1);
            }
          });
        },
        (error: unknown) => {
          log(`${clientName}: ${String(error instanceof Error ? error.message : error)}`);
          finish(1);
        },
      );
    }
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`fatal: ${String(error)}`);
    process.exit(1);
  },
);
