import type * as tfjs from '@tensorflow/tfjs';
import type { ModelSpec } from '../../server/protocol/spec';
import { manifestSize, type WeightsManifest } from '../../server/protocol/weights';
import { datasetKey, datasetSplit, featurize, selectRows, shardIndices } from './datasets';
import { assertManifestMatches, buildModel, makeOptimizer, readWeights, writeWeights, type Sequential, type TF } from './model';

/** What a client trains in one round: the global weights and its shard of the training split. */
export interface TrainTask {
  spec: ModelSpec;
  manifest: WeightsManifest;
  weights: Float32Array;
  shard: { part: number; parts: number };
}

/** A client's answer for one round: delta = local − global and how many samples it trained on. */
export interface TrainResult {
  delta: Float32Array;
  samples: number;
  /** Mean training loss of the last local epoch; null when nothing was trained or it diverged. */
  trainLoss: number | null;
  computeMs: number;
}

interface ShardTensors {
  n: number;
  x: tfjs.Tensor2D | null;
  y: tfjs.Tensor2D | null;
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
  const layers = spec.layers.map((l) => `${l.units}:${l.activation}`).join(',');
  return `${tf.getBackend()}|${datasetKey(spec.dataset)}|${spec.features.join(',')}|${layers}`;
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

function shardTensors(tf: TF, entry: TrainerCache, spec: ModelSpec, part: number, parts: number): ShardTensors {
  const key = `${part}/${parts}`;
  const hit = entry.shards.get(key);
  if (hit) return hit;
  const train = datasetSplit(spec.dataset).train;
  const rows = selectRows(train, shardIndices(train.y.length, part, parts));
  const n = rows.y.length;
  const f = spec.features.length;
  const shard: ShardTensors =
    n === 0 ? { n, x: null, y: null } : { n, x: tf.tensor2d(featurize(rows.x, spec.features), [n, f]), y: tf.tensor2d(rows.y, [n, 1]) };
  // Participants come and go, so a client may see several shardings; keep only the recent ones.
  if (entry.shards.size >= MAX_CACHED_SHARDS) {
    const [oldestKey, oldest] = entry.shards.entries().next().value!;
    disposeShard(oldest);
    entry.shards.delete(oldestKey);
  }
  entry.shards.set(key, shard);
  return shard;
}

/** One FedAvg client round: train the global weights on this shard, return the delta and sample count. */
export async function trainRound(tf: TF, task: TrainTask): Promise<TrainResult> {
  const start = performance.now();
  const { spec, manifest, weights, shard } = task;
  const entry = trainer(tf, spec);
  const data = shardTensors(tf, entry, spec, shard.part, shard.parts);
  if (data.n === 0 || !data.x || !data.y) {
    assertManifestMatches(entry.model, manifest);
    return { delta: new Float32Array(manifestSize(manifest)), samples: 0, trainLoss: null, computeMs: performance.now() - start };
  }
  writeWeights(tf, entry.model, manifest, weights);
  // A fresh optimizer each round: Adam moments from an earlier round (maybe another shard) would
  // make the update depend on this client's history rather than on the global weights alone.
  entry.optimizer.dispose();
  entry.optimizer = makeOptimizer(tf, spec);
  entry.model.optimizer = entry.optimizer;
  const history = await entry.model.fit(data.x, data.y, {
    batchSize: spec.batchSize,
    epochs: spec.localEpochs,
    shuffle: true, // tfjs shuffles with Math.random: rounds are not bit-reproducible, which FedAvg tolerates
    verbose: 0,
  });
  const delta = readWeights(entry.model).weights;
  for (let i = 0; i < delta.length; i++) delta[i]! -= weights[i]!;
  const losses = history.history.loss ?? [];
  const last = losses[losses.length - 1];
  // NaN/Infinity cannot travel in the protocol's numbers; the non-finite delta tells the server anyway.
  const trainLoss = typeof last === 'number' && Number.isFinite(last) ? last : null;
  return { delta, samples: data.n, trainLoss, computeMs: performance.now() - start };
}
