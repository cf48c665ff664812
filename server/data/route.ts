import type { IncomingMessage, ServerResponse } from 'node:http';
import { mnistPackBytes } from './mnist';

const MNIST_PATH = '/data/mnist.bin';

function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value.split(',').some((part) => {
    const [name, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (name !== 'gzip' && name !== 'x-gzip') return false;
    const q = params.find((p) => p.startsWith('q='));
    return !q || Number(q.slice(2)) > 0;
  });
}

function matches(ifNoneMatch: string | undefined, etags: string[]): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag.trim().replace(/^W\//, '');
    return t === '*' || etags.includes(t);
  });
}

/**
 * GET/HEAD /data/mnist.bin: the MNIST pack (workers/ml/mnist.ts), gzipped when the client accepts
 * it, with an ETag per encoding; If-None-Match answers 304. Built on first request, then memoized.
 */
export async function serveData(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const url = (req.url ?? '').split('?')[0]!;
  if (url !== MNIST_PATH) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('Method not allowed');
    return true;
  }
  const pack = await mnistPackBytes();
  const gzipEtag = pack.etag.replace(/"$/, '-gzip"');
  const zipped = acceptsGzip(req.headers['accept-encoding']);
  const etag = zipped ? gzipEtag : pack.etag;
  const common = { etag, 'cache-control': 'public, max-age=86400', vary: 'accept-encoding' };
  if (matches(req.headers['if-none-match'], [pack.etag, gzipEtag])) {
    res.writeHead(304, common).end();
    return true;
  }
  const body = zipped ? pack.gzip : pack.bytes;
  res.writeHead(200, {
    ...common,
    'content-type': 'application/octet-stream',
    'content-length': body.byteLength,
    ...(zipped ? { 'content-encoding': 'gzip' } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
