/**
 * Robust aggregation under attack: 20 % of the clients send their honest update sign-flipped and
 * scaled ×10 (workers/attacks.ts). Held-out accuracy of the attacked run is compared with a clean
 * run of the same spec and seed, for the plain mean, the coordinate-wise trimmed mean and the
 * median. Everything is real: the server, its sockets and database, and headless clients training
 * with TensorFlow.js (in this process, sharing one CPU engine).
 *
 *   node --import tsx bench/robust.ts          prints a table
 *   import { benchRobust } from './bench/robust' returns the numbers (also used by the test)
 */
import { pathToFileURL } from 'node:url';
import type { RoundMetrics, ScalarField } from '../server/protocol';
import { applyAttack } from '../workers/attacks';
import { mulberry32 } from '../workers/ml/random';
import { createShapedProject, observe, participants, type Participant } from '../tests/helpers/clients';
import { api, startTestServer, waitFor } from '../tests/helpers/server';

export type RobustAggregator = 'mean' | 'trimmed_mean' | 'median';

export interface RobustOptions {
  clients?: number;
  /** Fraction of clients that attack (the last ones). */
  hostileFraction?: number;
  attackScale?: number;
  rounds?: number;
  dataset?: 'circle' | 'gauss' | 'xor' | 'spiral';
  /** Final accuracy = mean of the last `tail` rounds' held-out accuracy (smooths round-to-round noise). */
  tail?: number;
  seed?: number;
}

const DEFAULTS: Required<RobustOptions> = { clients: 10, hostileFraction: 0.2, attackScale: 10, rounds: 12, dataset: 'circle', tail: 3, seed: 7 };

/** Held-out accuracy (%) at the end of one run: `attackers` of `clients` sign-flip ×scale. */
export async function robustRun(aggregator: RobustAggregator, attackers: number, options: RobustOptions = {}): Promise<{ accuracy: number; history: RoundMetrics[] }> {
  const o = { ...DEFAULTS, ...options };
  const t = await startTestServer({ roundDeadlineMs: 60_000 });
  let clients: Participant[] = [];
  let watcher: ReturnType<typeof observe> | null = null;
  try {
    const values: Partial<Record<ScalarField, string | number>> = {
      'dataset.name': o.dataset,
      'dataset.seed': o.seed,
      rounds: o.rounds,
      'strategy.aggregator': aggregator,
      // Trim as many from each end as there are attackers, so the trimmed mean can drop them all.
      'strategy.trimBeta': Math.min(0.45, Math.ceil((attackers / o.clients) * 20) / 20 || 0.1),
      'sampling.minClients': o.clients,
      localEpochs: 1,
    };
    const { slug, joinCode, ownerToken } = await createShapedProject(t.url, values, `robust-${aggregator}-${attackers}`);
    const rng = mulberry32(o.seed);
    clients = await participants(t.url, slug, joinCode, o.clients, 'c', {
      wrap: (train, self) => async (task) => {
        const result = await train(task);
        const index = Number(self.name.slice(1));
        if (index > o.clients - attackers && result.samples > 0) return { ...result, delta: applyAttack('signflip', result.delta, o.attackScale, rng) };
        return result;
      },
    });
    watcher = observe(t.url, slug, ownerToken);
    await waitFor(() => watcher!.contributors() >= o.clients, 30_000, 'every client to be ready');
    const started = await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    if (started.status !== 202) throw new Error(`train: ${started.status} ${JSON.stringify(started.body)}`);
    const runId = started.body.runId as string;
    await waitFor(async () => (await t.repo.getRun(runId))?.status === 'finished', o.rounds * 20_000, `run ${runId} to finish`);
    const history = (await t.repo.listCheckpoints(runId)).map((c) => JSON.parse(c.metrics) as RoundMetrics);
    const last = history.slice(-o.tail);
    const accuracy = (100 * last.reduce((s, m) => s + (Number.isFinite(m.accuracy) ? m.accuracy : 0), 0)) / last.length;
    return { accuracy, history };
  } finally {
    for (const c of clients) c.close();
    watcher?.close();
    await t.close();
  }
}

/** Percentage points lost to the attack, per aggregator, on one task. */
async function attackDrops(o: Required<RobustOptions>): Promise<Record<string, number>> {
  const attackers = Math.round(o.clients * o.hostileFraction);
  const clean = await robustRun('mean', 0, o);
  const cleanTrimmed = await robustRun('trimmed_mean', 0, o);
  const mean = await robustRun('mean', attackers, o);
  const trimmed = await robustRun('trimmed_mean', attackers, o);
  const median = await robustRun('median', attackers, o);
  return {
    clean_acc: clean.accuracy,
    clean_trimmed_acc: cleanTrimmed.accuracy,
    acc_drop_mean: clean.accuracy - mean.accuracy,
    acc_drop_trimmed: clean.accuracy - trimmed.accuracy,
    acc_drop_median: clean.accuracy - median.accuracy,
  };
}

/**
 * The benchmark lines. The headline task is the circle (12 rounds, where every clean run
 * converges); the spiral (20 rounds, still learning when it stops) shows the cost of robustness
 * on a task that is not yet converged: trimming also drops honest updates and the attackers
 * shift which ones, which slows learning.
 */
export async function benchRobust(options: RobustOptions = {}): Promise<Record<string, number>> {
  const o = { ...DEFAULTS, ...options };
  const circle = await attackDrops(o);
  const spiral = await attackDrops({ ...o, dataset: 'spiral', rounds: 20 });
  return {
    ...circle,
    ...Object.fromEntries(Object.entries(spiral).map(([k, v]) => [`spiral_${k}`, v])),
    attackers: Math.round(o.clients * o.hostileFraction),
    clients: o.clients,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.env.TEST_LOG_LEVEL ??= 'error';
  const started = Date.now();
  const result = await benchRobust();
  console.table(Object.entries(result).map(([metric, value]) => ({ metric: `robust.${metric}`, value: Number(value.toFixed(2)) })));
  console.log(`took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exit(0);
}
