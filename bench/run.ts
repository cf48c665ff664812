/**
 * `npm run bench`: runs every benchmark, prints one table and writes bench/results/latest.json as
 * nested objects ({"aggregate": {"ratio_vs_raw_pass": …}, …}). Ratios are measured within one run
 * so they hold on a noisy machine. `npm run bench -- aggregate wire` runs a subset.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchAggregate } from './aggregate';
import { benchClient } from './client';
import { benchCollab } from './collab';
import { benchExplain } from './explain';
import { benchLoad } from './load';
import { benchMnist } from './mnist';
import { benchRobust } from './robust';
import { benchRound } from './round';
import { benchServer } from './server';
import { benchWire } from './wire';

/** A metric: a number, or whether something happened (e.g. `mnist.fedsgd_reached`). */
type Metric = number | boolean;

const SUITES: Record<string, () => Promise<Record<string, Metric>>> = {
  aggregate: () => benchAggregate(),
  round: () => benchRound(),
  server: () => benchServer(),
  collab: () => benchCollab(),
  wire: () => benchWire(),
  client: () => benchClient(),
  robust: () => benchRobust(),
  mnist: () => benchMnist(),
  explain: () => benchExplain(),
  load: () => benchLoad(),
};

/** Goals, shown beside their metric in the table. */
const GOALS: Record<string, string> = {
  'aggregate.ratio_vs_raw_pass': '≤ 0.5',
  'aggregate.finalize_ms_50x1M': '≤ 5',
  'round.core_overhead_ms_50_clients': '≤ 5',
  'round.socket_overhead_ms_8_clients': 'small',
  'server.event_loop_p99_ms': '≤ 20',
  'collab.p99_ms_30_clients': '≤ 25',
  'collab.missing': '0',
  'wire.bytes_ratio_fp16': '≤ 0.52',
  'wire.bytes_ratio_int8': '≤ 0.27',
  'wire.acc_drop_fp16_pts': '≤ 1',
  'wire.acc_drop_int8_pts': '≤ 1',
  'client.overhead_ratio': '≤ 1.10',
  'robust.acc_drop_trimmed': '≤ 2',
  'robust.acc_drop_median': '≤ 2',
  'robust.acc_drop_mean': 'large',
  'mnist.rounds_to_90_fedavg': 'fewer than FedSGD',
  'mnist.rounds_to_90_fedsgd': 'cap if not reached',
  'mnist.fedsgd_over_fedavg_rounds': '> 1 (paper: 10–100×)',
  'explain.plane_ms_spiral': '≤ 30 (with drawing)',
  'load.rounds_per_min_100_clients': 'report',
  'load.rss_mb_peak': 'report',
  'load.rss_mb_per_10_rounds': '≈ 0 (bounded)',
  'load.errors': '0',
  'load.edits_applied': '= edits_sent',
  'load.edits_per_s': '200 (20 × 10/s)',
};

const requested = process.argv.slice(2).filter((name) => name in SUITES);
const names = requested.length > 0 ? requested : Object.keys(SUITES);
const results: Record<string, Record<string, Metric>> = {};
for (const name of names) {
  const started = Date.now();
  process.stderr.write(`[bench] ${name}…\n`);
  results[name] = await SUITES[name]!();
  process.stderr.write(`[bench] ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

// `round.socket_overhead_ms_8_clients` and `server.event_loop_p99_ms` are the names the goals use.
if (results.server) {
  const { socket_overhead_ms_8_clients, round_ms_8_clients, ...server } = results.server;
  results.round = { ...results.round, socket_overhead_ms_8_clients: socket_overhead_ms_8_clients!, round_ms_8_clients: round_ms_8_clients! };
  results.server = server;
}

const rows = Object.entries(results).flatMap(([suite, values]) =>
  Object.entries(values).map(([key, value]) => ({
    metric: `${suite}.${key}`,
    value: typeof value === 'boolean' || Number.isInteger(value) ? value : Number(value.toPrecision(4)),
    goal: GOALS[`${suite}.${key}`] ?? '',
  })),
);
console.table(rows);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const report = {
  ...results,
  meta: { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', loadavg: os.loadavg() },
};
writeFileSync(path.join(outDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${path.relative(root, path.join(outDir, 'latest.json'))}`);
process.exit(0);
