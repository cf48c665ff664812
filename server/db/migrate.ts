/**
 * `prisma migrate deploy`, done in-process with the WASM schema engine: applies the committed
 * migrations of the URL's database kind and records them in `_prisma_migrations`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { adapterFactory, databaseKind, postgresTarget, PRISMA_DIR, quoteIdent, schemaVariant, type DatabaseKind } from './providers';
import { NO_FILTERS, withSchemaEngine, type MigrationList } from './schema-engine';

/** The snapshot of the schema a migration was made from, kept next to its migration.sql. */
export const SNAPSHOT_FILE = 'schema.prisma';
export const LOCK_FILE = 'migration_lock.toml';

/** The migrations folder of one database kind. */
export function migrationsDir(kind: DatabaseKind): string {
  return join(PRISMA_DIR, 'migrations', kind);
}

/** Names of the migration folders of `kind`, oldest first (names start with a UTC timestamp). */
export function migrationNames(kind: DatabaseKind): string[] {
  const dir = migrationsDir(kind);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && /^\d{14}_/.test(entry.name) && existsSync(join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort();
}

/** The migrations of `kind` as the engine wants them: already read from disk. */
export function readMigrationList(kind: DatabaseKind): MigrationList {
  const baseDir = migrationsDir(kind);
  const lockPath = join(baseDir, LOCK_FILE);
  return {
    baseDir,
    lockfile: { path: LOCK_FILE, content: existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null },
    shadowDbInitScript: '',
    migrationDirectories: migrationNames(kind).map((name) => ({
      path: name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: readFileSync(join(baseDir, name, 'migration.sql'), 'utf8') } },
    })),
  };
}

/** Brings the database at `databaseUrl` up to date; returns the names of the migrations it applied. */
export async function applyMigrations(databaseUrl: string): Promise<{ applied: string[] }> {
  const kind = databaseKind(databaseUrl);
  const migrationsList = readMigrationList(kind);
  if (migrationsList.migrationDirectories.length === 0) throw new Error(`No migrations found in ${migrationsList.baseDir}`);
  if (kind === 'postgresql') await ensurePostgresSchema(databaseUrl);
  const content = schemaVariant(readFileSync(join(PRISMA_DIR, 'schema.prisma'), 'utf8'), kind);
  // adapterFactory also creates a SQLite file's folder.
  const result = await withSchemaEngine({ path: join(PRISMA_DIR, 'schema.prisma'), content }, adapterFactory(databaseUrl), (engine) =>
    engine.applyMigrations({ migrationsList, filters: NO_FILTERS }),
  );
  return { applied: result.appliedMigrationNames };
}

/**
 * Creates the URL's PostgreSQL schema if it is missing. Checked first because CREATE SCHEMA
 * needs the CREATE privilege on the database even when the schema already exists.
 */
async function ensurePostgresSchema(databaseUrl: string): Promise<void> {
  const { connectionString, schema } = postgresTarget(databaseUrl);
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (found.rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  } finally {
    await client.end();
  }
}
