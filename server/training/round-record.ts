/**
 * What a closed round becomes: its metrics (broadcast and kept in the run's history) and the save
 * job for its round row, checkpoint and contributions. Pure: the room measures and evaluates,
 * this shapes the record.
 */
import { toWire, type ModelSpec, type RoundMetrics, type WeightsManifest } from '../protocol';
import type { Decision } from './coordinator';
import type { SaveJob } from './persist-queue';

export type CloseRound = Extract<Decision, { type: 'close_round' }>;

export interface ClosedRound {
  runId: string;
  decision: CloseRound;
  /** The new global weights and their held-out evaluation. */
  weights: Float32Array;
  evaluation: { loss: number; accuracy: number };
  startedAt: Date;
  finishedAt: Date;
  aggregationMs: number;
  evalMs: number;
  bytesIn: number;
  bytesOut: number;
  /** The spec the round ran with (live fields included) and the server's deadline override, if any. */
  roundSpec: ModelSpec;
  deadlineOverrideMs: number | undefined;
  manifest: WeightsManifest;
  /** The server optimizer's saved state (null for the plain one) and the loop's (sampler, privacy ledger) as JSON. */
  optimizerState: Uint8Array | null;
  loopState: string;
  /** Who a client is (member and backend), for its contribution row. */
  whoIs(clientId: string): { memberId: string; backend: string };
}

export function roundRecord(closed: ClosedRound): { metrics: RoundMetrics; job: Extract<SaveJob, { kind: 'round' }> } {
  const { runId, decision, evaluation } = closed;
  const { loss, accuracy } = evaluation;
  const secagg = decision.secureAggregation;
  // Secure aggregation: per-client statistics travel masked too; only their sums were opened.
  const trainLoss = secagg ? secagg.trainLoss : sampleWeightedMean(decision.contributions, (c) => c.trainLoss);
  const trainAccuracy = secagg ? secagg.trainAccuracy : sampleWeightedMean(decision.contributions, (c) => c.trainAccuracy);
  const metrics: RoundMetrics = {
    round: decision.round,
    loss,
    accuracy,
    trainLoss,
    trainAccuracy,
    participants: decision.contributions.length,
    samples: decision.samples,
    durationMs: closed.finishedAt.getTime() - closed.startedAt.getTime(),
    ...(secagg ? { secureAggregation: { summed: secagg.summed, dropped: secagg.dropped, outcome: secagg.outcome } } : {}),
  };
  const job: Extract<SaveJob, { kind: 'round' }> = {
    kind: 'round',
    runId,
    round: decision.round,
    row: {
      runId,
      number: decision.round,
      samples: metrics.samples,
      loss,
      accuracy,
      trainLoss,
      trainAccuracy,
      // participants here = clients asked; metrics.participants = clients whose update counted.
      ...decision.tally,
      bytesIn: closed.bytesIn,
      bytesOut: closed.bytesOut,
      aggregationMs: closed.aggregationMs,
      evalMs: closed.evalMs,
      hyperparams: JSON.stringify(roundHyperparams(closed.roundSpec, closed.deadlineOverrideMs)),
      startedAt: closed.startedAt,
      finishedAt: closed.finishedAt,
    },
    checkpoint: {
      runId,
      round: decision.round,
      weights: toWire(closed.weights),
      manifest: JSON.stringify(closed.manifest),
      metrics: JSON.stringify(metrics),
      optimizerState: closed.optimizerState,
      loopState: closed.loopState,
      createdAt: closed.finishedAt,
    },
    // Every client's fate in the round (accepted, late, rejected, dropped), attributed by member.
    contributions: decision.fates.map((c) => {
      const { memberId, backend } = closed.whoIs(c.clientId);
      return { runId, round: decision.round, memberId, samples: c.samples, computeMs: Math.round(c.computeMs), backend, status: c.status };
    }),
  };
  return { metrics, job };
}

/** Mean of a per-client statistic weighted by each client's samples, over the clients that reported it; null if none did. */
export function sampleWeightedMean<T extends { samples: number }>(items: readonly T[], value: (item: T) => number | null | undefined): number | null {
  let sum = 0;
  let weight = 0;
  for (const item of items) {
    const v = value(item);
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    sum += v * item.samples;
    weight += item.samples;
  }
  return weight > 0 ? sum / weight : null;
}

/** The hyperparameters a round ran with, stored with it. */
export function roundHyperparams(spec: ModelSpec, deadlineOverrideMs: number | undefined) {
  return {
    algorithm: spec.strategy.algorithm,
    learningRate: spec.learningRate,
    batchSize: spec.batchSize,
    localEpochs: spec.localEpochs,
    aggregator: spec.strategy.aggregator,
    serverOptimizer: spec.strategy.serverOptimizer,
    serverLearningRate: spec.strategy.serverLearningRate,
    sampling: spec.sampling,
    roundDeadlineMs: deadlineOverrideMs ?? spec.roundDeadlineSec * 1000,
    minCompletion: spec.minCompletion,
    encoding: spec.encoding,
  };
}
