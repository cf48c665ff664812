/**
 * Aggregation speed on the server's hot path: 50 client updates × 1M float32 parameters.
 *
 *   ratio_vs_raw_pass   ours_ms ÷ raw_pass_ms (goal ≤ 0.5)
 *   raw_pass_ms         the plain JS loop `acc[i] += w * u[i]` over the updates as Float32Arrays
 *   ours_ms             WeightedMeanAccumulator (float64 sum, wasm SIMD) fed the received byte
 *                       buffers — Node Buffers as socket.io delivers them, so every copy counts
 *                       (one accumulator, emptied with reset() before each pass, as the coordinator
 *                       reuses it round after round)
 *   finalize_ms_50x1M   from the last update to new global weights: the mean (sum × 1/W) streamed
 *                       into a plain server step (FedAvg) (goal ≤ 5 ms); finalize_adam_ms_50x1M
 *                       the same with FedAdam; finalize_materialised_ms_50x1M plain again, but via
 *                       a finalize()d Δ array
 *   median_ms_50x1M, trimmed_ms_50x1M   the robust aggregators (β = 0.1), adds + finalize
 *
 * Raw and ours alternate, several times, and each figure is the median. Run alone with
 * `node --import tsx bench/aggregate.ts`; bench/run.ts imports benchAggregate().
 */
import { pathToFileURL } from 'node:url';
import { MedianAggregator, ServerOptimizer, TrimmedMeanAggregator } from '../server/training/aggregation';
import { WeightedMeanAccumulator } from '../workers/ml/aggregate';
import { mulberry32 } from '../workers/ml/random';

const UPDATES = 50;
const PARAMS = 1 << 20;

/** Median of the samples (upper median for an even count). */
function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

function time(run: () => void): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

interface Round {
  buffers: Buffer[];
  floats: Float32Array[];
  weights: number[];
}

/**
 * Updates as received: each in its own Buffer, 4-byte aligned but off the page start like a
 * slice of a socket frame; `floats` are views of the same bytes for the JS baseline.
 */
function makeRound(): Round {
  const rng = mulberry32(2024);
  const buffers: Buffer[] = [];
  const floats: Float32Array[] = [];
  for (let k = 0; k < UPDATES; k++) {
    const buffer = Buffer.allocUnsafeSlow(PARAMS * 4 + 64).subarray(8 * (k % 8) + 8, 8 * (k % 8) + 8 + PARAMS * 4);
    const view = new Float32Array(buffer.buffer, buffer.byteOffset, PARAMS);
    for (let i = 0; i < PARAMS; i++) view[i] = (rng() - 0.5) * 0.02;
    buffers.push(buffer);
    floats.push(view);
  }
  return { buffers, floats, weights: Array.from({ length: UPDATES }, (_, k) => 100 + 7 * k) };
}

/** The baseline: one plain JS pass per update into a float32 accumulator. */
function rawPass(round: Round, acc: Float32Array): void {
  acc.fill(0);
  for (let k = 0; k < UPDATES; k++) {
    const u = round.floats[k]!;
    const w = round.weights[k]!;
    for (let i = 0; i < acc.length; i++) acc[i]! += w * u[i]!;
  }
}

/** Ours, as the coordinator runs it: one accumulator per run, reset each round (like rawPass's fill). */
function ours(round: Round, acc: WeightedMeanAccumulator): WeightedMeanAccumulator {
  acc.reset();
  for (let k = 0; k < UPDATES; k++) acc.addBytes(round.buffers[k]!, round.weights[k]!);
  return acc;
}

function robust(round: Round, make: () => MedianAggregator | TrimmedMeanAggregator): { add: number; finalize: number } {
  const agg = make();
  const add = time(() => round.floats.forEach((u, k) => agg.add(u, round.weights[k]!)));
  return { add, finalize: time(() => agg.finalize()) };
}

/** Measures everything in one run; returns the figures bench/run.ts records under "aggregate". */
export async function benchAggregate(options: { reps?: number; robustReps?: number } = {}): Promise<Record<string, number>> {
  const reps = options.reps ?? 7;
  const robustReps = options.robustReps ?? 3;
  const round = makeRound();
  const rawAcc = new Float32Array(PARAMS);

  // Warm up both paths (JIT, wasm tier-up) before timing.
  rawPass(round, rawAcc);
  const acc = ours(round, new WeightedMeanAccumulator(PARAMS));
  const raw: number[] = [];
  const fast: number[] = [];
  for (let r = 0; r < reps; r++) {
    raw.push(time(() => rawPass(round, rawAcc)));
    fast.push(time(() => ours(round, acc)));
  }

  const weights = new Float32Array(PARAMS).fill(0.05);
  // Streamed: the optimizer pulls the mean from the accumulator chunk by chunk. Materialised:
  // finalize() to a Δ array first, then step — what a caller that needs Δ itself pays.
  const plain = new ServerOptimizer({ kind: 'plain' }, PARAMS);
  const adam = new ServerOptimizer({ kind: 'adam' }, PARAMS);
  const finalizers = {
    plain: () => plain.step(weights, acc),
    adam: () => adam.step(weights, acc),
    materialised: () => plain.step(weights, acc.finalize()),
  };
  const finalizeSamples = { plain: [] as number[], adam: [] as number[], materialised: [] as number[] };
  for (let r = 0; r < 3; r++) Object.values(finalizers).forEach((run) => run()); // warm-up, wasm tier-up
  for (let r = 0; r < reps * 2; r++) {
    for (const key of ['plain', 'adam', 'materialised'] as const) finalizeSamples[key].push(time(finalizers[key]));
  }
  const finalizePlain = median(finalizeSamples.plain);
  const finalizeAdam = median(finalizeSamples.adam);
  const finalizeMaterialised = median(finalizeSamples.materialised);

  const medianRuns: { add: number; finalize: number }[] = [];
  const trimmedRuns: { add: number; finalize: number }[] = [];
  for (let r = 0; r < robustReps; r++) {
    medianRuns.push(robust(round, () => new MedianAggregator(PARAMS)));
    trimmedRuns.push(robust(round, () => new TrimmedMeanAggregator(PARAMS, 0.1)));
  }

  const rawMs = median(raw);
  const oursMs = median(fast);
  return {
    ratio_vs_raw_pass: oursMs / rawMs,
    finalize_ms_50x1M: finalizePlain,
    raw_pass_ms: rawMs,
    ours_ms: oursMs,
    median_ms_50x1M: median(medianRuns.map((m) => m.add + m.finalize)),
    trimmed_ms_50x1M: median(trimmedRuns.map((m) => m.add + m.finalize)),
    finalize_adam_ms_50x1M: finalizeAdam,
    finalize_materialised_ms_50x1M: finalizeMaterialised,
    median_finalize_ms_50x1M: median(medianRuns.map((m) => m.finalize)),
    trimmed_finalize_ms_50x1M: median(trimmedRuns.map((m) => m.finalize)),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await benchAggregate();
  const goals: Record<string, string> = { ratio_vs_raw_pass: '≤ 0.5', finalize_ms_50x1M: '≤ 5' };
  console.table(Object.entries(results).map(([metric, value]) => ({ metric, value: Number(value.toFixed(3)), goal: goals[metric] ?? '' })));
}
