import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as tfjs from '@tensorflow/tfjs';
import { DEFAULT_SPEC, type Algorithm, type DenseLayer, type ModelSpec } from '../../../server/protocol/spec';
import { allFinite, type WeightsManifest } from '../../../server/protocol/weights';
import { WeightedMeanAccumulator, applyDelta } from '../../../workers/ml/aggregate';
import { datasetSplit, featurize, selectRows, shardIndices } from '../../../workers/ml/datasets';
import { disposeEvaluator, evaluate } from '../../../workers/ml/evaluate';
import { initialWeights, type TF } from '../../../workers/ml/model';
import { loadNodeTf } from '../../../workers/ml/node-tf';
import { mulberry32 } from '../../../workers/ml/random';
import { disposeTrainer, trainRound, type TrainTask } from '../../../workers/ml/train';

let tf: TF;
let manifest: WeightsManifest;
let weights: Float32Array;
before(async () => {
  tf = await loadNodeTf('cpu');
  // FedAvg's model.fit shuffles with Math.random; seeding it keeps the FedAvg comparison reproducible.
  Math.random = mulberry32(99);
  ({ manifest, weights } = initialWeights(tf, DEFAULT_SPEC, 7));
});
after(() => {
  disposeTrainer();
  disposeEvaluator();
});

function withStrategy(algorithm: Algorithm, extra: Partial<ModelSpec> = {}, proximalMu = DEFAULT_SPEC.strategy.proximalMu): ModelSpec {
  return { ...DEFAULT_SPEC, ...extra, strategy: { ...DEFAULT_SPEC.strategy, algorithm, proximalMu } };
}

function task(spec: ModelSpec, part: number, parts: number, w = weights): TrainTask {
  return { spec, manifest, weights: w.slice(), shard: { part, parts } };
}

function shardRows(spec: ModelSpec, part: number, parts: number): { x: Float32Array; y: Float32Array; n: number } {
  const train = datasetSplit(spec.dataset).train;
  const rows = selectRows(train, shardIndices(train.y.length, part, parts));
  return { x: featurize(rows.x, spec.features), y: Float32Array.from(rows.y), n: rows.y.length };
}

/**
 * Mean binary cross-entropy of the flat weights on the rows, written out by hand (dense layers in
 * manifest order, kernel then bias, sigmoid output) with no tfjs-layers involved: an independent
 * reference for the gradient trainRound takes.
 */
function manualLoss(spec: ModelSpec, params: tfjs.Tensor[], x: tfjs.Tensor2D, y: tfjs.Tensor2D): tfjs.Scalar {
  let h: tfjs.Tensor = x;
  for (let layer = 0; layer <= spec.layers.length; layer++) {
    const z = tf.add(tf.matMul(h as tfjs.Tensor2D, params[2 * layer] as tfjs.Tensor2D), params[2 * layer + 1]!);
    const activation = layer < spec.layers.length ? (spec.layers[layer] as DenseLayer).activation : 'sigmoid';
    h = activation === 'linear' ? z : tf[activation](z);
  }
  const p = h;
  return tf.neg(tf.mean(tf.add(tf.mul(y, tf.log(p)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, p)))))) as tfjs.Scalar;
}

function paramTensors(w: Float32Array): tfjs.Tensor[] {
  let offset = 0;
  return manifest.map(({ shape }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const t = tf.tensor(w.slice(offset, offset + size), shape);
    offset += size;
    return t;
  });
}

/** Loss of flat weights on a shard of the training split (hand-written forward pass). */
function shardLoss(spec: ModelSpec, w: Float32Array, part: number, parts: number): number {
  const rows = shardRows(spec, part, parts);
  return tf.tidy(() => {
    const x = tf.tensor2d(rows.x, [rows.n, spec.features.length]);
    const y = tf.tensor2d(rows.y, [rows.n, 1]);
    return manualLoss(spec, paramTensors(w), x, y).dataSync()[0]!;
  });
}

function norm(values: Float32Array): number {
  let s = 0;
  for (const v of values) s += v * v;
  return Math.sqrt(s);
}

describe('FedSGD', () => {
  it('returns −lr · the loss gradient on the batch (whole shard when the batch is larger)', async (t) => {
    const spec = withStrategy('fedsgd', { batchSize: 1024, learningRate: 0.1 });
    const result = await trainRound(tf, task(spec, 1, 4));
    assert.equal(result.samples, 160, 'a batch larger than the shard uses the whole shard');
    assert.equal(result.delta.length, weights.length);
    assert.ok(allFinite(result.delta));
    const rows = shardRows(spec, 1, 4);
    const { grad, loss } = tf.tidy(() => {
      const x = tf.tensor2d(rows.x, [rows.n, spec.features.length]);
      const y = tf.tensor2d(rows.y, [rows.n, 1]);
      const { value, grads } = tf.valueAndGrads((...params: tfjs.Tensor[]) => manualLoss(spec, params, x, y))(paramTensors(weights));
      const flat = new Float32Array(weights.length);
      let offset = 0;
      for (const g of grads) {
        flat.set(g.dataSync() as Float32Array, offset);
        offset += g.size;
      }
      return { grad: flat, loss: value.dataSync()[0]! };
    });
    const expected = grad.map((g) => -spec.learningRate * g);
    const error = norm(result.delta.map((d, i) => d - expected[i]!));
    t.diagnostic(`relative error ${(error / norm(expected)).toExponential(2)}`);
    assert.ok(norm(expected) > 1e-4, 'the gradient is not trivially zero');
    assert.ok(error <= 1e-4 * norm(expected), `‖delta − (−lr·∇)‖ = ${error} vs ‖−lr·∇‖ = ${norm(expected)}`);
    assert.ok(result.trainLoss !== null && Math.abs(result.trainLoss - loss) < 1e-5, `batch loss ${result.trainLoss} vs ${loss}`);
  });

  it('uses batchSize samples, scales exactly with lr, ignores spec.optimizer and is reproducible', async () => {
    const base = withStrategy('fedsgd', { batchSize: 16, learningRate: 0.05 });
    const a = await trainRound(tf, task(base, 0, 2));
    assert.equal(a.samples, 16);
    assert.ok(allFinite(a.delta) && a.delta.some((v) => v !== 0));
    const doubled = await trainRound(tf, task({ ...base, learningRate: 0.1 }, 0, 2));
    assert.deepEqual(doubled.delta, a.delta.map((v) => 2 * v), 'doubling lr doubles the delta exactly (same batch)');
    const sgd = await trainRound(tf, task({ ...base, optimizer: 'sgd' }, 0, 2));
    assert.deepEqual(sgd.delta, a.delta, 'one plain SGD step whatever the optimizer');
    const again = await trainRound(tf, task(base, 0, 2));
    assert.deepEqual(again.delta, a.delta, 'same global weights and shard → same batch');
    // The other shard's rows are disjoint from this one's, so its batch and step differ.
    const other = await trainRound(tf, task(base, 1, 2));
    assert.notDeepEqual(other.delta, a.delta);
  });

  it('over rounds with 2 shards lowers the held-out loss', async (t) => {
    // One plain SGD step per round needs a large lr to move in few rounds (≈1 ms per client step).
    const spec = withStrategy('fedsgd', { batchSize: 32, learningRate: 1 });
    const ROUNDS = 120;
    let w: Float32Array = weights.slice();
    const initial = (await evaluate(tf, spec, manifest, w)).loss;
    for (let round = 0; round < ROUNDS; round++) {
      const acc = new WeightedMeanAccumulator(w.length);
      for (let part = 0; part < 2; part++) {
        const result = await trainRound(tf, task(spec, part, 2, w));
        assert.equal(result.samples, 32);
        acc.add(result.delta, result.samples);
      }
      w = applyDelta(w, acc.finalize());
    }
    const final = (await evaluate(tf, spec, manifest, w)).loss;
    t.diagnostic(`held-out loss ${initial.toFixed(4)} → ${final.toFixed(4)} after ${ROUNDS} rounds`);
    assert.ok(final < initial * 0.8, `held-out loss ${initial} → ${final}`);
  });
});

describe('FedProx', () => {
  it('lowers the shard training loss, and with μ = 0 about as much as FedAvg', async (t) => {
    const before = shardLoss(DEFAULT_SPEC, weights, 0, 2);
    const afterLoss = async (spec: ModelSpec) => {
      const result = await trainRound(tf, task(spec, 0, 2));
      assert.equal(result.samples, 320);
      assert.ok(allFinite(result.delta));
      assert.ok(result.trainLoss !== null && Number.isFinite(result.trainLoss));
      return shardLoss(spec, applyDelta(weights, result.delta), 0, 2);
    };
    const prox = await afterLoss(withStrategy('fedprox'));
    const prox0 = await afterLoss(withStrategy('fedprox', {}, 0));
    const avg = await afterLoss(withStrategy('fedavg'));
    assert.ok(prox < before * 0.95, `fedprox μ=0.01: ${before} → ${prox}`);
    assert.ok(prox0 < before * 0.95, `fedprox μ=0: ${before} → ${prox0}`);
    const drop0 = before - prox0;
    const dropAvg = before - avg;
    t.diagnostic(`shard loss ${before.toFixed(4)} → fedprox μ=0.01 ${prox.toFixed(4)}, μ=0 ${prox0.toFixed(4)}, fedavg ${avg.toFixed(4)}`);
    assert.ok(drop0 > 0.6 * dropAvg && drop0 < 1.6 * dropAvg, `loss drop fedprox μ=0 ${drop0} vs fedavg ${dropAvg}`);
  });

  it('a large μ keeps the local model near the global one (smaller delta), reproducibly', async (t) => {
    const free = await trainRound(tf, task(withStrategy('fedprox', {}, 0), 1, 2));
    const tied = await trainRound(tf, task(withStrategy('fedprox', {}, 10), 1, 2));
    const again = await trainRound(tf, task(withStrategy('fedprox', {}, 10), 1, 2));
    assert.deepEqual(again.delta, tied.delta, 'shuffles are seeded by the global weights and shard');
    assert.ok(allFinite(tied.delta));
    t.diagnostic(`‖Δ‖ adam μ=0 ${norm(free.delta).toFixed(4)}, μ=10 ${norm(tied.delta).toFixed(4)}`);
    assert.ok(norm(tied.delta) < 0.5 * norm(free.delta), `‖Δ‖ μ=10: ${norm(tied.delta)}, μ=0: ${norm(free.delta)}`);
    // Also with plain SGD, where the pull back is not rescaled by Adam.
    const sgdFree = await trainRound(tf, task(withStrategy('fedprox', { optimizer: 'sgd', learningRate: 0.05 }, 0), 1, 2));
    const sgdTied = await trainRound(tf, task(withStrategy('fedprox', { optimizer: 'sgd', learningRate: 0.05 }, 10), 1, 2));
    t.diagnostic(`‖Δ‖ sgd μ=0 ${norm(sgdFree.delta).toFixed(4)}, μ=10 ${norm(sgdTied.delta).toFixed(4)}`);
    assert.ok(norm(sgdTied.delta) < 0.5 * norm(sgdFree.delta), `sgd ‖Δ‖ μ=10: ${norm(sgdTied.delta)}, μ=0: ${norm(sgdFree.delta)}`);
  });
});

it('FedSGD and FedProx leak no tensors across rounds and free everything on dispose', async () => {
  disposeTrainer();
  const baseline = tf.memory().numTensors;
  const specs = [withStrategy('fedsgd'), withStrategy('fedprox', { localEpochs: 1 }), withStrategy('fedprox', { localEpochs: 1 }, 0)];
  const counts: number[] = [];
  for (let round = 0; round < 8; round++) {
    await trainRound(tf, task(specs[round % 3]!, round % 2, 2));
    counts.push(tf.memory().numTensors);
  }
  // Rounds 0 and 1 each cache a shard (and round 1 creates Adam's state); nothing may pile up after.
  for (let round = 2; round < counts.length; round++) assert.equal(counts[round], counts[1], `tensor counts ${counts.join(',')}`);
  disposeTrainer();
  assert.equal(tf.memory().numTensors, baseline);
});

describe('loss and regularisation', () => {
  it('L2 adds exactly −lr·2·λ₂·w to each kernel value of a FedSGD step, and nothing to biases', async () => {
    const spec = withStrategy('fedsgd', { optimizer: 'sgd', learningRate: 0.1, batchSize: 1024 });
    const lambda = 0.01;
    const plain = await trainRound(tf, task(spec, 0, 2));
    const penalised = await trainRound(tf, task({ ...spec, regularization: { l1: 0, l2: lambda } }, 0, 2));
    let offset = 0;
    for (const tensor of manifest) {
      const size = tensor.shape.reduce((a, b) => a * b, 1);
      const kernel = tensor.name.endsWith('/kernel');
      for (let i = offset; i < offset + size; i++) {
        const expected = kernel ? -spec.learningRate * 2 * lambda * weights[i]! : 0;
        const got = penalised.delta[i]! - plain.delta[i]!;
        assert.ok(Math.abs(got - expected) < 1e-6, `${tensor.name}[${i - offset}]: ${got} vs ${expected}`);
      }
      offset += size;
    }
  });

  it('mean squared error trains and evaluates with its own loss', async () => {
    const spec: ModelSpec = { ...DEFAULT_SPEC, loss: 'mse' };
    const before = await evaluate(tf, spec, manifest, weights);
    const bce = await evaluate(tf, DEFAULT_SPEC, manifest, weights);
    assert.ok(before.loss > 0 && before.loss < 1, `MSE of probabilities is within (0, 1): ${before.loss}`);
    assert.notEqual(before.loss, bce.loss);
    const result = await trainRound(tf, task(spec, 0, 1));
    const after = await evaluate(tf, spec, manifest, applyDelta(weights, result.delta));
    assert.ok(after.loss < before.loss, `MSE went from ${before.loss} to ${after.loss}`);
  });
});

describe('FedAvg counted in local steps', () => {
  it('with full batches, N steps are N full-batch epochs (the same as FedProx with μ = 0)', async () => {
    const base = withStrategy('fedavg', { optimizer: 'sgd', learningRate: 0.1, batchSize: 1024 });
    const steps = await trainRound(tf, task({ ...base, localSteps: 3 }, 0, 2));
    const prox = await trainRound(tf, task({ ...withStrategy('fedprox', { optimizer: 'sgd', learningRate: 0.1, batchSize: 1024, localEpochs: 3 }, 0) }, 0, 2));
    for (let i = 0; i < steps.delta.length; i++) assert.ok(Math.abs(steps.delta[i]! - prox.delta[i]!) < 1e-6, `value ${i}: ${steps.delta[i]} vs ${prox.delta[i]}`);
    assert.ok(steps.trainLoss !== null && Number.isFinite(steps.trainLoss));
  });

  it('more steps move the weights further than fewer', async () => {
    const base = withStrategy('fedavg', { optimizer: 'sgd', learningRate: 0.05, batchSize: 8 });
    const norm = (d: Float32Array) => Math.sqrt(d.reduce((s, v) => s + v * v, 0));
    const few = await trainRound(tf, task({ ...base, localSteps: 2 }, 0, 2));
    const many = await trainRound(tf, task({ ...base, localSteps: 40 }, 0, 2));
    assert.ok(norm(many.delta) > norm(few.delta), `${norm(many.delta)} > ${norm(few.delta)}`);
  });
});
