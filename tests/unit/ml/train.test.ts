import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_SPEC, type ModelSpec } from '../../../server/protocol/spec';
import { allFinite, type WeightsManifest } from '../../../server/protocol/weights';
import { datasetSplit, featurize, selectRows, shardIndices } from '../../../workers/ml/datasets';
import { buildModel, disposeModel, initialWeights, writeWeights, type TF } from '../../../workers/ml/model';
import { loadNodeTf } from '../../../workers/ml/node-tf';
import { disposeTrainer, trainRound } from '../../../workers/ml/train';

let tf: TF;
let manifest: WeightsManifest;
let weights: Float32Array;
before(async () => {
  tf = await loadNodeTf('cpu');
  ({ manifest, weights } = initialWeights(tf, DEFAULT_SPEC, 7));
});
after(() => disposeTrainer());

/** Binary cross-entropy of `w` on one shard of the training split. */
function shardLoss(spec: ModelSpec, w: Float32Array, part: number, parts: number): number {
  const train = datasetSplit(spec.dataset).train;
  const rows = selectRows(train, shardIndices(train.y.length, part, parts));
  const model = buildModel(tf, spec);
  writeWeights(tf, model, manifest, w);
  const loss = tf.tidy(() => {
    const x = tf.tensor2d(featurize(rows.x, spec.features), [rows.y.length, spec.features.length]);
    const y = tf.tensor2d(rows.y, [rows.y.length, 1]);
    return (model.evaluate(x, y) as ReturnType<typeof tf.scalar>).dataSync()[0]!;
  });
  disposeModel(model);
  return loss;
}

describe('trainRound', () => {
  it('returns a finite delta of the model size that lowers the loss on its shard', async () => {
    const task = { spec: DEFAULT_SPEC, manifest, weights: weights.slice(), shard: { part: 1, parts: 4 } };
    const result = await trainRound(tf, task);
    assert.equal(result.delta.length, weights.length);
    assert.ok(allFinite(result.delta));
    assert.ok(result.delta.some((v) => v !== 0));
    assert.equal(result.samples, 160);
    assert.ok(result.trainLoss !== null && Number.isFinite(result.trainLoss));
    assert.ok(result.computeMs > 0);
    assert.deepEqual(task.weights, weights, 'the input weights are left untouched');
    const local = weights.map((v, i) => v + result.delta[i]!);
    const beforeLoss = shardLoss(DEFAULT_SPEC, weights, 1, 4);
    const afterLoss = shardLoss(DEFAULT_SPEC, local, 1, 4);
    assert.ok(afterLoss < beforeLoss * 0.97, `shard loss ${beforeLoss} → ${afterLoss}`);
  });

  it('returns samples 0 and a zero delta for an empty shard', async () => {
    const result = await trainRound(tf, { spec: DEFAULT_SPEC, manifest, weights, shard: { part: 700, parts: 1000 } });
    assert.equal(result.samples, 0);
    assert.equal(result.trainLoss, null);
    assert.deepEqual(result.delta, new Float32Array(weights.length));
  });

  it('keeps the tensor count flat across rounds and frees everything on dispose', async () => {
    disposeTrainer();
    const baseline = tf.memory().numTensors;
    const spec: ModelSpec = { ...DEFAULT_SPEC, localEpochs: 1 };
    const counts: number[] = [];
    for (let round = 0; round < 4; round++) {
      await trainRound(tf, { spec, manifest, weights, shard: { part: round % 2, parts: 2 } });
      counts.push(tf.memory().numTensors);
    }
    // Rounds 0 and 1 each cache a new shard; after that nothing may accumulate.
    assert.equal(counts[2], counts[1]);
    assert.equal(counts[3], counts[1]);
    disposeTrainer();
    assert.equal(tf.memory().numTensors, baseline);
  });

  it('rebuilds for a spec with another architecture and rejects mismatched weights clearly', async () => {
    const wider: ModelSpec = { ...DEFAULT_SPEC, localEpochs: 1, layers: [{ id: 'only', type: 'dense', units: 5, activation: 'relu' }] };
    const other = initialWeights(tf, wider, 3);
    const result = await trainRound(tf, { spec: wider, manifest: other.manifest, weights: other.weights, shard: { part: 0, parts: 2 } });
    assert.equal(result.delta.length, other.weights.length);
    await assert.rejects(trainRound(tf, { spec: wider, manifest, weights, shard: { part: 0, parts: 2 } }), /manifest does not match/);
  });
});
