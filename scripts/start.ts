/** `npm start`: build the web app if needed, then run the production server (migrates and seeds). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildIfNeeded } from './build-if-needed';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
buildIfNeeded(root);
(process.env as Record<string, string | undefined>).NODE_ENV ??= 'production';
await import('../server/index');
