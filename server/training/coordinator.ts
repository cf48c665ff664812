import type { ContributionStatus, ErrorCode } from '../protocol';
import { createAggregator, type Aggregator, type AggregatorConfig } from './aggregation';

/**
 * The federated round loop as a pure state machine: events in, decisions out. It knows no
 * socket, timer or database; the socket.io shell (room.ts) feeds it and carries out decisions.
 */
export interface CoordinatorConfig {
  runId: string;
  totalRounds: number;
  /** Number of float32 parameters; every update must have exactly this many. */
  paramCount: number;
  /** Rounds already finished (resume); the next round is lastRound + 1. */
  lastRound: number;
  /** Fewest available clients needed to start a round. */
  minClients: number;
  /** Fraction of available clients sampled per round (default 1: everyone). */
  fraction?: number;
  /** Most clients in one round (default: no limit). */
  maxClients?: number;
  /** Fraction of participants that must deliver by the deadline, else the round runs again (default 0). */
  minCompletion?: number;
  /** How updates are combined (default: sample-weighted mean). */
  aggregator?: AggregatorConfig;
  /** State of the client sampler's PRNG, from the last checkpoint (or the run's seed). */
  samplerState?: number;
}

export type CoordinatorEvent =
  | { type: 'client_available'; clientId: string }
  | { type: 'client_gone'; clientId: string }
  | { type: 'update'; clientId: string; round: number; samples: number; computeMs: number; trainLoss: number | null; trainAccuracy?: number | null; delta: Float32Array }
  | { type: 'deadline'; round: number }
  /** The shell has applied, evaluated and saved the round that `close_round` handed it. */
  | { type: 'round_saved'; round: number }
  /** The shell refused a client's update before decoding it (bad encoding, length or values). */
  | { type: 'update_refused'; clientId: string; round?: number }
  /** Sampling changed mid-run: applies from the next round (and may end a wait for clients now). */
  | { type: 'configure'; minClients: number; fraction: number; maxClients: number }
  /** Owner controls: pause abandons the open round (it runs again on resume); stop ends the run. */
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' };

export interface Contribution {
  clientId: string;
  samples: number;
  computeMs: number;
  trainLoss: number | null;
  /** The client's training accuracy; null or absent when it did not report one. */
  trainAccuracy?: number | null;
}

/**
 * What became of one client's work in a round: one per participant (accepted, late at the
 * deadline, dropped by disconnecting, or rejected when it sent a refused update and no good
 * one), plus clients whose unasked-for update was refused. Samples and compute count for
 * accepted work only. An update for a round already closed is the late one: no second fate.
 */
export interface ClientFate {
  clientId: string;
  status: ContributionStatus;
  samples: number;
  computeMs: number;
}

/** What happened to a round's updates, stored with the round. */
export interface RoundTally {
  /** Clients the round was assigned to. */
  participants: number;
  accepted: number;
  /** Participants still working when the deadline closed the round. */
  late: number;
  /** Participants that disconnected before delivering. */
  dropped: number;
  /** Updates refused in this round (bad shape or values, not assigned, stale). */
  rejected: number;
}

export type Decision =
  | { type: 'start_round'; round: number; participants: string[] }
  | { type: 'reject_update'; clientId: string; code: ErrorCode; message: string }
  /**
   * Aggregate now: `aggregate` holds every accepted update, already folded in. The shell hands
   * `aggregate.delta()` to the server optimizer, which streams a mean in without a separate pass.
   * It stays valid until the shell reports `round_saved` (the next round reuses it).
   */
  | { type: 'close_round'; round: number; aggregate: Aggregator; samples: number; contributions: Contribution[]; tally: RoundTally; fates: ClientFate[] }
  | { type: 'waiting'; reason: string }
  | { type: 'finished' }
  | { type: 'paused' }
  | { type: 'stopped' }
  /** Something the UI shows changed (an update arrived, a participant left). */
  | { type: 'progress' };

export type Phase = 'waiting' | 'training' | 'aggregating' | 'paused' | 'finished' | 'stopped';

export class Coordinator {
  private phase: Phase = 'waiting';
  /** Until start(), arriving clients are only registered, so the first round includes them all. */
  private started = false;
  private round: number;
  private readonly available = new Set<string>();
  /** Participants of the open round that have neither answered nor left. */
  private readonly pending = new Set<string>();
  private participants: string[] = [];
  private accumulator: Aggregator | null = null;
  private contributions: Contribution[] = [];
  private tally: RoundTally = emptyTally(0);
  /** Fates of the open round, by client; `carriedFates`: those of an attempt at it that had to run again. */
  private fates = new Map<string, ClientFate>();
  private carriedFates: ClientFate[] = [];
  private sampler: number;
  /** A pause asked for while the round was being aggregated: applied once it is saved. */
  private pauseAfterSave = false;
  private waitingReason: string | null = 'Waiting for a participant to connect';

  private readonly config: CoordinatorConfig;

  constructor(config: CoordinatorConfig) {
    this.config = { ...config }; // sampling fields change with 'configure'
    this.round = config.lastRound;
    this.sampler = (config.samplerState ?? 0x9e3779b9) >>> 0;
    if (config.lastRound >= config.totalRounds) this.phase = 'finished';
  }

  /** What the UI needs to draw: phase, round, counts. */
  snapshot() {
    return {
      phase: this.phase,
      round: this.phase === 'waiting' ? this.round + 1 : this.round,
      participants: this.participants.length,
      received: this.contributions.length,
      tally: { ...this.tally },
      waitingReason: this.phase === 'waiting' ? this.waitingReason : null,
    };
  }

  /** Kicks the loop (at start and after resume): starts a round if enough clients are there. */
  start(): Decision[] {
    this.started = true;
    return this.phase === 'waiting' ? this.maybeStartRound() : [];
  }

  handle(event: CoordinatorEvent): Decision[] {
    switch (event.type) {
      case 'client_available':
        this.available.add(event.clientId);
        return this.started && this.phase === 'waiting' ? this.maybeStartRound() : [];
      case 'client_gone':
        this.available.delete(event.clientId);
        if (this.phase === 'training' && this.pending.delete(event.clientId)) {
          this.tally.dropped += 1;
          this.settleFate(event.clientId, 'dropped');
          return [{ type: 'progress' }, ...this.maybeCloseRound()];
        }
        return [];
      case 'update':
        return this.acceptUpdate(event);
      case 'deadline':
        if (this.phase !== 'training' || event.round !== this.round) return [];
        this.tally.late += this.pending.size;
        for (const clientId of this.pending) this.settleFate(clientId, 'late');
        this.pending.clear();
        return this.maybeCloseRound();
      case 'round_saved':
        if (this.phase !== 'aggregating' || event.round !== this.round) return [];
        this.participants = [];
        this.contributions = [];
        this.tally = emptyTally(0);
        this.fates = new Map();
        this.carriedFates = [];
        if (this.round >= this.config.totalRounds) {
          this.phase = 'finished';
          return [{ type: 'finished' }];
        }
        if (this.pauseAfterSave) {
          this.pauseAfterSave = false;
          this.phase = 'paused';
          return [{ type: 'paused' }];
        }
        this.phase = 'waiting';
        return this.maybeStartRound();
      case 'update_refused':
        if (this.phase === 'training') {
          this.tally.rejected += 1;
          if (event.round === undefined || event.round === this.round) this.settleFate(event.clientId, 'rejected');
        }
        return [];
      case 'configure':
        this.config.minClients = event.minClients;
        this.config.fraction = event.fraction;
        this.config.maxClients = event.maxClients;
        return this.started && this.phase === 'waiting' ? this.maybeStartRound() : [];
      case 'pause':
        return this.pause();
      case 'resume':
        if (this.phase !== 'paused') return [];
        this.phase = 'waiting';
        return this.maybeStartRound();
      case 'stop':
        if (this.phase === 'finished' || this.phase === 'stopped') return [];
        this.phase = 'stopped';
        this.pending.clear();
        return [{ type: 'stopped' }];
      default: {
        const unexpected: never = event;
        throw new Error(`Unknown coordinator event ${JSON.stringify(unexpected)}`);
      }
    }
  }

  /** The sampler's PRNG state, saved with each checkpoint so a resumed run samples the same way. */
  get samplerState(): number {
    return this.sampler;
  }

  private pause(): Decision[] {
    if (this.phase === 'aggregating') {
      this.pauseAfterSave = true;
      return [];
    }
    if (this.phase !== 'waiting' && this.phase !== 'training') return [];
    if (this.phase === 'training') this.round -= 1; // the open round runs again on resume
    this.phase = 'paused';
    this.pending.clear();
    this.participants = [];
    this.contributions = [];
    this.tally = emptyTally(0);
    // The abandoned round runs again from scratch: nobody was late, dropped or rejected in it.
    this.fates = new Map();
    this.carriedFates = [];
    return [{ type: 'paused' }];
  }

  /** mulberry32 step over the persisted state. */
  private random(): number {
    this.sampler = (this.sampler + 0x6d2b79f5) >>> 0;
    let t = this.sampler;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** This round's participants: a seeded sample of the available clients, in a stable order. */
  private sample(): string[] {
    const pool = [...this.available].sort();
    const fraction = this.config.fraction ?? 1;
    const wanted = Math.min(pool.length, this.config.maxClients ?? Infinity, Math.max(this.config.minClients, Math.ceil(fraction * pool.length)));
    if (wanted >= pool.length) return pool;
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    return pool.slice(0, wanted).sort();
  }

  private maybeStartRound(): Decision[] {
    if (this.available.size < this.config.minClients) {
      this.waitingReason =
        this.config.minClients === 1
          ? 'Waiting for a participant to connect'
          : `Waiting for ${this.config.minClients - this.available.size} more participant(s)`;
      return [{ type: 'waiting', reason: this.waitingReason }];
    }
    this.phase = 'training';
    this.round += 1;
    this.participants = this.sample();
    this.pending.clear();
    for (const id of this.participants) this.pending.add(id);
    // One aggregator for the whole run, emptied per round: its memory stays mapped (see reset()).
    // Safe to reuse: close_round hands it to the shell, and the next round starts only after
    // the shell reports round_saved.
    if (this.accumulator) this.accumulator.reset();
    else this.accumulator = createAggregator(this.config.aggregator ?? { kind: 'mean' }, this.config.paramCount);
    this.contributions = [];
    this.tally = emptyTally(this.participants.length);
    this.fates = new Map();
    return [{ type: 'start_round', round: this.round, participants: this.participants }];
  }

  private acceptUpdate(event: Extract<CoordinatorEvent, { type: 'update' }>): Decision[] {
    const reject = (code: ErrorCode, message: string): Decision[] => {
      if (this.phase === 'training') this.tally.rejected += 1;
      // A stale update is a late one (its lateness is already recorded) or noise from elsewhere.
      if (this.phase === 'training' && code !== 'stale_update') this.settleFate(event.clientId, 'rejected');
      return [{ type: 'reject_update', clientId: event.clientId, code, message }];
    };
    if (this.phase !== 'training' || event.round !== this.round) return reject('stale_update', `Round ${event.round} is not open.`);
    if (!this.pending.has(event.clientId)) return reject('not_assigned', 'No open assignment for this client in this round.');
    if (event.delta.length !== this.config.paramCount) return reject('bad_update', `Expected ${this.config.paramCount} values, got ${event.delta.length}.`);
    this.pending.delete(event.clientId);
    // Mean-style aggregation folds each update in as it arrives; closing costs one pass.
    this.accumulator!.add(event.delta, event.samples);
    this.contributions.push({ clientId: event.clientId, samples: event.samples, computeMs: event.computeMs, trainLoss: event.trainLoss, ...(typeof event.trainAccuracy === 'number' ? { trainAccuracy: event.trainAccuracy } : {}) });
    this.fates.set(event.clientId, { clientId: event.clientId, status: 'accepted', samples: event.samples, computeMs: event.computeMs });
    this.tally.accepted += 1;
    return [{ type: 'progress' }, ...this.maybeCloseRound()];
  }

  private maybeCloseRound(): Decision[] {
    if (this.pending.size > 0) return [];
    const needed = Math.max(1, Math.ceil((this.config.minCompletion ?? 0) * this.participants.length));
    if (this.contributions.length < needed) {
      // Too few delivered (all left, or the deadline passed): run this round again. Who was late,
      // dropped or rejected stays on record; accepted work of this attempt was thrown away.
      for (const fate of this.fates.values()) if (fate.status !== 'accepted') this.carriedFates.push(fate);
      this.fates = new Map();
      this.round -= 1;
      this.phase = 'waiting';
      this.participants = [];
      return this.maybeStartRound();
    }
    this.phase = 'aggregating';
    const samples = this.contributions.reduce((sum, c) => sum + c.samples, 0);
    return [
      {
        type: 'close_round',
        round: this.round,
        aggregate: this.accumulator!,
        samples,
        contributions: this.contributions,
        tally: { ...this.tally },
        fates: [...this.carriedFates, ...this.fates.values()],
      },
    ];
  }

  /** Records a client's fate in the open round unless one is settled (rejected stays rejected if it then leaves or runs late). */
  private settleFate(clientId: string, status: Exclude<ContributionStatus, 'accepted'>): void {
    if (!this.fates.has(clientId)) this.fates.set(clientId, { clientId, status, samples: 0, computeMs: 0 });
  }
}

function emptyTally(participants: number): RoundTally {
  return { participants, accepted: 0, late: 0, dropped: 0, rejected: 0 };
}
