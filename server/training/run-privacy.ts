import { randomInt } from 'node:crypto';
import { PrivacyAccountant, privacyLedgerSchema, type PrivacyLedger } from '../protocol/privacy-accountant';
import type { ModelSpec, PrivacySpec, PrivacyStatus, VectorEncoding } from '../protocol';
import { plausibleNormRange } from '../../workers/ml/dp';

/**
 * A differentially private run's server side: checks that each update's norm is one an honest
 * DP client can send, and counts the privacy spent round by round (the ledger travels with every
 * checkpoint, so a resumed run keeps counting). The room holds one per DP run.
 */
export class RunPrivacy {
  private readonly accountant: PrivacyAccountant;
  /** q of the open round: participants / clients available when it was sampled. */
  private openRate: number | null = null;
  private lastRate: number | null = null;
  /** What the state shows; recomputed when a round is counted (states go out on every update). */
  private reading: PrivacyStatus;

  private constructor(
    readonly settings: PrivacySpec,
    ledger: PrivacyLedger,
    private readonly totalRounds: number,
    /** The spec's sampling fraction: the projection's rate before any round was counted. */
    private readonly fraction: number,
  ) {
    this.accountant = new PrivacyAccountant(ledger);
    this.lastRate = ledger.entries[ledger.entries.length - 1]?.sampleRate ?? null;
    this.reading = this.read();
  }

  /**
   * The run's privacy state (null without DP) from the ledger stored with its last checkpoint.
   * A DP checkpoint past round 0 without a ledger (none should exist) counts its rounds at q = 1,
   * the most a round can cost; a malformed ledger throws, so the run is not resumed at ε = 0.
   */
  static forRun(spec: ModelSpec, run: { lastRound: number; totalRounds: number }, stored: unknown): RunPrivacy | null {
    if (spec.privacy.differentialPrivacy !== 'on') return null;
    const sigma = spec.privacy.noiseMultiplier;
    const ledger =
      stored === undefined || stored === null
        ? { entries: run.lastRound > 0 ? [{ sampleRate: 1, noiseMultiplier: sigma, rounds: run.lastRound }] : [] }
        : privacyLedgerSchema.parse(stored);
    return new RunPrivacy(spec.privacy, ledger, run.totalRounds, spec.sampling.fraction);
  }

  /** Sampler seed of a new run: secret when DP is on, since sampling only amplifies privacy while nobody can predict the sample. */
  static samplerSeed(spec: ModelSpec): number {
    return spec.privacy.differentialPrivacy === 'on' ? randomInt(2 ** 32 - 1) : spec.dataset.seed;
  }

  roundStarted(participants: number, available: number): void {
    this.openRate = Math.min(1, participants / Math.max(1, available, participants));
  }

  /** Counts the round being saved; returns the ledger to store with its checkpoint. */
  countRound(): PrivacyLedger {
    const rate = this.openRate ?? 1;
    this.accountant.step(rate, this.settings.noiseMultiplier);
    this.lastRate = rate;
    this.reading = this.read();
    return this.accountant.ledger();
  }

  /**
   * Why an update of `length` values and L2 norm `norm` cannot come from an honest DP client (null
   * when plausible). Plain updates only: with secure aggregation no update reaches the server.
   */
  checkNorm(norm: number, length: number, encoding: VectorEncoding): string | null {
    const { min, max } = plausibleNormRange(length, this.settings, encoding);
    if (norm > max) return `Update norm ${norm.toPrecision(4)} is above what clipping to ${this.settings.clipNorm} plus the run's noise allows (${max.toPrecision(4)}): this run uses differential privacy.`;
    if (norm < min) return `Update norm ${norm.toPrecision(4)} is below the run's privacy noise alone (${min.toPrecision(4)}): the update carries no DP noise.`;
    return null;
  }

  status(): PrivacyStatus {
    return this.reading;
  }

  private read(): PrivacyStatus {
    const { delta, noiseMultiplier, clipNorm } = this.settings;
    return {
      epsilon: this.accountant.epsilon(delta),
      epsilonUnsampled: this.accountant.epsilonUnsampled(delta),
      epsilonProjected: this.accountant.epsilonAfter(this.totalRounds - this.accountant.rounds, this.lastRate ?? this.fraction, noiseMultiplier, delta),
      delta,
      rounds: this.accountant.rounds,
      sampleRate: this.lastRate,
      noiseMultiplier,
      clipNorm,
    };
  }
}
