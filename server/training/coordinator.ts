import { assertNever, type ContributionStatus, type ErrorCode } from '../protocol';
import { createAggregator, type Aggregator, type AggregatorConfig } from './aggregation';
import { SecAggRound, type RosterEntry, type UnmaskJob } from './secagg';

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
  /** Secure aggregation: clients send masked vectors (secagg_* events), never plain updates. */
  secureAggregation?: boolean;
}

/** Why a secure aggregation attempt could not open its sum and the round runs again. */
export type SecAggRedoReason = 'too_few_keys' | 'too_few_masked' | 'reveal_missing' | 'unmask_failed';

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
  /** Secure aggregation: a participant's public key (after training), masked vector with sealed self-mask shares, reveal. */
  | { type: 'secagg_key'; clientId: string; round: number; session: string; publicKey: Uint8Array; samples: number }
  | { type: 'secagg_masked'; clientId: string; round: number; session: string; samples: number; computeMs: number; masked: Uint32Array; shares: { clientId: string; box: Uint8Array }[] }
  | { type: 'secagg_reveal'; clientId: string; round: number; session: string; seeds: { clientId: string; seed: Uint8Array }[]; shares: { clientId: string; share: Uint8Array }[] }
  /** The deadline of a secure aggregation step (masked vectors or seeds) passed. */
  | { type: 'secagg_timeout'; round: number; session: string; step: 'masking' | 'revealing' }
  /** The shell opened the masked sum of `secagg_unmask`. */
  | { type: 'secagg_unmasked'; round: number; session: string; delta: Float32Array; trainLoss: number | null; trainAccuracy: number | null }
  /** The shell could not open it (revealed shares that rebuild no seed). */
  | { type: 'secagg_unmask_failed'; round: number; session: string }
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

/** How a secure aggregation round's sum was opened, for its metrics. */
export interface SecAggOutcome {
  summed: number;
  dropped: number;
  outcome: 'complete' | 'recovered';
  trainLoss: number | null;
  trainAccuracy: number | null;
}

export type Decision =
  /** `session`: the secure aggregation attempt every secagg message of the round quotes (absent without it). */
  | { type: 'start_round'; round: number; participants: string[]; session?: string }
  | { type: 'reject_update'; clientId: string; code: ErrorCode; message: string }
  /**
   * Aggregate now: `aggregate` holds every accepted update, already folded in. The shell hands
   * `aggregate.delta()` to the server optimizer, which streams a mean in without a separate pass.
   * It stays valid until the shell reports `round_saved` (the next round reuses it).
   */
  | { type: 'close_round'; round: number; aggregate: Aggregator; samples: number; contributions: Contribution[]; tally: RoundTally; fates: ClientFate[]; secureAggregation?: SecAggOutcome }
  /** Secure aggregation: send the roster to its members; start the masking step's timer. */
  | { type: 'secagg_roster'; round: number; session: string; members: RosterEntry[]; scaleBits: number }
  /** Secure aggregation: ask the survivors for the seeds they share with the dropped clients; start the step's timer. */
  | { type: 'secagg_reveal_request'; round: number; session: string; survivors: string[]; dropped: string[]; sharesFor: Map<string, { clientId: string; box: Uint8Array }[]> }
  /** Secure aggregation: open the sum (async), then report `secagg_unmasked`. */
  | { type: 'secagg_unmask'; round: number; session: string; job: UnmaskJob }
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
  /** The open round's secure aggregation attempt; attempts count up so each has its own session. */
  private secagg: SecAggRound | null = null;
  private secaggAttempts = 0;
  private secaggRedo: { round: number; reason: SecAggRedoReason } | null = null;

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
      ...(this.config.secureAggregation ? { secureAggregation: this.secaggSnapshot() } : {}),
    };
  }

  private secaggSnapshot() {
    return {
      phase: this.secagg && (this.phase === 'training' || this.phase === 'aggregating') ? this.secagg.step : null,
      keys: this.secagg?.keyCount ?? 0,
      masked: this.secagg?.summedCount ?? 0,
      lastRedo: this.secaggRedo,
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
        if (this.phase === 'training' && this.secagg?.forgetKey(event.clientId)) {
          // Trained and sent its key, then left before the roster: no mask of it exists anywhere.
          this.tally.dropped += 1;
          this.settleFate(event.clientId, 'dropped');
          return [{ type: 'progress' }];
        }
        if (this.phase === 'training' && this.pending.delete(event.clientId)) {
          this.tally.dropped += 1;
          this.settleFate(event.clientId, 'dropped');
          // A survivor gone before revealing: its seeds, and so the sum, are out of reach at once.
          if (this.secagg?.step === 'revealing') return [{ type: 'progress' }, ...this.redoSecAgg('reveal_missing')];
          return [{ type: 'progress' }, ...this.maybeCloseRound()];
        }
        return [];
      case 'update':
        return this.acceptUpdate(event);
      case 'deadline':
        if (this.phase !== 'training' || event.round !== this.round) return [];
        // Past the key exchange, a secure aggregation round runs on its own step timers.
        if (this.secagg && this.secagg.step !== 'keys') return [];
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
      case 'secagg_key':
      case 'secagg_masked':
      case 'secagg_reveal':
      case 'secagg_timeout':
      case 'secagg_unmasked':
      case 'secagg_unmask_failed':
        return this.handleSecAgg(event);
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
    this.secagg = null;
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
    if (!this.config.secureAggregation) return [{ type: 'start_round', round: this.round, participants: this.participants }];
    this.secaggAttempts += 1;
    const session = `${this.round}.${this.secaggAttempts}`;
    this.secagg = new SecAggRound(session, this.participants, this.config.paramCount);
    return [{ type: 'start_round', round: this.round, participants: this.participants, session }];
  }

  private acceptUpdate(event: Extract<CoordinatorEvent, { type: 'update' }>): Decision[] {
    const reject = (code: ErrorCode, message: string): Decision[] => {
      if (this.phase === 'training') this.tally.rejected += 1;
      // A stale update is a late one (its lateness is already recorded) or noise from elsewhere.
      if (this.phase === 'training' && code !== 'stale_update') this.settleFate(event.clientId, 'rejected');
      return [{ type: 'reject_update', clientId: event.clientId, code, message }];
    };
    if (this.phase !== 'training' || event.round !== this.round) return reject('stale_update', `Round ${event.round} is not open.`);
    if (this.config.secureAggregation) return reject('bad_update', 'This run uses secure aggregation: updates travel masked (secagg_key, then secagg_masked), never in the clear.');
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
    if (this.secagg) return this.advanceSecAgg(this.secagg);
    if (this.contributions.length < this.needed()) return this.runAgain();
    return this.closeRound();
  }

  /** Updates needed for a round to count (secure aggregation: at least 2, or the sum is one update). */
  private needed(): number {
    return Math.max(this.config.secureAggregation ? 2 : 1, Math.ceil((this.config.minCompletion ?? 0) * this.participants.length));
  }

  /**
   * Too few delivered (all left, the deadline passed, a masked sum could not be opened): run this
   * round again. Who was late, dropped or rejected stays on record; accepted work of this attempt
   * was thrown away.
   */
  private runAgain(): Decision[] {
    for (const fate of this.fates.values()) if (fate.status !== 'accepted') this.carriedFates.push(fate);
    this.fates = new Map();
    this.round -= 1;
    this.phase = 'waiting';
    this.participants = [];
    this.secagg = null;
    return this.maybeStartRound();
  }

  private closeRound(secureAggregation?: SecAggOutcome): Decision[] {
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
        ...(secureAggregation ? { secureAggregation } : {}),
      },
    ];
  }

  /** Secure aggregation events: only for the open attempt (round and session), else refused as stale. */
  private handleSecAgg(event: Extract<CoordinatorEvent, { type: `secagg_${string}` }>): Decision[] {
    const round = this.secagg;
    const current = round !== null && event.round === this.round && event.session === round.session;
    if (event.type === 'secagg_unmasked') {
      if (!current || this.phase !== 'aggregating') return [];
      this.accumulator!.add(event.delta, 1);
      const dropped = round.dropped.length;
      const outcome: SecAggOutcome = { summed: round.summedCount, dropped, outcome: dropped > 0 ? 'recovered' : 'complete', trainLoss: event.trainLoss, trainAccuracy: event.trainAccuracy };
      this.phase = 'training'; // closeRound moves to 'aggregating' again
      return this.closeRound(outcome);
    }
    if (event.type === 'secagg_unmask_failed') {
      if (!current || this.phase !== 'aggregating') return [];
      this.phase = 'training';
      return this.redoSecAgg('unmask_failed');
    }
    if (event.type === 'secagg_timeout') {
      if (!current || this.phase !== 'training' || round.step !== event.step) return [];
      for (const clientId of this.pending) {
        // A roster member that never sent its masked vector is as good as gone: its masks dangle.
        if (event.step === 'masking') {
          this.tally.late += 1;
          this.settleFate(clientId, 'late');
        }
      }
      this.pending.clear();
      return this.advanceSecAgg(round);
    }
    const refuse = (code: ErrorCode, message: string): Decision[] => {
      if (this.phase === 'training' && code !== 'stale_update') this.tally.rejected += 1;
      return [{ type: 'reject_update', clientId: event.clientId, code, message }];
    };
    if (!current || this.phase !== 'training') return refuse('stale_update', `Round ${event.round} (attempt ${event.session}) is not open.`);
    if (!this.pending.has(event.clientId)) return refuse('not_assigned', 'Nothing is expected from this client in this step of the round.');
    switch (event.type) {
      case 'secagg_key': {
        const problem = round.addKey(event.clientId, event.publicKey, event.samples);
        if (problem) return refuse('bad_update', problem);
        this.pending.delete(event.clientId);
        return [{ type: 'progress' }, ...this.maybeCloseRound()];
      }
      case 'secagg_masked': {
        const problem = round.addMasked(event.clientId, event.samples, event.masked, event.shares);
        if (problem) return refuse('bad_update', problem);
        this.pending.delete(event.clientId);
        this.contributions.push({ clientId: event.clientId, samples: event.samples, computeMs: event.computeMs, trainLoss: null });
        this.fates.set(event.clientId, { clientId: event.clientId, status: 'accepted', samples: event.samples, computeMs: event.computeMs });
        this.tally.accepted += 1;
        return [{ type: 'progress' }, ...this.maybeCloseRound()];
      }
      case 'secagg_reveal': {
        const problem = round.addReveal(event.clientId, event.seeds, event.shares);
        if (problem) return refuse('bad_update', problem);
        this.pending.delete(event.clientId);
        return [{ type: 'progress' }, ...this.maybeCloseRound()];
      }
      default:
        return assertNever(event, 'secure aggregation event');
    }
  }

  /** The masked sum of this attempt cannot be opened: the round runs again, and the state says why. */
  private redoSecAgg(reason: SecAggRedoReason): Decision[] {
    this.secaggRedo = { round: this.round, reason };
    return this.runAgain();
  }

  /** Moves a secure aggregation round on once its step has nothing pending. */
  private advanceSecAgg(round: SecAggRound): Decision[] {
    const redo = (reason: SecAggRedoReason) => this.redoSecAgg(reason);
    switch (round.step) {
      case 'keys': {
        if (round.keyCount < this.needed()) return redo('too_few_keys');
        const { members, scaleBits } = round.closeKeys();
        for (const m of members) this.pending.add(m.clientId);
        return [{ type: 'secagg_roster', round: this.round, session: round.session, members, scaleBits }, { type: 'progress' }];
      }
      case 'masking': {
        // Every self-mask seed must be rebuilt from the survivors' shares: at least `threshold` of them.
        if (round.summedCount < Math.max(this.needed(), round.threshold)) return redo('too_few_masked');
        round.closeMasking();
        const survivors = round.survivors;
        for (const id of survivors) this.pending.add(id);
        const sharesFor = new Map(survivors.map((id) => [id, round.sharesFor(id)]));
        return [{ type: 'secagg_reveal_request', round: this.round, session: round.session, survivors, dropped: [...round.dropped], sharesFor }, { type: 'progress' }];
      }
      case 'revealing':
        // A survivor left or ran out of time without revealing: its masks cannot be removed.
        if (!round.revealsComplete()) return redo('reveal_missing');
        break;
      case 'unmasking':
        return [];
    }
    this.phase = 'aggregating';
    return [{ type: 'secagg_unmask', round: this.round, session: round.session, job: round.unmaskJob() }, { type: 'progress' }];
  }

  /** Records a client's fate in the open round unless one is settled (rejected stays rejected if it then leaves or runs late). */
  private settleFate(clientId: string, status: Exclude<ContributionStatus, 'accepted'>): void {
    if (!this.fates.has(clientId)) this.fates.set(clientId, { clientId, status, samples: 0, computeMs: 0 });
  }
}

function emptyTally(participants: number): RoundTally {
  return { participants, accepted: 0, late: 0, dropped: 0, rejected: 0 };
}
