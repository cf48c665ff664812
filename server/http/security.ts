import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '../protocol';

export interface SecurityOptions {
  /** Honour X-Forwarded-For (client address) — only behind a reverse proxy you run (TRUST_PROXY=1). */
  trustProxy?: boolean;
  /** The public address (PUBLIC_URL); its origin is accepted besides the request's own Host. */
  publicUrl?: string;
  /** Development: Next's React refresh needs 'unsafe-eval'. */
  dev?: boolean;
}

/** The options from the process environment (validated at start by readEnv). */
export function securityOptionsFromEnv(env: Record<string, string | undefined> = process.env): SecurityOptions {
  return { trustProxy: env.TRUST_PROXY === '1', publicUrl: env.PUBLIC_URL || undefined, dev: env.NODE_ENV === 'development' };
}

/**
 * The Content-Security-Policy of every response. Practical rather than nonce-strict: Next's app
 * router bootstraps with inline scripts ('unsafe-inline'); TensorFlow.js's WASM backend compiles
 * WebAssembly ('wasm-unsafe-eval'); training runs in a module worker from /_next/static
 * (worker-src 'self', blob: for Emscripten/tfjs helpers); socket.io and the Yjs websocket need
 * ws:/wss:. Nothing is loaded from another origin, and no page may frame this one.
 */
export function contentSecurityPolicy(dev = false): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'${dev ? " 'unsafe-eval'" : ''}`,
    "worker-src 'self' blob:",
    "connect-src 'self' ws: wss:",
    "img-src 'self' data: blob:",
    "style-src 'self' 'unsafe-inline'",
    "font-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function securityHeaders(dev = false): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(dev),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  };
}

/** Sets the security headers on a response before anything else writes it. */
export function applySecurityHeaders(res: ServerResponse, headers: Record<string, string>): void {
  for (const [key, value] of Object.entries(headers)) res.setHeader(key, value);
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * CSRF guard for state-changing requests. Browsers send `Origin` on every cross-origin POST (and
 * on same-origin fetch POSTs); when present it must be this server's own origin — the request's
 * Host, or PUBLIC_URL's host. Requests without Origin (curl, bots, tests) pass: they cannot carry
 * a victim's cookies. Defence in depth on top of JSON-only bodies (forms cannot send them) and
 * SameSite=Lax session cookies. Throws AppError('forbidden').
 */
export function checkOrigin(req: IncomingMessage, options: SecurityOptions = {}): void {
  if (!STATE_CHANGING.has(req.method ?? 'GET')) return;
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let host: string | null = null;
  try {
    const url = new URL(origin);
    if (url.protocol === 'http:' || url.protocol === 'https:') host = url.host.toLowerCase();
  } catch {
    host = null; // "null" (sandboxed frames, opaque origins) and garbage are foreign
  }
  // Host headers compare as URL hosts do (a default port like :80 is dropped).
  const hostOf = (value: string) => {
    try {
      return new URL(`${origin.startsWith('https:') ? 'https' : 'http'}://${value.trim()}`).host.toLowerCase();
    } catch {
      return value.trim().toLowerCase();
    }
  };
  const allowed = new Set<string>();
  if (req.headers.host) allowed.add(hostOf(req.headers.host));
  if (options.trustProxy) {
    const forwarded = req.headers['x-forwarded-host'];
    const value = Array.isArray(forwarded) ? forwarded[0] : forwarded;
    if (value) allowed.add(hostOf(value.split(',')[0]!));
  }
  if (options.publicUrl) {
    try {
      allowed.add(new URL(options.publicUrl).host.toLowerCase());
    } catch {
      // readEnv validated it; ignore otherwise
    }
  }
  if (host !== null && allowed.has(host)) return;
  throw new AppError('forbidden', `Cross-site request refused: origin ${origin} is not this server's.`);
}
