/**
 * `npm run db:migrate`: applies pending migrations to DATABASE_URL (default
 * `file:./data/cotrain.db`), like `prisma migrate deploy` but offline.
 */
import { applyMigrations } from '../server/db/migrate';
import { databaseKind } from '../server/db/providers';

const DEFAULT_URL = 'file:./data/cotrain.db';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL || DEFAULT_URL;
  const started = Date.now();
  const { applied } = await applyMigrations(url);
  const where = `${databaseKind(url)} database`;
  const ms = Date.now() - started;
  if (applied.length === 0) console.log(`${where} is up to date (${ms} ms)`);
  else console.log(`applied ${applied.length} migration(s) to the ${where} in ${ms} ms:\n${applied.map((name) => `  ${name}`).join('\n')}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
