import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';

/**
 * Failed-join limiter: a token bucket of *failures* per client address.
 *
 * The rule (it must stop code guessing and never block a class joining from one NAT address):
 * - Only failed attempts (a wrong join code) take a token; successful joins never count, so 40
 *   pupils behind one address joining with the right code within a minute all get in.
 * - Each address may fail `burst` times (default 10) at once; tokens come back one every
 *   `refillMs` (default 60 s), so a guesser gets at most ~60 codes an hour per address against
 *   a code space of 32^8 ≈ 10^12.
 * - While an address has no tokens left, every join from it gets 429 with Retry-After, *before
 *   the code is checked*. Letting a right code through while over the limit would tell the
 *   guesser which guess was right (200 versus 429), defeating the limit. Refused attempts take no
 *   token, so a class that tripped the limit with typos waits at most one refill (a minute).
 * - IPv6 addresses are grouped by their /64 (one subscriber usually holds a whole /64).
 * - Memory is bounded: a bucket that has refilled completely equals no bucket and is dropped,
 *   and at most `maxEntries` addresses are tracked (the least recently failed go first).
 */
export interface FailureLimiterOptions {
  /** Failures an address may have before it is refused. */
  burst?: number;
  /** One failure is forgiven per this many milliseconds. */
  refillMs?: number;
  /** Most addresses tracked at once. */
  maxEntries?: number;
  /** Injected clock (ms); Date.now by default. */
  now?: () => number;
}

export type LimitVerdict = { allowed: true } | { allowed: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

export const JOIN_FAILURE_BURST = 10;
export const JOIN_FAILURE_REFILL_MS = 60_000;

export class FailureLimiter {
  readonly burst: number;
  readonly refillMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: FailureLimiterOptions = {}) {
    this.burst = options.burst ?? JOIN_FAILURE_BURST;
    this.refillMs = options.refillMs ?? JOIN_FAILURE_REFILL_MS;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
    if (!(this.burst >= 1) || !(this.refillMs > 0) || !(this.maxEntries >= 1)) throw new Error('FailureLimiter: burst ≥ 1, refillMs > 0, maxEntries ≥ 1');
  }

  /** May this address try (again)? Does not take a token. */
  check(key: string): LimitVerdict {
    const bucket = this.refreshed(key);
    if (!bucket || bucket.tokens >= 1) return { allowed: true };
    return { allowed: false, retryAfterMs: Math.max(1, Math.ceil((1 - bucket.tokens) * this.refillMs)) };
  }

  /** Records one failed attempt from this address. */
  fail(key: string): void {
    const now = this.now();
    const bucket = this.refreshed(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    bucket.at = now;
    // Re-insert so the map's order is least-recently-failed first.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    while (this.buckets.size > this.maxEntries) this.buckets.delete(this.buckets.keys().next().value!);
  }

  /** Addresses currently tracked (for tests and metrics). */
  get size(): number {
    this.sweep();
    return this.buckets.size;
  }

  /** The bucket with tokens added for the time passed; dropped (undefined) once full again. */
  private refreshed(key: string): Bucket | undefined {
    const bucket = this.buckets.get(key);
    if (!bucket) return undefined;
    const now = this.now();
    const tokens = Math.min(this.burst, bucket.tokens + Math.max(0, now - bucket.at) / this.refillMs);
    if (tokens >= this.burst) {
      this.buckets.delete(key);
      return undefined;
    }
    bucket.tokens = tokens;
    bucket.at = now;
    return bucket;
  }

  private sweep(): void {
    for (const key of [...this.buckets.keys()]) this.refreshed(key);
  }
}

/**
 * The address a request counts against. Behind a reverse proxy (`trustProxy`), the last
 * X-Forwarded-For entry — the one our proxy appended; earlier entries are client-supplied and
 * spoofable. IPv4-mapped IPv6 is unwrapped; IPv6 is keyed by its /64.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  let address = req.socket.remoteAddress ?? 'unknown';
  if (trustProxy) {
    const header = req.headers['x-forwarded-for'];
    const list = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((part) => part.trim()).filter(Boolean);
    if (list.length > 0) address = list[list.length - 1]!;
  }
  return addressKey(address);
}

export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  const bare = address.replace(/^\[|\]$/g, '').split('%')[0]!;
  if (!isIPv6(bare)) return address;
  const [head, tail = ''] = bare.toLowerCase().split('::') as [string, string?];
  const left = head ? head.split(':') : [];
  const right = bare.includes('::') && tail ? tail.split(':') : [];
  const groups = bare.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
