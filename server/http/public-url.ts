/**
 * The address people use to reach this server, for join links and the projector's QR code. Pure
 * (no Node, no DOM): the server reports PUBLIC_URL, the page falls back to its own origin.
 */

/** Where a join link's address came from: PUBLIC_URL, or the page the projector runs in. */
export type PublicBaseSource = 'config' | 'page';

export interface PublicBase {
  /** Origin plus any path prefix, without a trailing slash (e.g. "http://192.168.1.20:3000"). */
  base: string;
  source: PublicBaseSource;
  /** True when the address only works on this computer (localhost, 127.x, ::1, 0.0.0.0). */
  loopback: boolean;
}

/** Host names that phones and other laptops cannot reach: they name the device itself. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '::1' ||
    host === '0.0.0.0' ||
    host === '::' ||
    /^127(\.\d{1,3}){3}$/.test(host) ||
    /^::ffff:127(\.\d{1,3}){3}$/.test(host)
  );
}

/** Parses an absolute http(s) URL; null for anything else. */
function parseHttpUrl(value: string | null | undefined): URL | null {
  if (!value) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/**
 * The base for join links: the configured public URL when it is a valid http(s) URL (its path
 * kept, for a server behind a path prefix), else the page's origin.
 */
export function resolvePublicBase(configured: string | null | undefined, pageOrigin: string): PublicBase {
  const fromConfig = parseHttpUrl(configured);
  const url = fromConfig ?? parseHttpUrl(pageOrigin);
  if (!url) return { base: pageOrigin.replace(/\/+$/, ''), source: 'page', loopback: false };
  const base = `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  return { base, source: fromConfig ? 'config' : 'page', loopback: isLoopbackHost(url.hostname) };
}

/** The link that opens a project's join form with its code filled in. */
export function joinLink(base: string, slug: string, joinCode: string | null): string {
  const path = `${base.replace(/\/+$/, '')}/p/${encodeURIComponent(slug)}`;
  return joinCode ? `${path}?code=${encodeURIComponent(joinCode)}` : path;
}

/** The link as people read and type it off a projector: without the scheme. */
export function displayLink(link: string): string {
  return link.replace(/^https?:\/\//, '');
}
