import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';

const PREFIX = '/vendor/tfjs-wasm/';
const wasmDir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));

/** Serves TensorFlow.js's WASM binaries to browser workers (setWasmPaths points here). */
export async function serveVendor(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const url = (req.url ?? '').split('?')[0]!;
  if (!url.startsWith(PREFIX)) return false;
  const name = url.slice(PREFIX.length);
  if (!/^tfjs-backend-wasm(-simd|-threaded-simd)?\.wasm$/.test(name)) {
    res.writeHead(404).end();
    return true;
  }
  const file = path.join(wasmDir, name);
  const info = await stat(file).catch(() => null);
  if (!info) {
    res.writeHead(404).end();
    return true;
  }
  res.writeHead(200, { 'content-type': 'application/wasm', 'content-length': info.size, 'cache-control': 'public, max-age=86400' });
  createReadStream(file).pipe(res);
  return true;
}
