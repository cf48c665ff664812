/**
 * HTTP helpers for model files: the import upload (a JSON body far larger than the API's usual
 * 64 KiB, but bounded by the spec's parameter limit) and the checkpoint files going out.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError, MAX_IMPORT_BODY_BYTES, MAX_PARAMS } from '../protocol';

/** Reads the import body: JSON only (as every state-changing call), at most MAX_IMPORT_BODY_BYTES. */
export async function readImportBody(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) throw new AppError('bad_request', 'Send the model as JSON (content-type: application/json).');
  const tooLarge = () =>
    new AppError('payload_too_large', `The upload is larger than ${(MAX_IMPORT_BODY_BYTES / 2 ** 20).toFixed(1)} MiB: a model may have at most ${MAX_PARAMS.toLocaleString('en')} parameters.`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_IMPORT_BODY_BYTES) {
    req.resume(); // drain, so the error reaches a client still sending
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_IMPORT_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new AppError('bad_request', 'The upload is not valid JSON.');
  }
}

/** A checkpoint file: immutable for its URL, private to the project's members. */
export function sendModelFile(res: ServerResponse, body: string | Uint8Array, type: 'application/json' | 'application/octet-stream'): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  res.writeHead(200, {
    'content-type': type === 'application/json' ? 'application/json; charset=utf-8' : type,
    'content-length': String(bytes.length),
    'cache-control': 'private, max-age=3600',
  });
  res.end(bytes);
}
