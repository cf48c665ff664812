import type * as tfjs from '@tensorflow/tfjs';
import { layerKey, type ModelSpec } from '../../server/protocol/spec';
import { manifestSize, type WeightsManifest } from '../../server/protocol/weights';
import { classCount } from '../../server/protocol/shapes';
import { datasetKey, datasetSplit, selectRows } from './datasets';
import { partitionIndices } from './partition';
import { concatRows, type LocalTrainData } from './local-data';
import { accuracyOf, assertManifestMatches, buildModel, dataTensors, makeOptimizer, readWeights, regularizationPenalty, specLoss, writeWeights, type Sequential, type TF } from './model';
import { deriveSeed, mulberry32, permutation, type Rng } from './random';

/** What a client trains in one round: the global weights and its shard of the training split. */
export interface TrainTask {
  spec: ModelSpec;
  manifest: WeightsManifest;
  weights: Float32Array;
  shard: { part: number; parts: number };
  /** This participant's private rows (never sent anywhere): trained with the shard, or instead of it. */
  local?: LocalTrainData;
}

/** A client's answer for one round: delta = local − global and how many samples it trained on. */
export interface TrainResult {
  delta: Float32Array;
  samples: number;
  /** Mean training loss of the last local epoch; null when nothing was trained or it diverged. */
  trainLoss: number | null;
  /** Share of the trained rows the local model classifies right at the end of the round (FedSGD: the global model); null when nothing was trained. */
  trainAccuracy?: number | null;
  computeMs: number;
}

interface ShardTensors {
  n: number;
  x: tfjs.Tensor | null;
  y: tfjs.Tensor | null;
}

/** What stays alive between rounds: rebuilding the model and the tensors every round costs more than training. */
interface TrainerCache {
  tf: TF;
  key: string;
  model: Sequential;
  optimizer: tfjs.Optimizer;
  shards: Map<string, ShardTensors>;
}

const MAX_CACHED_SHARDS = 32;
let cache: TrainerCache | null = null;

/**
 * Key of what shapes the model and its data. Optimizer settings, batch size and epochs are left
 * out: they apply per round, so changing them does not rebuild anything.
 */
function trainerKey(tf: TF, spec: ModelSpec): string {
  const layers = spec.layers.map(layerKey).join(',');
  const { l1, l2 } = spec.regularization;
  return `${tf.getBackend()}|${datasetKey(spec.dataset)}|${spec.features.join(',')}|${layers}|${spec.loss}|${l1},${l2}`;
}

function disposeShard(shard: ShardTensors): void {
  shard.x?.dispose();
  shard.y?.dispose();
}

/** Frees the cached model and shard tensors (e.g. when a worker switches projects, or in tests). */
export function disposeTrainer(): void {
  if (!cache) return;
  for (const shard of cache.shards.values()) disposeShard(shard);
  cache.optimizer.dispose();
  cache.model.dispose();
  cache = null;
}

function trainer(tf: TF, spec: ModelSpec): TrainerCache {
  const key = trainerKey(tf, spec);
  if (cache && cache.tf === tf && cache.key === key) return cache;
  disposeTrainer();
  const model = buildModel(tf, spec);
  // The cache owns the optimizer in use: tfjs' Sequential.dispose() never disposes optimizers.
  const optimizer = makeOptimizer(tf, spec);
  model.optimizer.dispose();
  model.optimizer = optimizer;
  cache = { tf, key, model, optimizer, shards: new Map() };
  return cache;
}

function shardTensors(tf: TF, entry: TrainerCache, spec: ModelSpec, part: number, parts: number, local?: LocalTrainData): ShardTensors {
  const { kind, alpha, classesPerClient } = spec.partition;
  const key = `${part}/${parts}|${kind}|${alpha}|${classesPerClient}${local ? `|local:${local.key}:${local.includeShard}` : ''}`;
  const hit = entry.shards.get(key);
  if (hit) return hit;
  const train = datasetSplit(spec.dataset).train;
  const shardRows = local && !local.includeShard ? selectRows(train, []) : selectRows(train, partitionIndices(train.y, classCount(spec), part, parts, spec.partition, spec.dataset.seed));
  const rows = local ? concatRows(shardRows, local.rows) : shardRows;
  const n = rows.y.length;
  const shard: ShardTensors = n === 0 ? { n, x: null, y: null } : { n, ...dataTensors(tf, spec, rows) };
  // Participants come and go, so a client may see several shardings; keep only the recent ones.
  if (entry.shards.size >= MAX_CACHED_SHARDS) {
    const [oldestKey, oldest] = entry.shards.entries().next().value!;
    disposeShard(oldest);
    entry.shards.delete(oldestKey);
  }
  entry.shards.set(key, shard);
  return shard;
}

/**
 * One client round, by `spec.strategy.algorithm`:
 * - 'fedavg' (McMahan et al. 2017): `localEpochs` epochs of minibatch training with the spec's
 *   optimizer (model.fit); delta = local − global.
 * - 'fedsgd' (the same paper's baseline): the gradient of the loss on ONE minibatch of `batchSize`
 *   samples at the global weights; delta = −learningRate · gradient (a plain SGD step, whatever
 *   `spec.optimizer` says), samples = the batch size used. The server's sample-weighted mean of these
 *   deltas, applied by its optimizer, is FedSGD with lr = spec.learningRate.
 * - 'fedprox' (Li et al. 2020): FedAvg's local training with (μ/2)·‖w − w_global‖² added to every
 *   minibatch loss, μ = spec.strategy.proximalMu, in a custom loop (model.fit cannot add the term).
 *
 * FedSGD's minibatch and FedProx's shuffles come from a PRNG seeded by a hash of the global weights
 * and the shard (see {@link roundRng}): TrainTask carries no round number, but the global weights
 * change every round, so each round draws a fresh batch while a re-run of the same round (same
 * weights, same shard) reproduces it exactly, whatever the client did before.
 */
export async function trainRound(tf: TF, task: TrainTask): Promise<TrainResult> {
  const start = performance.now();
  const { spec, manifest, weights, shard } = task;
  const entry = trainer(tf, spec);
  const data = shardTensors(tf, entry, spec, shard.part, shard.parts, task.local);
  if (data.n === 0 || !data.x || !data.y) {
    assertManifestMatches(entry.model, manifest);
    return { delta: new Float32Array(manifestSize(manifest)), samples: 0, trainLoss: null, computeMs: performance.now() - start };
  }
  writeWeights(tf, entry.model, manifest, weights);
  const algorithm = spec.strategy?.algorithm ?? 'fedavg';
  const shardData = { n: data.n, x: data.x, y: data.y };
  const result =
    algorithm === 'fedsgd'
      ? fedSgdStep(tf, entry, task, shardData)
      : algorithm === 'fedprox'
        ? await fedProxTrain(tf, entry, task, shardData, spec.strategy.proximalMu)
        : spec.localSteps > 0
          ? await fedProxTrain(tf, entry, task, shardData, 0) // FedAvg counted in steps
          : await fedAvgTrain(entry, task, shardData);
  const trainAccuracy = await rowsAccuracy(tf, entry.model, shardData.x, shardData.y);
  return { ...result, trainAccuracy, computeMs: performance.now() - start };
}

type RoundOutput = Omit<TrainResult, 'computeMs' | 'trainAccuracy'>;

/** Accuracy of the model's current weights on rows (one batched forward pass, no dropout). */
async function rowsAccuracy(tf: TF, model: Sequential, x: tfjs.Tensor, y: tfjs.Tensor): Promise<number | null> {
  const accuracy = tf.tidy(() => accuracyOf(tf, y, model.predict(x, { batchSize: 256 }) as tfjs.Tensor));
  const value = (await accuracy.data())[0];
  accuracy.dispose();
  return finiteOrNull(value);
}
interface ShardData {
  n: number;
  x: tfjs.Tensor;
  y: tfjs.Tensor;
}

/** NaN/Infinity cannot travel in the protocol's numbers; a non-finite delta tells the server anyway. */
function finiteOrNull(value: number | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** A fresh optimizer each round: state from an earlier round (maybe another shard) would make the
 * update depend on this client's history rather than on the global weights alone. */
function freshOptimizer(tf: TF, entry: TrainerCache, spec: ModelSpec): tfjs.Optimizer {
  entry.optimizer.dispose();
  entry.optimizer = makeOptimizer(tf, spec);
  entry.model.optimizer = entry.optimizer;
  return entry.optimizer;
}

/** local − global, from the model's current variables. */
function deltaFromModel(model: Sequential, global: Float32Array): Float32Array {
  const delta = readWeights(model).weights;
  for (let i = 0; i < delta.length; i++) delta[i]! -= global[i]!;
  return delta;
}

async function fedAvgTrain(entry: TrainerCache, task: TrainTask, data: ShardData): Promise<RoundOutput> {
  const { spec, weights } = task;
  freshOptimizer(entry.tf, entry, spec);
  const history = await entry.model.fit(data.x, data.y, {
    batchSize: spec.batchSize,
    epochs: spec.localEpochs,
    shuffle: true, // tfjs shuffles with Math.random: rounds are not bit-reproducible, which FedAvg tolerates
    verbose: 0,
  });
  const losses = history.history.loss ?? [];
  return { delta: deltaFromModel(entry.model, weights), samples: data.n, trainLoss: finiteOrNull(losses[losses.length - 1] as number | undefined) };
}

/**
 * PRNG for this round's minibatch choices: seeded by FNV-1a over the global weights' bits, the
 * shard and the algorithm. Hashing costs one pass over the weights (≈1 ms per million values).
 */
function roundRng(weights: Float32Array, shard: TrainTask['shard'], label: string): Rng {
  const bits = new Uint32Array(weights.buffer, weights.byteOffset, weights.length);
  let h = 0x811c9dc5;
  for (let i = 0; i < bits.length; i++) h = Math.imul(h ^ bits[i]!, 0x01000193);
  return mulberry32(deriveSeed(h >>> 0, `${label}:${shard.part}/${shard.parts}`));
}

/** The model's variables (manifest order), as the tf.Variables gradients are taken for. */
function modelVariables(model: Sequential): tfjs.Variable[] {
  return model.weights.map((w) => w.read() as tfjs.Variable);
}

/** The spec's loss plus its regularisation penalty, exactly as model.fit computes them. */
function batchLoss(tf: TF, spec: ModelSpec, model: Sequential, x: tfjs.Tensor, y: tfjs.Tensor): tfjs.Scalar {
  const p = model.apply(x, { training: true }) as tfjs.Tensor;
  const loss = specLoss(tf, spec, y, p);
  const penalty = regularizationPenalty(tf, spec, model);
  return penalty ? (loss.add(penalty) as tfjs.Scalar) : loss;
}

function fedSgdStep(tf: TF, entry: TrainerCache, task: TrainTask, data: ShardData): RoundOutput {
  const { spec, weights, shard } = task;
  const size = Math.min(spec.batchSize, data.n);
  const variables = modelVariables(entry.model);
  const lr = spec.learningRate;
  const delta = new Float32Array(weights.length);
  const lossValue = tf.tidy(() => {
    let x: tfjs.Tensor = data.x;
    let y: tfjs.Tensor = data.y;
    if (size < data.n) {
      // The first `size` rows of a seeded permutation: distinct rows, uniformly drawn.
      const order = permutation(data.n, roundRng(weights, shard, 'fedsgd')).subarray(0, size);
      const rows = tf.tensor1d(Int32Array.from(order), 'int32');
      x = tf.gather(data.x, rows);
      y = tf.gather(data.y, rows);
    }
    const { value, grads } = tf.variableGrads(() => batchLoss(tf, spec, entry.model, x, y), variables);
    // Read while the gradients are alive: a backend may hand out its own storage.
    let offset = 0;
    for (const v of variables) {
      const g = grads[v.name]!.dataSync();
      for (let i = 0; i < g.length; i++) delta[offset + i] = -lr * g[i]!;
      offset += g.length;
    }
    return value.dataSync()[0];
  });
  return { delta, samples: size, trainLoss: finiteOrNull(lossValue) };
}

/**
 * Local training by hand-written minibatch steps: FedProx (μ > 0), and FedAvg counted in steps
 * rather than epochs (μ = 0, `spec.localSteps` > 0). With steps, epochs repeat (reshuffled) until
 * exactly localSteps minibatches are done, and the reported loss is the mean over all of them.
 */
async function fedProxTrain(tf: TF, entry: TrainerCache, task: TrainTask, data: ShardData, mu: number): Promise<RoundOutput> {
  const { spec, weights, shard } = task;
  const optimizer = freshOptimizer(tf, entry, spec);
  const variables = modelVariables(entry.model);
  // The global weights, frozen for the round: the anchor of the proximal term.
  const anchors = mu > 0 ? variables.map((v) => v.clone()) : [];
  const rng = roundRng(weights, shard, 'fedprox');
  const n = data.n;
  const batchSize = Math.min(spec.batchSize, n);
  const steps = spec.localSteps > 0 ? spec.localSteps : Infinity;
  const epochs = steps === Infinity ? spec.localEpochs : Math.ceil((steps * batchSize) / n);
  let stepsDone = 0;
  let lossRows = 0;
  let lastEpochLoss: number | undefined;
  try {
    for (let epoch = 0; epoch < epochs && stepsDone < steps; epoch++) {
      // Steps mode averages the loss over every step; epochs mode over the last epoch, as model.fit reports.
      const last = steps !== Infinity || epoch === epochs - 1;
      // Shuffle once per epoch (one gather), then slice contiguous minibatches, as model.fit does.
      const [xs, ys] = tf.tidy(() => {
        const rows = tf.tensor1d(Int32Array.from(permutation(n, rng)), 'int32');
        return [tf.gather(data.x, rows), tf.gather(data.y, rows)];
      });
      // Sample-weighted sum of the last epoch's data losses, kept on the backend: one read per round.
      let lossSum: tfjs.Scalar | null = null;
      const rowsBefore = lossRows;
      try {
        for (let begin = 0; begin < n && stepsDone < steps; begin += batchSize, stepsDone++) {
          const size = Math.min(batchSize, n - begin);
          if (last) lossRows += size;
          tf.tidy(() => {
            const xb = xs.slice(begin, size); // along the first axis, whatever the rank
            const yb = ys.slice(begin, size);
            let dataLoss: tfjs.Scalar | null = null;
            const { grads } = tf.variableGrads(() => {
              const loss = batchLoss(tf, spec, entry.model, xb, yb);
              if (last) dataLoss = tf.keep(loss);
              return loss;
            }, variables);
            // ∇ of (μ/2)·‖w − w_global‖² is μ·(w − w_global): added in closed form rather than taped.
            if (mu > 0) variables.forEach((v, i) => (grads[v.name] = grads[v.name]!.add(v.sub(anchors[i]!).mul(mu))));
            optimizer.applyGradients(grads);
            if (dataLoss) {
              // Kept tensors escape every tidy: this one is freed by hand once folded in.
              const weighted = (dataLoss as tfjs.Scalar).mul(size) as tfjs.Scalar;
              (dataLoss as tfjs.Scalar).dispose();
              const next: tfjs.Scalar = lossSum ? (lossSum.add(weighted) as tfjs.Scalar) : weighted;
              lossSum?.dispose();
              lossSum = tf.keep(next);
            }
          });
        }
        if (last && lossSum) {
          const sum = (await (lossSum as tfjs.Scalar).data())[0]!;
          // A running mean over the rows whose loss counts (epochs mode: just the last epoch's n).
          lastEpochLoss = ((lastEpochLoss ?? 0) * rowsBefore + sum) / lossRows;
        }
      } finally {
        xs.dispose();
        ys.dispose();
        (lossSum as tfjs.Scalar | null)?.dispose();
      }
    }
  } finally {
    for (const anchor of anchors) anchor.dispose();
  }
  return { delta: deltaFromModel(entry.model, weights), samples: n, trainLoss: finiteOrNull(lastEpochLoss) };
}
