import { randomBytes } from 'node:crypto';
import pg from 'pg';

const POSTGRES_CANDIDATES = process.env.TEST_POSTGRES_URL
  ? [process.env.TEST_POSTGRES_URL]
  : ['postgresql://postgres@127.0.0.1:5432/test', 'postgresql://root@127.0.0.1:5432/test'];

/** Whether tests that need PostgreSQL must run (CI) rather than skip. */
export const requireServices = process.env.REQUIRE_SERVICES === '1';

/** The first PostgreSQL URL that answers, or why none did. */
export async function findPostgres(): Promise<{ url: string } | { error: string }> {
  const errors: string[] = [];
  for (const url of POSTGRES_CANDIDATES) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return { url };
    } catch (error) {
      errors.push(`${url}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return { error: errors.join('; ') };
}

export async function runSql(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh schema in the shared test database, so runs never collide; drop it with `cleanup`. */
export function freshSchema(baseUrl: string): { url: string; cleanup: () => Promise<void> } {
  const schema = `ct_test_${randomBytes(6).toString('hex')}`;
  const url = new URL(baseUrl);
  url.searchParams.set('schema', schema);
  return { url: url.toString(), cleanup: () => runSql(baseUrl, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`) };
}
