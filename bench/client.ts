/**
 * Client-side overhead: how much slower a headless client's local round is than the bare
 * `model.fit` it wraps. The round is `trainRound` exactly as TrainingClient's `train` runs it
 * (cached model, weight write, fresh optimizer, fit, weight read, delta); the baseline is
 * `model.fit` on the same shard tensors with the same batch size and epochs, in the same process.
 * Repetitions are interleaved (ABBA) so drift and warm-up hit both sides alike; medians reported.
 *
 * `node --import tsx bench/client.ts` prints a table; bench/run.ts imports `benchClient`.
 */
import { pathToFileURL } from 'node:url';
import { DEFAULT_SPEC, countParams, describeLayer, type ModelSpec } from '../server/protocol/spec';
import { datasetSplit, featurize, selectRows, shardIndices } from '../workers/ml/datasets';
import { buildModel, disposeModel, initialWeights, type TF } from '../workers/ml/model';
import { loadNodeTf } from '../workers/ml/node-tf';
import { disposeTrainer, trainRound } from '../workers/ml/train';

export interface BenchClientOptions {
  backend?: 'cpu' | 'wasm';
  spec?: ModelSpec;
  /** This client's shard of the training split, as the server would assign it. */
  shard?: { part: number; parts: number };
  /** Timed repetitions of each side (after `warmup` untimed ones). */
  reps?: number;
  warmup?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Times the client's round path against raw model.fit; milliseconds are medians. */
export async function benchClient(options: BenchClientOptions = {}): Promise<Record<string, number>> {
  const { backend = 'cpu', spec = DEFAULT_SPEC, shard = { part: 0, parts: 2 }, reps = 9, warmup = 3 } = options;
  const tf: TF = await loadNodeTf(backend);
  const { manifest, weights } = initialWeights(tf, spec, 1);

  // The raw side: its own model and the same rows the client's shard holds.
  const train = datasetSplit(spec.dataset).train;
  const rows = selectRows(train, shardIndices(train.y.length, shard.part, shard.parts));
  const n = rows.y.length;
  const x = tf.tensor2d(featurize(rows.x, spec.features), [n, spec.features.length]);
  const y = tf.tensor2d(rows.y, [n, 1]);
  const raw = buildModel(tf, spec, 1);

  const timeRound = async () => {
    const start = performance.now();
    // TrainingClient hands train() a copy of the assigned weights; so do we.
    const result = await trainRound(tf, { spec, manifest, weights: weights.slice(), shard });
    const ms = performance.now() - start;
    if (result.samples !== n) throw new Error(`trainRound trained ${result.samples} samples, expected ${n}`);
    return ms;
  };
  const timeFit = async () => {
    const start = performance.now();
    await raw.fit(x, y, { batchSize: spec.batchSize, epochs: spec.localEpochs, shuffle: true, verbose: 0 });
    return performance.now() - start;
  };

  const roundMs: number[] = [];
  const fitMs: number[] = [];
  try {
    for (let i = 0; i < warmup; i++) {
      await timeRound();
      await timeFit();
    }
    for (let i = 0; i < reps; i++) {
      // ABBA: alternate which side goes first.
      if (i % 2 === 0) {
        roundMs.push(await timeRound());
        fitMs.push(await timeFit());
      } else {
        fitMs.push(await timeFit());
        roundMs.push(await timeRound());
      }
    }
  } finally {
    x.dispose();
    y.dispose();
    disposeModel(raw);
    disposeTrainer();
  }
  const round_ms = median(roundMs);
  const raw_fit_ms = median(fitMs);
  return { overhead_ratio: round_ms / raw_fit_ms, round_ms, raw_fit_ms };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const spec = DEFAULT_SPEC;
  const result = await benchClient();
  console.log(
    `client round vs raw model.fit — ${spec.dataset.name} ${spec.dataset.samples} samples, shard 1/2, ` +
      `batch ${spec.batchSize}, ${spec.localEpochs} epochs, hidden ${spec.layers.map(describeLayer).join(', ')} (${countParams(spec)} params), cpu backend, medians`,
  );
  const rows = Object.entries(result).map(([metric, value]) => [metric, metric.endsWith('_ms') ? value.toFixed(1) : value.toFixed(3)]);
  const width = Math.max(...rows.map(([m]) => m!.length));
  for (const [metric, value] of rows) console.log(`  ${metric!.padEnd(width)}  ${value!.padStart(8)}`);
}
