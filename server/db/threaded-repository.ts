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
  /** The thread exited or failed: every call is refused (the repository opens a new thread). */
  closed = false;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

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

  /** Stops the thread at once (pending calls fail as on a crash). */
  async terminate(): Promise<void> {
    await this.worker.terminate();
    this.closed = true;
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

/** The thread behind each threaded repository, for tests that crash it. */
const threads = new WeakMap<Repository, () => DbThread>();

/**
 * Opens the database at `databaseUrl` in its own thread; migrations must already be applied. A
 * thread that dies (out of memory, a crash in a native driver) is replaced by a new one on the
 * next call; the calls it had in flight fail as "database thread" errors, which the server treats
 * as an outage (round saves wait and are retried), so the server recovers by itself.
 */
export async function createThreadedRepository(databaseUrl: string, options: RepositoryOptions = {}): Promise<Repository> {
  let thread = await DbThread.open(databaseUrl, options);
  let reopening: Promise<DbThread> | null = null;
  let closing = false;
  const current = (): DbThread | Promise<DbThread> => {
    if (!thread.closed || closing) return thread;
    reopening ??= DbThread.open(databaseUrl, options).then(
      (fresh) => {
        thread = fresh;
        reopening = null;
        return fresh;
      },
      (error: unknown) => {
        reopening = null;
        throw error;
      },
    );
    return reopening;
  };
  const call = (method: keyof Repository, args: unknown[]): Promise<unknown> => {
    const now = current();
    return now instanceof DbThread ? now.call(method, args) : now.then((t) => t.call(method, args));
  };
  const repo = Object.fromEntries(METHODS.map((method) => [method, (...args: unknown[]) => call(method, args)]));
  const result = {
    ...repo,
    close: () => {
      closing = true;
      return thread.close();
    },
  } as Repository;
  threads.set(result, () => thread);
  return result;
}

/** Tests: ends the repository's current thread abruptly, as a crash would. */
export async function crashDatabaseThreadForTests(repo: Repository): Promise<void> {
  const thread = threads.get(repo)?.();
  if (!thread) throw new Error('not a threaded repository');
  await thread.terminate();
}
