import { spawn, type ChildProcess } from 'node:child_process';

/** The bots line contract: one per client per round it took part in. */
export interface BotLine {
  client: string;
  runId: string;
  round: number;
  loss: number;
  accuracy: number;
  ms: number;
}

/** Every bots child process still running, so a test's `after` can kill leftovers. */
export const botProcesses = new Set<ChildProcess>();

/** `npm run bots` as a child process, with its stdout parsed as JSON lines. */
export function startBots(url: string, joinCode: string, extra: string[] = []) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/bots.ts', '--url', url, '--code', joinCode, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  botProcesses.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      botProcesses.delete(child);
      resolve(code);
    }),
  );
  return {
    exited,
    stderr: () => stderr,
    lines: () =>
      stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as BotLine),
  };
}

export function killBots(): void {
  for (const child of botProcesses) child.kill('SIGKILL');
}
