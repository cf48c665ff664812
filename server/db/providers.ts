/**
 * What differs between the two supported databases: how a DATABASE_URL is read, which driver
 * adapter opens it, and the provider line of the schema. Everything else (schema, queries,
 * repository) is shared.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';

export type DatabaseKind = 'sqlite' | 'postgresql';
export const DATABASE_KINDS: readonly DatabaseKind[] = ['sqlite', 'postgresql'];

/** The repository root's `prisma/` folder (schema, migrations, generated clients). */
export const PRISMA_DIR = fileURLToPath(new URL('../../prisma/', import.meta.url));

/** How long a SQLite writer waits for a lock held by another connection before failing. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * PostgreSQL pool limits, so a lost link fails calls instead of hanging them: a link that drops
 * packets (no reset) would otherwise leave a connect or a query waiting forever. A failed
 * connection leaves the pool, and the next call opens a new one, so the pool recovers by itself
 * once the server answers again. A checkpoint of the largest model (4 MB) saves in well under
 * the query limit.
 */
export const PG_POOL_LIMITS = {
  /** Opening a connection (TCP + startup + auth). */
  connectionTimeoutMillis: 5000,
  /** One query, client side: no answer within this long fails it and drops its connection. */
  query_timeout: 15_000,
  /** TCP keep-alive probes notice a dead peer on an idle pooled connection. */
  keepAlive: true,
  idleTimeoutMillis: 30_000,
};

/** Which database a URL points at; throws on anything else. */
export function databaseKind(url: string): DatabaseKind {
  if (url.startsWith('file:')) return 'sqlite';
  if (url.startsWith('postgresql://') || url.startsWith('postgres://')) return 'postgresql';
  const shown = url.replace(/\/\/[^@/]*@/, '//***@');
  throw new Error(`Unsupported DATABASE_URL "${shown}": use file:<path> (SQLite) or postgresql://… (PostgreSQL)`);
}

/** The file a `file:` URL names, resolved against the working directory as the adapter does. */
export function sqlitePath(url: string): string {
  const path = url.slice('file:'.length).replace(/\?.*$/, '');
  if (!path) throw new Error(`DATABASE_URL "${url}" names no file`);
  return resolve(path);
}

/**
 * Splits Prisma's `?schema=NAME` off a PostgreSQL URL: pg does not know that parameter, Prisma's
 * adapter takes it as an option, and search_path must point there so unqualified SQL in
 * migrations lands in the same schema.
 */
export function postgresTarget(url: string): { connectionString: string; schema: string } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? 'public';
  // Kept to plain identifiers: the name also travels inside pg's startup `options` string.
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) throw new Error(`Unsupported PostgreSQL schema name "${schema}"`);
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), schema };
}

/** A driver adapter factory for the URL; for SQLite the file's folder is created if missing. */
export function adapterFactory(url: string): SqlMigrationAwareDriverAdapterFactory {
  if (databaseKind(url) === 'sqlite') {
    const path = sqlitePath(url);
    mkdirSync(dirname(path), { recursive: true });
    return new PrismaBetterSqlite3({ url: path, timeout: SQLITE_BUSY_TIMEOUT_MS });
  }
  const { connectionString, schema } = postgresTarget(url);
  const searchPath = `-c search_path=${quoteIdent(schema)}`;
  return new PrismaPg({ connectionString, options: searchPath, ...PG_POOL_LIMITS }, { schema });
}

/** Quotes a PostgreSQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The schema source rewritten for `kind`: only the datasource provider changes. */
export function schemaVariant(source: string, kind: DatabaseKind): string {
  const datasource = /(datasource\s+\w+\s*\{[^}]*?provider\s*=\s*)"[^"]*"/;
  if (!datasource.test(source)) throw new Error('prisma/schema.prisma has no datasource provider line');
  return source.replace(datasource, `$1"${kind}"`);
}
