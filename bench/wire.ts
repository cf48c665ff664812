/**
 * Wire-encoding benchmark: what float16 and int8 weights/updates save in bytes, what they cost in
 * held-out accuracy, and how fast 1M-parameter vectors decode.
 *
 *   node --import tsx bench/wire.ts          prints a table
 *   import { benchWire } from './bench/wire' returns the numbers
 *
 * Accuracy: in-process FedAvg on DEFAULT_SPEC (spiral), 4 clients, 30 rounds, run three times from
 * the same seed. In the quantised runs both directions travel encoded, as on the wire: the global
 * weights each client starts from (server → client) and every client's delta (client → server) go
 * through encode → decode. The server keeps its float32 master weights. tfjs shuffles batches with
 * Math.random, so Math.random is replaced by a seeded PRNG for each run and restored afterwards.
 */
import { pathToFileURL } from 'node:url';
import { decodeVector, encodeVector, encodedByteLength, type VectorEncoding } from '../server/protocol/codec';
import { DEFAULT_SPEC, type ModelSpec } from '../server/protocol/spec';
import { manifestSize, type WeightsManifest } from '../server/protocol/weights';
import { WeightedMeanAccumulator, applyDelta } from '../workers/ml/aggregate';
import { disposeEvaluator, evaluate } from '../workers/ml/evaluate';
import { initialWeights, type TF } from '../workers/ml/model';
import { loadNodeTf } from '../workers/ml/node-tf';
import { mulberry32 } from '../workers/ml/random';
import { disposeTrainer, trainRound } from '../workers/ml/train';

export interface BenchWireOptions {
  rounds?: number;
  clients?: number;
  seed?: number;
  spec?: ModelSpec;
}

/** encode → decode, as the receiving side sees it; throws if the codec rejects its own output. */
function overTheWire(values: Float32Array, manifest: WeightsManifest, encoding: VectorEncoding): Float32Array {
  const result = decodeVector(encodeVector(values, manifest, encoding), manifest, encoding);
  if (!result.ok) throw new Error(`${encoding} round trip failed: ${result.reason}`);
  // float32 decodes as a view over the input: copy so the caller owns its buffer, like a real socket frame.
  return encoding === 'float32' ? result.values.slice() : result.values;
}

/** Held-out accuracy after each round of a FedAvg run whose vectors travel in `encoding`. */
async function fedAvgRun(tf: TF, spec: ModelSpec, encoding: VectorEncoding, rounds: number, clients: number, seed: number): Promise<number[]> {
  const savedRandom = Math.random;
  Math.random = mulberry32(seed);
  // Fresh caches: each run builds its models at the same point of the random stream.
  disposeTrainer();
  disposeEvaluator();
  try {
    const init = initialWeights(tf, spec, spec.dataset.seed);
    const manifest = init.manifest;
    let weights = init.weights;
    const accuracies: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const sent = overTheWire(weights, manifest, encoding); // server → client (assign)
      const acc = new WeightedMeanAccumulator(weights.length);
      for (let part = 0; part < clients; part++) {
        const result = await trainRound(tf, { spec, manifest, weights: sent.slice(), shard: { part, parts: clients } });
        acc.add(overTheWire(result.delta, manifest, encoding), result.samples); // client → server (update)
      }
      weights = applyDelta(weights, acc.finalize());
      accuracies.push((await evaluate(tf, spec, manifest, weights)).accuracy);
    }
    return accuracies;
  } finally {
    Math.random = savedRandom;
    disposeTrainer();
    disposeEvaluator();
  }
}

/** Median milliseconds of `fn` over `reps` runs, after two warm-up calls. */
function medianMs(fn: () => unknown, reps = 15): number {
  fn();
  fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(reps / 2)]!;
}

/** Decode (and encode) timings of a 1,000,000-parameter vector shaped like a dense layer. */
function codecTimings(): Record<string, number> {
  const manifest: WeightsManifest = [
    { name: 'h0/kernel', shape: [999, 1000] },
    { name: 'h0/bias', shape: [1000] },
  ];
  const n = manifestSize(manifest);
  const rng = mulberry32(7);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = (rng() - 0.5) * 0.02; // update-sized numbers
  const out: Record<string, number> = {};
  const short = { float32: 'fp32', float16: 'fp16', int8: 'int8' } as const;
  for (const encoding of ['float32', 'float16', 'int8'] as const) {
    const bytes = encodeVector(values, manifest, encoding);
    out[`bytes_ratio_1M_${short[encoding]}`] = bytes.byteLength / (4 * n);
    out[`encode_ms_1M_${short[encoding]}`] = medianMs(() => encodeVector(values, manifest, encoding), 7);
    out[`decode_ms_1M_${short[encoding]}`] = medianMs(() => {
      if (!decodeVector(bytes, manifest, encoding).ok) throw new Error(`${encoding} failed to decode`);
    });
  }
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Runs the benchmark. Keys: bytes_ratio_fp16, bytes_ratio_int8 (encoded ÷ float32 bytes for the
 * spec's model), acc_drop_fp16_pts, acc_drop_int8_pts (final held-out accuracy, float32 minus
 * quantised, in percentage points; negative = the quantised run ended higher), decode_ms_1M_fp16,
 * decode_ms_1M_int8 (median), plus extras: the 1M-vector ratios, float32 decode and encode times,
 * final accuracies, drops averaged over the last 5 rounds, and the wall time.
 */
export async function benchWire(options: BenchWireOptions = {}): Promise<Record<string, number>> {
  const started = performance.now();
  const spec = options.spec ?? DEFAULT_SPEC;
  const rounds = options.rounds ?? 30;
  const clients = options.clients ?? 4;
  const seed = options.seed ?? 2024;
  const tf = await loadNodeTf('cpu');

  const { manifest } = initialWeights(tf, spec, spec.dataset.seed);
  const params = manifestSize(manifest);
  const timings = codecTimings();

  const runs = {} as Record<VectorEncoding, number[]>;
  for (const encoding of ['float32', 'float16', 'int8'] as const) runs[encoding] = await fedAvgRun(tf, spec, encoding, rounds, clients, seed);
  const final = (e: VectorEncoding) => runs[e][rounds - 1]!;
  const last5 = (e: VectorEncoding) => mean(runs[e].slice(-5));
  const pts = (x: number) => Math.round(x * 100 * 1000) / 1000;

  return {
    params,
    bytes_ratio_fp16: encodedByteLength(manifest, 'float16') / (4 * params),
    bytes_ratio_int8: encodedByteLength(manifest, 'int8') / (4 * params),
    acc_drop_fp16_pts: pts(final('float32') - final('float16')),
    acc_drop_int8_pts: pts(final('float32') - final('int8')),
    decode_ms_1M_fp16: timings.decode_ms_1M_fp16!,
    decode_ms_1M_int8: timings.decode_ms_1M_int8!,
    ...timings,
    acc_fp32: final('float32'),
    acc_fp16: final('float16'),
    acc_int8: final('int8'),
    acc_drop_fp16_pts_last5: pts(last5('float32') - last5('float16')),
    acc_drop_int8_pts_last5: pts(last5('float32') - last5('int8')),
    rounds,
    wall_s: (performance.now() - started) / 1000,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await benchWire();
  const width = Math.max(...Object.keys(result).map((k) => k.length));
  for (const [key, value] of Object.entries(result)) {
    const shown = Number.isInteger(value) ? String(value) : Math.abs(value) >= 100 ? value.toFixed(1) : value.toPrecision(4);
    console.log(`${key.padEnd(width)}  ${shown}`);
  }
}
