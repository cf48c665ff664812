/**
 * Whether the database answers, as seen from every call the server makes. The repository is
 * wrapped so that a failed call that means "cannot reach the database" (connection refused, reset,
 * timed out) turns the state to 'unavailable' and the next successful call turns it back: each
 * change is logged once, however many queries fail in between.
 */
import type { Logger } from '../log';
import type { Repository } from './repository';

export type DbState = 'ok' | 'unavailable';

/**
 * Prisma's codes for a database that cannot be reached or stopped answering: P1001 can't reach,
 * P1002 timed out, P1008 operation timed out, P1017 server closed the connection, P2024 timed out
 * waiting for a pool connection, P2037 too many connections.
 */
const UNREACHABLE_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037']);
/** Driver errors that reach us without a Prisma code (pg, net, the database thread). */
const UNREACHABLE_MESSAGE = /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|Connection terminated|connection timeout|timeout exceeded|Query read timeout|server (has )?closed the connection|database thread/i;

/** Whether `error` means the database could not be reached (rather than refusing this query). */
export function isDbUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
  // Other Prisma codes are the query's own fault, except P2010 (a raw query failed), which says why in its message.
  if (typeof code === 'string' && /^P\d{4}$/.test(code) && code !== 'P2010') return false;
  return UNREACHABLE_MESSAGE.test(error.message) || (error.cause !== undefined && isDbUnavailable(error.cause));
}

/** A unique-constraint violation: on a retried write, proof that an earlier attempt committed. */
export function isAlreadyStored(error: unknown): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === 'P2002';
}

export class DbHealth {
  private current: DbState = 'ok';
  private since = Date.now();
  private failures = 0;
  private readonly listeners: ((state: DbState) => void)[] = [];

  constructor(private readonly log: Logger) {}

  get state(): DbState {
    return this.current;
  }

  /** Calls `listener` on every change of state. */
  onChange(listener: (state: DbState) => void): void {
    this.listeners.push(listener);
  }

  /** The repository with every call watched (close is passed through). */
  wrap(repo: Repository): Repository {
    const watched = {} as Record<string, unknown>;
    for (const key of methodNames(repo)) {
      const method = repo[key] as (...args: unknown[]) => Promise<unknown>;
      watched[key] =
        key === 'close'
          ? method.bind(repo)
          : (...args: unknown[]) =>
              method.apply(repo, args).then(
                (value) => {
                  this.succeeded();
                  return value;
                },
                (error: unknown) => {
                  if (isDbUnavailable(error)) this.failed(error);
                  throw error;
                },
              );
    }
    return watched as unknown as Repository;
  }

  /** Pings with a time limit (a blackholed link never answers); the state afterwards. */
  async check(ping: () => Promise<void>, timeoutMs: number): Promise<DbState> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    try {
      const result = await Promise.race([ping().then(() => 'ok' as const, (error: unknown) => (isDbUnavailable(error) ? ('down' as const) : ('ok' as const))), timeout]);
      if (result === 'timeout') this.failed(new Error(`the database did not answer a ping within ${timeoutMs} ms`));
      return result === 'ok' ? 'ok' : 'unavailable';
    } finally {
      clearTimeout(timer);
    }
  }

  private failed(error: unknown): void {
    this.failures++;
    if (this.current === 'unavailable') return;
    this.set('unavailable');
    this.log.error({ err: error }, 'database unreachable: training continues in memory, saves are queued and retried');
  }

  private succeeded(): void {
    if (this.current === 'ok') return;
    const downMs = Date.now() - this.since;
    const failures = this.failures;
    this.set('ok');
    this.log.warn({ downMs, failedCalls: failures }, 'database reachable again');
  }

  private set(state: DbState): void {
    this.current = state;
    this.since = Date.now();
    this.failures = state === 'unavailable' ? 1 : 0;
    for (const listener of this.listeners) listener(state);
  }
}

/** Own and prototype method names of a repository object (class instance or plain object). */
function methodNames(repo: Repository): (keyof Repository)[] {
  const names = new Set<string>();
  for (let o: object | null = repo; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const name of Object.getOwnPropertyNames(o)) if (name !== 'constructor' && typeof (repo as unknown as Record<string, unknown>)[name] === 'function') names.add(name);
  }
  return [...names] as (keyof Repository)[];
}
