import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

const TOKEN_PREFIX = 'ct1';
const TOKEN_FORMAT = /^ct1\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{22})$/;

/**
 * Member tokens: `ct1.<32 random bytes>.<HMAC-SHA256 tag, 16 bytes>`, base64url. The server signs
 * every token it issues with a key kept in the database; a token whose tag does not verify is
 * refused before any lookup, and only the token's SHA-256 is stored, so a leaked database yields
 * no usable token and revoking is replacing the stored hash.
 */
export class TokenSigner {
  private key: Promise<Uint8Array> | null = null;

  /** `loadKey` returns the signing key (created once and stored by the caller). */
  constructor(private readonly loadKey: () => Promise<Uint8Array>) {}

  async issue(): Promise<string> {
    const body = randomBytes(32).toString('base64url');
    return `${TOKEN_PREFIX}.${body}.${await this.tag(body)}`;
  }

  /** Whether the token is well-formed and carries this server's signature (constant-time compare). */
  async verify(token: string): Promise<boolean> {
    const match = TOKEN_FORMAT.exec(token);
    if (!match) return false;
    const expected = Buffer.from(await this.tag(match[1]!), 'base64url');
    const given = Buffer.from(match[2]!, 'base64url');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private async tag(body: string): Promise<string> {
    this.key ??= this.loadKey().catch((error: unknown) => {
      this.key = null; // try again on the next call (e.g. the database was briefly away)
      throw error;
    });
    return createHmac('sha256', await this.key).update(`${TOKEN_PREFIX}.${body}`).digest().subarray(0, 16).toString('base64url');
  }
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

// No 0/O/1/I/L: codes are read off a projector and typed on phones.
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

/** A join code people can type: 8 characters from a 31-letter alphabet (~40 bits). */
export function newJoinCode(length = 8): string {
  let code = '';
  for (let i = 0; i < length; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}

/** Canonical form of a typed code: upper case, no spaces or dashes. */
export function normalizeJoinCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '');
}

/** A URL slug from a project name plus a random suffix so names need not be unique. */
export function newSlug(name: string): string {
  const base = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // accents split off by NFKD: "é" → "e"
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 32)
    .replace(/^-+|-+$/g, '');
  const suffix = randomBytes(4).toString('hex');
  return base ? `${base}-${suffix}` : suffix;
}

/** The httpOnly cookie that signs a browser into one project. */
export function cookieName(slug: string): string {
  return `ct_${slug.replace(/[^a-zA-Z0-9_-]/g, '')}`;
}

export interface Ticket {
  memberId: string;
  projectId: string;
  slug: string;
  expiresAt: number;
}

/**
 * Short-lived credentials for connections that cannot carry a cookie or header (the Yjs
 * websocket URL, the browser's socket.io handshake). In memory: a restart simply makes
 * browsers fetch a new one.
 */
export class TicketStore {
  private readonly tickets = new Map<string, Ticket>();
  constructor(private readonly ttlMs = 120_000, private readonly now: () => number = Date.now) {}

  issue(data: Omit<Ticket, 'expiresAt'>): { ticket: string; expiresAt: number } {
    this.sweep();
    const ticket = randomBytes(24).toString('base64url');
    const expiresAt = this.now() + this.ttlMs;
    this.tickets.set(ticket, { ...data, expiresAt });
    return { ticket, expiresAt };
  }

  /** The ticket's grant if it exists and has not expired. */
  check(ticket: string): Ticket | null {
    const grant = this.tickets.get(ticket);
    if (!grant) return null;
    if (grant.expiresAt < this.now()) {
      this.tickets.delete(ticket);
      return null;
    }
    return grant;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, grant] of this.tickets) if (grant.expiresAt < now) this.tickets.delete(key);
  }
}
