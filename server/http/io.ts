import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '../protocol';

const MAX_JSON_BODY = 64 * 1024;

/** Reads and JSON-parses a request body, refusing large bodies and non-JSON content types. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  // Requiring JSON also blocks simple cross-site form posts (they cannot set this type).
  if (!type.startsWith('application/json')) throw new AppError('bad_request', 'Send a JSON body (content-type: application/json).');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BODY) throw new AppError('payload_too_large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError('bad_request', 'The body is not valid JSON.');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, error: AppError, headers: Record<string, string> = {}): void {
  sendJson(res, error.status, { error: { ...error.toBody(), ...(error.details ? { details: error.details } : {}) } }, headers);
}

/** The bearer token of a request: the Authorization header, else the project's cookie. */
export function bearerToken(req: IncomingMessage, cookie: string): string | null {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim() || null;
  return parseCookies(req.headers.cookie)[cookie] ?? null;
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    if (key) cookies[key] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return cookies;
}

/** Set-Cookie value signing a browser into a project: httpOnly, same-site, a year long. */
export function sessionCookie(name: string, token: string, secure: boolean): string {
  return `${name}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000${secure ? '; Secure' : ''}`;
}
