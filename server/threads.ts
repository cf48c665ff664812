import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread running a TypeScript module. Worker threads do not inherit this
 * process's TypeScript loader (tsx), so the worker registers it before importing `entry`.
 * `workerData` reaches the module as `workerData` from node:worker_threads.
 */
export function startTsWorker(entry: URL, workerData?: unknown): Worker {
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
