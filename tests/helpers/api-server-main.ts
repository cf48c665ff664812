/**
 * The real server composition without Next.js pages, as a standalone process, for tests that
 * must kill the server (SIGKILL) and start it again on the same database. Prints "READY <port>".
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { applyMigrations } from '../../server/db/migrate';
import { createThreadedRepository } from '../../server/db/threaded-repository';
import { createServer } from '../../server/app';
import { createLogger } from '../../server/log';

const dbUrl = process.env.DATABASE_URL;
if (!dbUrl) throw new Error('DATABASE_URL is required');
await applyMigrations(dbUrl);
const repo = await createThreadedRepository(dbUrl);
const server = createServer({ repo, log: createLogger(process.env.LOG_LEVEL ?? 'warn') });
const port = await server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
process.stdout.write(`READY ${port}\n`);

// Benchmarks read the server's event-loop delay: SIGUSR2 prints it (ms) as one JSON line.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
process.on('SIGUSR2', () => {
  process.stdout.write(
    `LOOP ${JSON.stringify({ p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6, rssMb: process.memoryUsage().rss / 2 ** 20 })}\n`,
  );
  loopDelay.reset();
});
// A clean exit on SIGTERM (tests use SIGKILL to crash it): lets --cpu-prof write its profile.
process.on('SIGTERM', () => process.exit(0));
