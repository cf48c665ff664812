import { createRequire } from 'node:module';
import path from 'node:path';
import type { TF } from './model';
import { setWasmBase } from './backend';

/** Folder of the tfjs-backend-wasm .wasm files in node_modules (the package's main file lives there). */
export function nodeWasmDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

/**
 * TensorFlow.js in Node on the pure-JS 'cpu' or the 'wasm' backend (tfjs-node cannot install
 * here). tf is a process-wide singleton: the last call decides the backend of everything.
 */
export async function loadNodeTf(backend: 'cpu' | 'wasm' = 'cpu'): Promise<TF> {
  const tf = await import('@tensorflow/tfjs');
  // Production mode skips debug checks and the "install tfjs-node" banner the cpu backend prints.
  tf.enableProdMode();
  if (backend === 'wasm') setWasmBase(nodeWasmDir());
  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js backend '${backend}' failed to start in Node`);
  await tf.ready();
  return tf;
}
