import { WeightedMeanAccumulator } from '../../workers/ml/aggregate';
import type { ErrorCode } from '../protocol';

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
}

export type CoordinatorEvent =
  | { type: 'client_available'; clientId: string }
  | { type: 'client_gone'; clientId: string }
  | { type: 'update'; clientId: string; round: number; samples: number; computeMs: number; trainLoss: number | null; delta: Float32Array }
  | { type: 'deadline'; round: number }
  /** The shell has applied, evaluated and saved the round that `close_round` handed it. */
  | { type: 'round_saved'; round: number };

export interface Contribution {
  clientId: string;
  samples: number;
  computeMs: number;
  trainLoss: number | null;
}

export type Decision =
  | { type: 'start_round'; round: number; participants: string[] }
  | { type: 'reject_update'; clientId: string; code: ErrorCode; message: string }
  | { type: 'close_round'; round: number; meanDelta: Float32Array; samples: number; contributions: Contribution[] }
  | { type: 'waiting'; reason: string }
  | { type: 'finished' }
  /** Something the UI shows changed (an update arrived, a participant left). */
  | { type: 'progress' };

export type Phase = 'waiting' | 'training' | 'aggregating' | 'finished';

export class Coordinator {
  private phase: Phase = 'waiting';
  /** Until start(), arriving clients are only registered, so the first round includes them all. */
  private started = false;
  private round: number;
  private readonly available = new Set<string>();
  /** Participants of the open round that have neither answered nor left. */
  private readonly pending = new Set<string>();
  private participants: string[] = [];
  private accumulator: WeightedMeanAccumulator | null = null;
  private contributions: Contribution[] = [];
  private waitingReason: string | null = 'Waiting for a participant to connect';

  constructor(private readonly config: CoordinatorConfig) {
    this.round = config.lastRound;
    if (config.lastRound >= config.totalRounds) this.phase = 'finished';
  }

  /** What the UI needs to draw: phase, round, counts. */
  snapshot() {
    return {
      phase: this.phase,
      round: this.phase === 'waiting' ? this.round + 1 : this.round,
      participants: this.participants.length,
      received: this.contributions.length,
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
        if (this.phase === 'training' && this.pending.delete(event.clientId)) return [{ type: 'progress' }, ...this.maybeCloseRound()];
        return [];
      case 'update':
        return this.acceptUpdate(event);
      case 'deadline':
        if (this.phase !== 'training' || event.round !== this.round) return [];
        this.pending.clear();
        return this.maybeCloseRound();
      case 'round_saved':
        if (this.phase !== 'aggregating' || event.round !== this.round) return [];
        if (this.round >= this.config.totalRounds) {
          this.phase = 'finished';
          return [{ type: 'finished' }];
        }
        this.phase = 'waiting';
        this.participants = [];
        this.contributions = [];
        return this.maybeStartRound();
      default: {
        const unexpected: never = event;
        throw new Error(`Unknown coordinator event ${JSON.stringify(unexpected)}`);
      }
    }
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
    this.participants = [...this.available].sort();
    this.pending.clear();
    for (const id of this.participants) this.pending.add(id);
    this.accumulator = new WeightedMeanAccumulator(this.config.paramCount);
    this.contributions = [];
    return [{ type: 'start_round', round: this.round, participants: this.participants }];
  }

  private acceptUpdate(event: Extract<CoordinatorEvent, { type: 'update' }>): Decision[] {
    const reject = (code: ErrorCode, message: string): Decision[] => [{ type: 'reject_update', clientId: event.clientId, code, message }];
    if (this.phase !== 'training' || event.round !== this.round) return reject('stale_update', `Round ${event.round} is not open.`);
    if (!this.pending.has(event.clientId)) return reject('not_assigned', 'No open assignment for this client in this round.');
    if (event.delta.length !== this.config.paramCount) return reject('bad_update', `Expected ${this.config.paramCount} values, got ${event.delta.length}.`);
    this.pending.delete(event.clientId);
    // Mean-style aggregation folds each update in as it arrives; closing costs one pass.
    this.accumulator!.add(event.delta, event.samples);
    this.contributions.push({ clientId: event.clientId, samples: event.samples, computeMs: event.computeMs, trainLoss: event.trainLoss });
    return [{ type: 'progress' }, ...this.maybeCloseRound()];
  }

  private maybeCloseRound(): Decision[] {
    if (this.pending.size > 0) return [];
    if (this.contributions.length === 0) {
      // Nobody delivered (all left or the deadline passed): run this round again.
      this.round -= 1;
      this.phase = 'waiting';
      this.participants = [];
      return this.maybeStartRound();
    }
    this.phase = 'aggregating';
    const samples = this.contributions.reduce((sum, c) => sum + c.samples, 0);
    return [{ type: 'close_round', round: this.round, meanDelta: this.accumulator!.finalize(), samples, contributions: this.contributions }];
  }
}
