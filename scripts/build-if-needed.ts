import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Everything the Next build reads: if any of it is newer than the last build, build again. */
const BUILD_INPUTS = ['app', 'workers', 'server/protocol', 'next.config.js', 'postcss.config.mjs', 'package-lock.json', 'tsconfig.json'];

function newestMtime(entry: string): number {
  if (!existsSync(entry)) return 0;
  const info = statSync(entry);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const child of readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, child)));
  return newest;
}

/** Runs `next build` when there is no build yet or a source changed since; returns ms spent. */
export function buildIfNeeded(root: string, log: (line: string) => void = console.log): number {
  const buildId = path.join(root, process.env.NEXT_DIST_DIR || '.next', 'BUILD_ID');
  const built = existsSync(buildId) ? statSync(buildId).mtimeMs : 0;
  const inputs = Math.max(...BUILD_INPUTS.map((p) => newestMtime(path.join(root, p))));
  if (built > inputs) return 0;
  log(built ? 'Sources changed since the last build: building the web app…' : 'Building the web app (first start takes a minute or two)…');
  const started = Date.now();
  const result = spawnSync(process.execPath, [path.join(root, 'node_modules', 'next', 'dist', 'bin', 'next'), 'build'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  if (result.status !== 0) throw new Error(`next build failed (exit ${result.status ?? result.signal})`);
  return Date.now() - started;
}
