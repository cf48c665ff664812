/**
 * `npm test`: every layer — unit, integration, browser e2e — on a fresh machine. Prepares what the
 * tests need (Chromium, a production build of the web app), then runs node's test runner.
 * `npm test -- unit` (or integration, e2e) runs one layer.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildIfNeeded } from './build-if-needed';
import { ensureChromium } from './chromium';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LAYERS = ['unit', 'integration', 'e2e'] as const;

function testFiles(dir: string): string[] {
  const full = path.join(root, dir);
  let entries: string[];
  try {
    entries = readdirSync(full);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(root, rel)).isDirectory()) return testFiles(rel);
    return name.endsWith('.test.ts') ? [rel] : [];
  });
}

const requested = process.argv.slice(2).filter((a): a is (typeof LAYERS)[number] => (LAYERS as readonly string[]).includes(a));
const layers = requested.length > 0 ? requested : [...LAYERS];
const files = layers.flatMap((layer) => testFiles(path.join('tests', layer)).sort());
if (files.length === 0) {
  console.error('No test files found.');
  process.exit(1);
}

if (layers.includes('e2e')) {
  process.env.CHROMIUM_PATH = ensureChromium();
  buildIfNeeded(root);
}

const started = Date.now();
if (requested.length === 0) {
  console.log('Type-checking the project (tsc --noEmit)…');
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  if (tsc.status !== 0) {
    console.error('Type errors: fix them before the tests run.');
    process.exit(1);
  }
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-force-exit', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_ENV: 'test', NEXT_TELEMETRY_DISABLED: '1' },
});
console.log(`\nTests took ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(result.status ?? 1);
