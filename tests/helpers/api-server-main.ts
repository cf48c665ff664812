/**
 * The real server composition without Next.js pages, as a standalone process, for tests that
 * must kill the server (SIGKILL) and start it again on the same database. Prints "READY <port>".
 */
import { applyMigrations } from '../../server/db/migrate';
import { createRepository } from '../../server/db/prisma-repository';
import { createServer } from '../../server/app';
import { createLogger } from '../../server/log';

const dbUrl = process.env.DATABASE_URL;
if (!dbUrl) throw new Error('DATABASE_URL is required');
await applyMigrations(dbUrl);
const repo = await createRepository(dbUrl);
const server = createServer({ repo, log: createLogger(process.env.LOG_LEVEL ?? 'warn') });
const port = await server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
process.stdout.write(`READY ${port}\n`);
