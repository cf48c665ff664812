import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from './server';

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  url: string;
  dbUrl: string;
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
  cleanup(): void;
}

/** Runs the real production server (`server/index.ts`, Next pages included) as a child process. */
export async function startServerProcess(options: { dbUrl?: string; port?: number; env?: Record<string, string> } = {}): Promise<ServerProcess> {
  const dir = options.dbUrl ? null : mkdtempSync(path.join(tmpdir(), 'cotrain-e2e-'));
  const dbUrl = options.dbUrl ?? `file:${path.join(dir!, 'e2e.db')}`;
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
    env: { ...process.env, NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: dbUrl, SEED_DEMO: '0', LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`server exited early:\n${log}`);
        return fetch(`${url}/api/health`).then((r) => r.ok, () => false);
      },
      60_000,
      'server to be ready',
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url,
    dbUrl,
    child,
    output: () => log,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      await exited;
    },
    cleanup() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
