import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../threads';
import type { RepositoryOptions } from './prisma-repository';
import type { Repository } from './repository';

/**
 * The repository, run in a thread of its own. Prisma's query engine compiles and interprets every
 * query in JavaScript and WebAssembly, and SQLite (better-sqlite3) answers synchronously, so on the
 * main thread a round's save blocked the event loop that serves sockets and Yjs for ~20 ms. Here
 * the main thread only posts the call (arguments are structured-cloned) and awaits the answer.
 * Same interface, same semantics: callers cannot tell the two apart.
 */
export type DbCall = { id: number; method: keyof Repository; args: unknown[] };
export type DbReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: { name: string; message: string; code?: string } };

/** Every Repository method, forwarded to the thread. */
const METHODS = [
  'createProject',
  'findProjectBySlug',
  'findProjectByJoinCode',
  'listProjects',
  'setJoinCode',
  'updateProject',
  'addMember',
  'findMemberByTokenHash',
  'setMemberTokenHash',
  'listMembers',
  'updateMember',
  'markMemberLeft',
  'markMemberRevoked',
  'deleteProject',
  'loadDoc',
  'appendDocUpdate',
  'appendDocUpdates',
  'compactDoc',
  'createRun',
  'updateRun',
  'getRun',
  'listRuns',
  'findActiveRun',
  'saveRound',
  'listRounds',
  'listCheckpoints',
  'getCheckpoint',
  'deleteCheckpoints',
  'listContributions',
  'serverSecret',
  'ping',
] as const satisfies readonly Exclude<keyof Repository, 'close'>[];

// Fails to compile when Repository gains a method that METHODS does not forward.
type Missing = Exclude<keyof Repository, (typeof METHODS)[number] | 'close'>;
const everyMethodForwarded: Missing extends never ? true : Missing = true;
void everyMethodForwarded;

class DbThread {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private closed = false;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: DbReply) => {
      const call = this.pending.get(reply.id);
      if (!call) return;
      this.pending.delete(reply.id);
      if (reply.ok) call.resolve(reply.value);
      else call.reject(toError(reply.error));
    });
    const fail = (error: Error) => {
      for (const { reject } of this.pending.values()) reject(error);
      this.pending.clear();
      this.closed = true;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`The database thread exited (code ${code})`)));
  }

  /** Starts the thread and waits until it has opened the database (its error, if it cannot). */
  static async open(databaseUrl: string, options: RepositoryOptions): Promise<DbThread> {
    const thread = new DbThread(startTsWorker(new URL('./db-worker.ts', import.meta.url), { databaseUrl, options }));
    try {
      await new Promise((resolve, reject) => thread.pending.set(0, { resolve, reject }));
    } catch (error) {
      await thread.worker.terminate();
      throw error;
    }
    return thread;
  }

  call(method: keyof Repository, args: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('The database thread is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, method, args } satisfies DbCall);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.call('close', []).catch(() => undefined);
    this.closed = true;
    await this.worker.terminate();
  }
}

function toError(error: { name: string; message: string; code?: string }): Error {
  const result = new Error(error.message) as Error & { code?: string };
  result.name = error.name;
  if (error.code !== undefined) result.code = error.code;
  return result;
}

/** Opens the database at `databaseUrl` in its own thread; migrations must already be applied. */
export async function createThreadedRepository(databaseUrl: string, options: RepositoryOptions = {}): Promise<Repository> {
  const thread = await DbThread.open(databaseUrl, options);
  const repo = Object.fromEntries(METHODS.map((method) => [method, (...args: unknown[]) => thread.call(method, args)]));
  return { ...repo, close: () => thread.close() } as Repository;
}
