import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import next from 'next';
import { readEnv } from './env';
import { createLogger } from './log';
import { applyMigrations } from './db/migrate';
import { createThreadedRepository } from './db/threaded-repository';
import { createServer } from './app';
import { seedDemo } from './seed';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<void> {
  let env;
  try {
    env = readEnv();
  } catch (error) {
    console.error(String(error instanceof Error ? error.message : error));
    process.exit(2);
  }
  const log = createLogger(env.LOG_LEVEL);
  const dev = env.NODE_ENV === 'development';
  const started = Date.now();

  const { applied } = await applyMigrations(env.DATABASE_URL);
  if (applied.length > 0) log.info({ applied }, 'database migrated');
  const repo = await createThreadedRepository(env.DATABASE_URL, { sqliteSync: env.SQLITE_SYNC });

  // Next gets its own emitter as "httpServer" so it never sees (and never closes) upgrades
  // that belong to socket.io or Yjs; we forward only /_next/ (dev HMR) to it.
  const upgrades = new EventEmitter();
  const nextApp = next({ dev, dir: root, hostname: 'localhost', port: env.PORT, httpServer: upgrades as never });
  await nextApp.prepare();
  const handle = nextApp.getRequestHandler();

  const server = createServer({
    repo,
    log,
    pages: { handle: (req: IncomingMessage, res: ServerResponse) => handle(req, res), upgrades },
  });
  const port = await server.listen(env.PORT, env.HOST);
  const publicUrl = env.PUBLIC_URL ?? `http://localhost:${port}`;

  if (env.SEED_DEMO === '1') {
    const demo = await seedDemo(repo, server.projects);
    log.info({ url: `${publicUrl}/p/${demo.slug}`, joinCode: demo.joinCode }, 'demo project ready');
    // The owner link carries the token in the fragment, which browsers never send to a server.
    console.log(`\n  Demo project: ${publicUrl}/p/${demo.slug}  (join code ${demo.joinCode})\n  Demo owner link (new at every start): ${publicUrl}/claim#${demo.slug}.${demo.ownerToken}\n`);
  }
  log.info({ port, dev, database: env.DATABASE_URL.split(':')[0], ms: Date.now() - started }, `cotrain ready on ${publicUrl}`);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    await server.close().catch((error: unknown) => log.error({ err: error }, 'error while closing'));
    await repo.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error('cotrain failed to start:', error);
  process.exit(1);
});
