import { mkdtempSync, rmSync } from 'node:fs';
import { after, before } from 'node:test';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { applyMigrations } from '../../server/db/migrate';
import { createThreadedRepository } from '../../server/db/threaded-repository';
import { createServer, type CotrainServer } from '../../server/app';
import { createLogger } from '../../server/log';
import type { Repository } from '../../server/db/repository';

export interface TestServer {
  url: string;
  server: CotrainServer;
  repo: Repository;
  dbUrl: string;
  /** Stops the server (keeps the database unless `removeDb`). */
  close(options?: { removeDb?: boolean }): Promise<void>;
}

/** A temporary SQLite database file, migrated. */
export async function tempDatabase(): Promise<{ dbUrl: string; dir: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cotrain-test-'));
  const dbUrl = `file:${path.join(dir, 'test.db')}`;
  await applyMigrations(dbUrl);
  return { dbUrl, dir };
}

/** The real server (API, socket.io, Yjs; no Next pages) on a free port over a real database. */
export async function startTestServer(options: { dbUrl?: string; roundDeadlineMs?: number } = {}): Promise<TestServer> {
  const db = options.dbUrl ? { dbUrl: options.dbUrl, dir: null } : await tempDatabase();
  const repo = await createThreadedRepository(db.dbUrl);
  const server = createServer({ repo, log: createLogger(process.env.TEST_LOG_LEVEL ?? 'warn'), roundDeadlineMs: options.roundDeadlineMs });
  const port = await server.listen(0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    repo,
    dbUrl: db.dbUrl,
    async close({ removeDb = true } = {}) {
      await server.close();
      await repo.close();
      if (removeDb && db.dir) rmSync(db.dir, { recursive: true, force: true });
    },
  };
}

/** JSON request helper returning status and parsed body. */
export async function api(
  url: string,
  method: string,
  pathname: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: any }> {
  const res = await fetch(new URL(pathname, url), {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Polls `check` until it returns a truthy value or the timeout passes. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * For a describe block: one test server, started before its tests and closed after them, and
 * `track`, which closes whatever a test opened (clients, watchers) when the block ends.
 */
export function suiteServer(options: Parameters<typeof startTestServer>[0] = {}): { server: () => TestServer; track: <T extends { close(): void }>(x: T) => T } {
  let t: TestServer | null = null;
  const open: { close(): void }[] = [];
  before(async () => {
    t = await startTestServer(options);
  });
  after(async () => {
    for (const x of open) x.close();
    await t?.close();
  });
  return {
    server: () => {
      if (!t) throw new Error('the suite server has not started yet');
      return t;
    },
    track: (x) => {
      open.push(x);
      return x;
    },
  };
}
