/**
 * A training room's writes (round saves and run status changes), stored strictly in order and
 * retried until the database takes them. While the database answers, a write is awaited as
 * before: a round's model goes out once its checkpoint is durable. When the database cannot be
 * reached, the room does not wait: rounds keep training in memory, their saves queue up here and
 * are retried with exponential backoff, in order, once it is back. Nothing is dropped except, in a
 * very long outage, the weights of old waiting checkpoints (see `maxPendingCheckpoints`).
 *
 * Pure apart from timers: the write, the error classification and the clock of retries are given.
 */
import type { CheckpointRow, ContributionRow, RoundRow, RunRow } from '../db/repository';
import type { Logger } from '../log';
import type { StorageStatus } from '../protocol';

export type RunPatch = Partial<Pick<RunRow, 'status' | 'lastRound' | 'error' | 'finishedAt'>>;

export type SaveJob =
  | { kind: 'round'; runId: string; round: number; row: RoundRow; checkpoint: CheckpointRow | null; contributions: ContributionRow[] }
  | { kind: 'run'; runId: string; patch: RunPatch };

/** What was still waiting when the queue was given up (server shutdown). */
export interface Unsaved {
  runId: string;
  rounds: number[];
  /** Rounds among `rounds` that still had their checkpoint. */
  checkpoints: number[];
  statuses: RunPatch[];
}

/**
 * Checkpoints kept in memory while the database is away: the latest 16 waiting ones (plus the
 * one being written). The largest model allowed is 1M parameters (4 MB of float32; up to 12 MB
 * with an Adam server optimizer's state), so the cap holds a worst case of about 200 MB; small
 * models take a few kilobytes each. Older waiting checkpoints lose their weights: their round
 * rows and contributions are still stored, and the run's lastRound (where a restart resumes)
 * only moves to rounds whose checkpoint was stored.
 */
export const DEFAULT_MAX_PENDING_CHECKPOINTS = 16;
/** First retry after 250 ms, doubling up to every 5 s. */
export const DEFAULT_RETRY = { initialMs: 250, maxMs: 5000 };

export interface PersistQueueOptions {
  write(job: SaveJob): Promise<void>;
  /** Whether an error means the database could not be reached (keep and retry). */
  isTransient(error: unknown): boolean;
  /** Whether a retried write's error proves an earlier attempt committed (a unique violation). */
  isAlreadyStored(error: unknown): boolean;
  /** A write the database refused for its own reasons (not an outage): dropped from the queue. */
  onRefused(job: SaveJob, error: unknown): void;
  /** The status() changed (an outage began or ended, the backlog moved). */
  onChange(): void;
  log: Logger;
  maxPendingCheckpoints?: number;
  retry?: { initialMs: number; maxMs: number };
}

interface Entry {
  job: SaveJob;
  attempts: number;
  inFlight: boolean;
  /** Resolved once the job is stored (true), or refused or left waiting in memory (false). */
  settle: (stored: boolean) => void;
}

export class PersistQueue {
  private readonly entries: Entry[] = [];
  private unavailable = false;
  /** From an outage until the backlog is stored: new writes do not wait behind the backlog. */
  private catchingUp = false;
  private draining = false;
  private disposed = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private delayMs: number;
  private readonly dropped: number[] = [];
  private capWarned = false;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly maxCheckpoints: number;
  private readonly retry: { initialMs: number; maxMs: number };

  constructor(private readonly options: PersistQueueOptions) {
    this.maxCheckpoints = Math.max(1, options.maxPendingCheckpoints ?? DEFAULT_MAX_PENDING_CHECKPOINTS);
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.delayMs = this.retry.initialMs;
  }

  /**
   * Queues a write after every earlier one. Resolves with true once it is stored, or with false
   * as soon as the database is unreachable (the write then waits here and is retried) or refused
   * it (see onRefused); never rejects.
   */
  enqueue(job: SaveJob): Promise<boolean> {
    const last = this.entries[this.entries.length - 1];
    if (job.kind === 'run' && last && !last.inFlight && last.job.kind === 'run' && last.job.runId === job.runId) {
      // Consecutive status changes of one run collapse into one write (a long outage stays small).
      last.job = { ...last.job, patch: { ...last.job.patch, ...job.patch } };
      return this.catchingUp ? Promise.resolve(false) : new Promise((resolve) => this.chainSettle(last, resolve));
    }
    let settle!: (stored: boolean) => void;
    const done = new Promise<boolean>((resolve) => (settle = resolve));
    this.entries.push({ job, attempts: 0, inFlight: false, settle });
    this.capCheckpoints();
    if (this.catchingUp) settle(false);
    if (!this.retryTimer) void this.drain();
    return done;
  }

  status(): StorageStatus {
    return { status: this.unavailable ? 'unavailable' : 'ok', pendingRounds: this.entries.filter((e) => e.job.kind === 'round').length, droppedCheckpoints: this.dropped.length };
  }

  /**
   * Waits up to `timeoutMs` for everything queued to be stored (retrying at once if an outage
   * holds it); returns what is still waiting, by run, or [] when all is stored.
   */
  async flush(timeoutMs: number): Promise<Unsaved[]> {
    if (this.entries.length > 0) {
      if (this.retryTimer) {
        clearTimeout(this.retryTimer);
        this.retryTimer = null;
        void this.drain();
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((resolve) => this.idleWaiters.push(resolve)), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    }
    return this.unsaved();
  }

  /** Stops retrying (server shutdown); what is left stays listed by unsaved(). */
  dispose(): void {
    this.disposed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  unsaved(): Unsaved[] {
    const byRun = new Map<string, Unsaved>();
    for (const { job } of this.entries) {
      let run = byRun.get(job.runId);
      if (!run) byRun.set(job.runId, (run = { runId: job.runId, rounds: [], checkpoints: [], statuses: [] }));
      if (job.kind === 'run') run.statuses.push(job.patch);
      else {
        run.rounds.push(job.round);
        if (job.checkpoint) run.checkpoints.push(job.round);
      }
    }
    return [...byRun.values()];
  }

  private chainSettle(entry: Entry, resolve: (stored: boolean) => void): void {
    const previous = entry.settle;
    entry.settle = (stored) => {
      previous(stored);
      resolve(stored);
    };
  }

  private async drain(): Promise<void> {
    if (this.draining || this.disposed) return;
    this.draining = true;
    try {
      for (let entry = this.entries[0]; entry; entry = this.entries[0]) {
        entry.inFlight = true;
        entry.attempts++;
        let outcome: 'stored' | 'refused' | 'retry' = 'stored';
        let failure: unknown;
        try {
          await this.options.write(entry.job);
        } catch (error) {
          failure = error;
          if (entry.attempts > 1 && this.options.isAlreadyStored(error)) outcome = 'stored';
          else outcome = this.options.isTransient(error) ? 'retry' : 'refused';
        }
        entry.inFlight = false;
        if (outcome === 'retry') {
          this.outageBegan(failure);
          this.scheduleRetry();
          return;
        }
        this.entries.shift();
        entry.settle(outcome === 'stored');
        if (outcome === 'refused') this.options.onRefused(entry.job, failure);
        if (this.unavailable) this.outageEnded();
        else if (this.catchingUp) this.options.onChange();
      }
      if (this.catchingUp) {
        this.catchingUp = false;
        this.options.log.warn({ droppedCheckpoints: this.dropped.length }, 'every round save queued during the database outage is stored');
        this.options.onChange();
      }
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    } finally {
      this.draining = false;
    }
  }

  private outageBegan(error: unknown): void {
    if (this.unavailable) return;
    this.unavailable = true;
    this.catchingUp = true;
    this.capWarned = false;
    // Writes that were waiting for this one need not wait for the database to come back.
    for (const entry of this.entries) entry.settle(false);
    this.options.log.warn({ pending: this.entries.length, err: error instanceof Error ? error.message : String(error) }, 'round saves are kept in memory and retried until the database is back');
    this.options.onChange();
  }

  private outageEnded(): void {
    this.unavailable = false;
    this.delayMs = this.retry.initialMs;
    this.options.log.warn({ pending: this.entries.length }, 'database writes succeed again: storing the queued round saves in order');
    this.options.onChange();
  }

  private scheduleRetry(): void {
    if (this.disposed) return;
    const delay = this.delayMs;
    this.delayMs = Math.min(this.retry.maxMs, this.delayMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.drain();
    }, delay);
    this.retryTimer.unref();
  }

  /** Keeps the weights of the latest `maxCheckpoints` waiting checkpoints (the one being written aside). */
  private capCheckpoints(): void {
    const holding = this.entries.filter((e) => !e.inFlight && e.job.kind === 'round' && e.job.checkpoint !== null);
    for (const entry of holding.slice(0, Math.max(0, holding.length - this.maxCheckpoints))) {
      if (entry.job.kind !== 'round') continue;
      this.dropped.push(entry.job.round);
      entry.job = { ...entry.job, checkpoint: null };
      if (!this.capWarned) {
        this.capWarned = true;
        this.options.log.warn({ maxPendingCheckpoints: this.maxCheckpoints, runId: entry.job.runId, round: entry.job.round }, 'database outage: only the latest checkpoints are kept in memory; older waiting rounds will be stored without their weights');
      }
    }
  }
}
