import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SPEC } from '../../server/protocol';
import type { CloseRound } from '../../server/training/round-record';
import { roundRecord, sampleWeightedMean } from '../../server/training/round-record';

const startedAt = new Date('2026-11-29T10:00:00.000Z');
const finishedAt = new Date('2026-11-29T10:00:01.250Z');

function closed(decision: Partial<CloseRound> = {}) {
  const base: CloseRound = {
    type: 'close_round',
    round: 4,
    aggregate: null as never, // the record never reads the aggregator
    samples: 300,
    contributions: [
      { clientId: 'ada:s1', samples: 100, computeMs: 10, trainLoss: 0.5, trainAccuracy: 0.8 },
      { clientId: 'bo:s2', samples: 200, computeMs: 20, trainLoss: null, trainAccuracy: null },
    ],
    tally: { participants: 3, accepted: 2, late: 1, dropped: 0, rejected: 0 },
    fates: [
      { clientId: 'ada:s1', status: 'accepted', samples: 100, computeMs: 10.4 },
      { clientId: 'bo:s2', status: 'accepted', samples: 200, computeMs: 19.6 },
      { clientId: 'cy:s3', status: 'late', samples: 0, computeMs: 0 },
    ],
    ...decision,
  };
  return {
    runId: 'run1',
    decision: base,
    weights: new Float32Array([0.25, -1.5]),
    evaluation: { loss: 0.3, accuracy: 0.9 },
    startedAt,
    finishedAt,
    aggregationMs: 1.5,
    evalMs: 2.5,
    bytesIn: 1000,
    bytesOut: 2000,
    roundSpec: { ...DEFAULT_SPEC, learningRate: 0.07 },
    deadlineOverrideMs: undefined,
    manifest: [{ name: 'w', shape: [2] }],
    optimizerState: null,
    loopState: '{"samplerState":1}',
    whoIs: (clientId: string) => ({ memberId: clientId.split(':')[0]!, backend: 'cpu' }),
  };
}

describe('a closed round as a record', () => {
  it('metrics: held-out evaluation, sample-weighted training statistics of those that reported one, wall time', () => {
    const { metrics } = roundRecord(closed());
    assert.deepEqual(metrics, { round: 4, loss: 0.3, accuracy: 0.9, trainLoss: 0.5, trainAccuracy: 0.8, participants: 2, samples: 300, durationMs: 1250 });
  });

  it('the save job: round row with the tally, traffic, timings and hyperparameters; checkpoint; one contribution per fate', () => {
    const { metrics, job } = roundRecord(closed());
    assert.equal(job.kind, 'round');
    assert.equal(job.round, 4);
    assert.deepEqual({ ...job.row, hyperparams: undefined }, {
      runId: 'run1', number: 4, samples: 300, loss: 0.3, accuracy: 0.9, trainLoss: 0.5, trainAccuracy: 0.8,
      participants: 3, accepted: 2, late: 1, dropped: 0, rejected: 0,
      bytesIn: 1000, bytesOut: 2000, aggregationMs: 1.5, evalMs: 2.5, startedAt, finishedAt, hyperparams: undefined,
    });
    const hyper = JSON.parse(job.row.hyperparams);
    assert.equal(hyper.learningRate, 0.07);
    assert.equal(hyper.roundDeadlineMs, DEFAULT_SPEC.roundDeadlineSec * 1000);
    const stored = job.checkpoint!.weights;
    assert.deepEqual(Array.from(new Float32Array(stored.slice().buffer)), [0.25, -1.5]);
    assert.deepEqual(JSON.parse(job.checkpoint!.metrics), metrics);
    assert.equal(job.checkpoint!.loopState, '{"samplerState":1}');
    assert.deepEqual(job.contributions.map((c) => [c.memberId, c.status, c.samples, c.computeMs]), [['ada', 'accepted', 100, 10], ['bo', 'accepted', 200, 20], ['cy', 'late', 0, 0]]);
  });

  it('a server deadline override is what the round stored', () => {
    const { job } = roundRecord({ ...closed(), deadlineOverrideMs: 1234 });
    assert.equal(JSON.parse(job.row.hyperparams).roundDeadlineMs, 1234);
  });

  it('secure aggregation: training statistics are the opened sums, and the outcome is in the metrics', () => {
    const { metrics } = roundRecord(closed({ secureAggregation: { summed: 2, dropped: 1, outcome: 'recovered', trainLoss: 0.42, trainAccuracy: null } }));
    assert.equal(metrics.trainLoss, 0.42);
    assert.equal(metrics.trainAccuracy, null);
    assert.deepEqual(metrics.secureAggregation, { summed: 2, dropped: 1, outcome: 'recovered' });
  });

  it('sampleWeightedMean skips missing and non-finite values; null when none reported', () => {
    const items = [{ samples: 1, v: 1 }, { samples: 3, v: 3 }, { samples: 5, v: null }, { samples: 7, v: Number.NaN }];
    assert.equal(sampleWeightedMean(items, (i) => i.v), 2.5);
    assert.equal(sampleWeightedMean(items.slice(2), (i) => i.v), null);
  });
});
