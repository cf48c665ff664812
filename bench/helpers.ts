/**
 * What the socket benchmarks share: the real server as a child process over a temporary SQLite
 * database (tests/helpers/api-server-main.ts), its event-loop report, the bots CLI as another
 * child process, and a line reader for their stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Calls `onLine` with each complete line the child writes to stdout. */
export function lines(child: ChildProcess, onLine: (line: string) => void): void {
  let buffer = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  });
}

/** The server's event-loop delay (ms) since the previous report, and its resident memory. */
export interface LoopReport {
  p50: number;
  p99: number;
  max: number;
  rssMb: number;
}

export interface ServerProcess {
  url: string;
  dbUrl: string;
  child: ChildProcess;
  /** Asks the server for its event-loop delay since the last call (or its start) and resets it. */
  loop(timeoutMs?: number): Promise<LoopReport>;
  /** Kills the server (SIGTERM when profiling, so the profile is written) and removes the database. */
  stop(): void;
}

/**
 * Starts the server as its own process on a free loopback port. `profileDir` (BENCH_CPU_PROF)
 * runs it with --cpu-prof, writing its main thread's and workers' profiles there on stop().
 */
export async function startServerProcess(options: { profileDir?: string } = {}): Promise<ServerProcess> {
  const { profileDir } = options;
  const dir = mkdtempSync(path.join(tmpdir(), 'cotrain-bench-'));
  const dbUrl = `file:${path.join(dir, 'bench.db')}`;
  const child = spawn(
    process.execPath,
    [...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-interval=500'] : []), '--import', 'tsx', 'tests/helpers/api-server-main.ts'],
    { env: { ...process.env, DATABASE_URL: dbUrl }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const loopWaiters: ((report: LoopReport) => void)[] = [];
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    child.kill(profileDir ? 'SIGTERM' : 'SIGKILL'); // SIGTERM exits cleanly, which writes the profile
    rmSync(dir, { recursive: true, force: true });
  };
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the server exited (${code}) before it was ready`)));
      lines(child, (line) => {
        if (line.startsWith('READY ')) resolve(Number(line.slice(6)));
        if (line.startsWith('LOOP ')) loopWaiters.shift()?.(JSON.parse(line.slice(5)) as LoopReport);
      });
    });
  } catch (error) {
    stop();
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    dbUrl,
    child,
    loop(timeoutMs = 5000) {
      return new Promise<LoopReport>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no event-loop report from the server')), timeoutMs);
        loopWaiters.push((report) => {
          clearTimeout(timer);
          resolve(report);
        });
        child.kill('SIGUSR2');
      });
    },
    stop,
  };
}

/**
 * The bots CLI (workers/bots.ts) as a child process: `count` headless clients join with `code`, plus any other CLI `args`. stdout is piped (one JSON line per client per round);
 * stderr (the bots' log) is dropped unless `options.stderr` asks for it piped.
 */
export function spawnBots(url: string, code: string, count: number, args: string[] = [], options: { stderr?: 'pipe' | 'ignore' } = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'workers/bots.ts', '--url', url, '--code', code, '--count', String(count), ...args], {
    stdio: ['ignore', 'pipe', options.stderr ?? 'ignore'],
  });
}
