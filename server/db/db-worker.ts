/**
 * The database thread: owns the Prisma client (see threaded-repository.ts) and answers calls
 * posted by the main thread. Calls run as they arrive; the repository itself orders writes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createRepository, type RepositoryOptions } from './prisma-repository';
import type { Repository } from './repository';
import type { DbCall, DbReply } from './threaded-repository';

const port = parentPort!;
const { databaseUrl, options } = workerData as { databaseUrl: string; options: RepositoryOptions };

function describe(error: unknown): Extract<DbReply, { ok: false }>['error'] {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(error) };
}

let repo: Repository | null = null;
try {
  repo = await createRepository(databaseUrl, options);
  port.postMessage({ id: 0, ok: true, value: 'ready' } satisfies DbReply);
} catch (error) {
  port.postMessage({ id: 0, ok: false, error: describe(error) } satisfies DbReply);
}

port.on('message', (call: DbCall) => {
  const method = repo?.[call.method] as ((...args: unknown[]) => Promise<unknown>) | undefined;
  if (!repo || typeof method !== 'function') {
    port.postMessage({ id: call.id, ok: false, error: { name: 'Error', message: `Database thread cannot run ${String(call.method)}` } } satisfies DbReply);
    return;
  }
  method.apply(repo, call.args).then(
    (value) => port.postMessage({ id: call.id, ok: true, value } satisfies DbReply),
    (error: unknown) => port.postMessage({ id: call.id, ok: false, error: describe(error) } satisfies DbReply),
  );
});
