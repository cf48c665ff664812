import { createHash, randomBytes, randomInt } from 'node:crypto';

/** A bearer token: 32 random bytes, base64url. Only its hash is stored. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
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
