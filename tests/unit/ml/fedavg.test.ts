import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { DEFAULT_SPEC } from '../../../server/protocol/spec';
import { WeightedMeanAccumulator, applyDelta } from '../../../workers/ml/aggregate';
import { evaluate } from '../../../workers/ml/evaluate';
import { initialWeights, type TF } from '../../../workers/ml/model';
import { loadNodeTf } from '../../../workers/ml/node-tf';
import { mulberry32 } from '../../../workers/ml/random';
import { trainRound } from '../../../workers/ml/train';

let tf: TF;
before(async () => {
  tf = await loadNodeTf('cpu');
  // tfjs shuffles batches with Math.random; seeding it makes this simulation reproducible.
  Math.random = mulberry32(2024);
});

it('FedAvg over 4 shards of DEFAULT_SPEC raises held-out accuracy round by round', async (t) => {
  const spec = DEFAULT_SPEC;
  const parts = 4;
  const rounds = 10;
  let { manifest, weights } = initialWeights(tf, spec, spec.dataset.seed);
  const accuracies = [(await evaluate(tf, spec, manifest, weights)).accuracy];
  for (let round = 1; round <= rounds; round++) {
    const started = performance.now();
    const acc = new WeightedMeanAccumulator(weights.length);
    for (let part = 0; part < parts; part++) {
      const result = await trainRound(tf, { spec, manifest, weights: weights.slice(), shard: { part, parts } });
      acc.add(result.delta, result.samples);
    }
    assert.equal(acc.totalWeight, 640, 'the shards cover the training split');
    weights = applyDelta(weights, acc.finalize());
    const { accuracy, loss } = await evaluate(tf, spec, manifest, weights);
    accuracies.push(accuracy);
    t.diagnostic(`round ${round}: held-out accuracy ${accuracy.toFixed(3)} loss ${loss.toFixed(3)} (${(performance.now() - started).toFixed(0)} ms)`);
  }
  const first = accuracies[0]!;
  const last = accuracies[rounds]!;
  assert.ok(first < 0.7, `round 0 is near chance (${first})`);
  assert.ok(last >= 0.85, `held-out accuracy after ${rounds} rounds: ${last}`);
  // Climbs: the best of the second half beats the best of the first few rounds.
  assert.ok(Math.max(...accuracies.slice(6)) > Math.max(...accuracies.slice(0, 3)));
});
