/**
 * `npm run db:generate` (also run on postinstall): writes the SQLite and PostgreSQL variants of
 * prisma/schema.prisma under prisma/generated/<kind>/ and generates a Prisma client for each into
 * prisma/generated/<kind>/client/. Skips a variant whose schema and Prisma versions are unchanged
 * since its last generation.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DATABASE_KINDS, PRISMA_DIR, schemaVariant, type DatabaseKind } from '../server/db/providers';

const require = createRequire(import.meta.url);
const PRISMA_CLI = require.resolve('prisma/build/index.js');
const STAMP_FILE = '.generated-from';

/** Everything the generated client depends on; a change in any of it forces regeneration. */
function fingerprint(schema: string): string {
  const versions = ['prisma/package.json', '@prisma/client/package.json'].map((pkg) => (require(pkg) as { version: string }).version);
  return createHash('sha256').update([schema, ...versions].join('\n')).digest('hex');
}

/** Runs `prisma generate` on one schema variant. */
function prismaGenerate(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PRISMA_CLI, 'generate', '--schema', join(dir, 'schema.prisma')], {
      // Run inside the variant's folder so no prisma.config.ts of the repository is picked up.
      cwd: dir,
      env: {
        ...process.env,
        // generate never runs the schema engine, but the CLI insists on having one and would
        // try to download it (impossible offline); any existing file satisfies the check.
        PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? (existsSync('/bin/true') ? '/bin/true' : process.execPath),
        // No telemetry or update checks: they would wait on a network that is not there.
        CHECKPOINT_DISABLE: '1',
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`prisma generate failed in ${dir} (exit ${code}):\n${output}`))));
  });
}

/** Writes one variant and generates its client unless it is already up to date; returns whether it generated. */
async function generate(kind: DatabaseKind, source: string): Promise<boolean> {
  const dir = join(PRISMA_DIR, 'generated', kind);
  const schema = schemaVariant(source, kind);
  const stampPath = join(dir, STAMP_FILE);
  const stamp = fingerprint(schema);
  const upToDate = existsSync(join(dir, 'client', 'client.ts')) && existsSync(stampPath) && readFileSync(stampPath, 'utf8') === stamp;
  if (upToDate) return false;
  // A fresh folder, so a model removed from the schema leaves no stale files behind.
  rmSync(join(dir, 'client'), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'schema.prisma'), schema);
  await prismaGenerate(dir);
  writeFileSync(stampPath, stamp);
  return true;
}

async function main(): Promise<void> {
  const started = Date.now();
  const source = readFileSync(join(PRISMA_DIR, 'schema.prisma'), 'utf8');
  const generated = await Promise.all(DATABASE_KINDS.map((kind) => generate(kind, source)));
  const what = DATABASE_KINDS.map((kind, i) => `${kind} ${generated[i] ? 'generated' : 'up to date'}`).join(', ');
  console.log(`prisma clients: ${what} (${Date.now() - started} ms)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
