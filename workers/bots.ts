/**
 * `npm run bots -- --url URL --code CODE --count N [options]`
 * Joins N headless clients that train like browsers. stdout: one JSON line per client per round
 * it took part in ({"client","runId","round","loss","accuracy","ms"}); logs on stderr. Exits 0
 * when the run ends, 1 on errors, 2 on bad arguments.
 *
 * Misbehaviour for robustness experiments (all per client, reproducible with --seed):
 *   --delay-ms N | MIN-MAX   straggler: wait after training, before sending the update
 *   --drop-prob P            per assigned round, leave mid-round (after training, before sending)
 *                            with probability P, rejoin 300–1000 ms later as a new client
 *   --attack signflip|scale|noise [--attack-scale S] [--attackers K]
 *                            the last K clients (default: all) send −S·delta, S·delta or
 *                            N(0, S²) noise instead of their delta (S defaults to 10)
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { loadNodeTf } from './ml/node-tf';
import { ensureBackendFor } from './ml/backend';
import { trainRound } from './ml/train';
import { ensureMnistRegistered } from '../server/data/mnist';
import { deriveSeed, mulberry32, type Rng } from './ml/random';
import { ATTACKS, DEFAULT_ATTACK_SCALE, applyAttack, isHostile, type AttackKind } from './attacks';
import { connectHeadless, joinProject, serialize } from './headless';
import type { TrainingClient, TrainResult, TrainTask } from './client';

const MAX_DELAY_MS = 600_000;
const REJOIN_MIN_MS = 300;
const REJOIN_MAX_MS = 1000;

const USAGE = `usage: npm run bots -- --code CODE [--url URL] [--count N] [--name PREFIX] [--backend cpu|wasm]
                   [--delay-ms N|MIN-MAX] [--drop-prob P] [--seed N]
                   [--attack signflip|scale|noise] [--attack-scale S] [--attackers K]`;

/** "500" or "200-2000" (milliseconds) → an inclusive range. */
const delayRange = z.string().transform((text, ctx) => {
  const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(text);
  if (!match) {
    ctx.addIssue({ code: 'custom', message: `expected N or MIN-MAX in milliseconds (e.g. 500 or 200-2000), got "${text}"` });
    return z.NEVER;
  }
  const min = Number(match[1]);
  const max = Number(match[2] ?? match[1]);
  if (min > max) ctx.addIssue({ code: 'custom', message: `MIN must not exceed MAX (got ${min}-${max})` });
  if (max > MAX_DELAY_MS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_DELAY_MS} ms` });
  return { min, max };
});

/** A decimal number string (parseArgs yields strings; z.coerce would take "" as 0). */
const numeric = z.string().trim().regex(/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i, 'expected a number').transform(Number);

const argsSchema = z
  .object({
    url: z.url(),
    code: z.string({ error: 'is required (the project join code)' }).min(4),
    count: numeric.pipe(z.number().int().min(1).max(500)),
    backend: z.enum(['cpu', 'wasm']),
    name: z.string().min(1).max(30),
    'delay-ms': delayRange,
    'drop-prob': numeric.pipe(z.number().min(0).max(1)),
    seed: numeric.pipe(z.number().int().min(0).max(2 ** 32 - 1)).optional(),
    attack: z.enum(ATTACKS).optional(),
    'attack-scale': numeric.pipe(z.number().positive().max(1e6)).optional(),
    attackers: numeric.pipe(z.number().int().min(0).max(500)).optional(),
  })
  .superRefine((a, ctx) => {
    if (!a.attack) {
      for (const key of ['attack-scale', 'attackers'] as const) {
        if (a[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'only applies together with --attack' });
      }
    } else if (a.attackers !== undefined && a.attackers > a.count) {
      ctx.addIssue({ code: 'custom', path: ['attackers'], message: `cannot exceed --count (${a.count})` });
    }
  });
type Args = z.infer<typeof argsSchema>;

function log(message: string): void {
  process.stderr.write(`[bots] ${message}\n`);
}

/** Reads and validates argv: the arguments, or the problems to print. */
function readArgs(argv: string[]): { ok: true; args: Args } | { ok: false; problems: string[] } {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string', default: 'http://localhost:3000' },
        code: { type: 'string' },
        count: { type: 'string', default: '1' },
        backend: { type: 'string', default: 'cpu' },
        name: { type: 'string', default: 'bot' },
        'delay-ms': { type: 'string', default: '0' },
        'drop-prob': { type: 'string', default: '0' },
        seed: { type: 'string' },
        attack: { type: 'string' },
        'attack-scale': { type: 'string' },
        attackers: { type: 'string' },
      },
    }));
  } catch (error) {
    return { ok: false, problems: [error instanceof Error ? error.message : String(error)] };
  }
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`) };
  return { ok: true, args: parsed.data };
}

/** How one client misbehaves, with its own seeded random streams. */
interface Behaviour {
  delay: { min: number; max: number };
  dropProb: number;
  attack: { kind: AttackKind; scale: number } | null;
  rng: { delay: Rng; drop: Rng; rejoin: Rng; attack: Rng };
}

function behaviourOf(args: Args, seed: number, index: number, clientName: string): Behaviour {
  const attackers = args.attackers ?? args.count;
  const stream = (label: string) => mulberry32(deriveSeed(seed, `${clientName}:${label}`));
  return {
    delay: args['delay-ms'],
    dropProb: args['drop-prob'],
    attack: args.attack && isHostile(index, args.count, attackers) ? { kind: args.attack, scale: args['attack-scale'] ?? DEFAULT_ATTACK_SCALE } : null,
    rng: { delay: stream('delay'), drop: stream('drop'), rejoin: stream('rejoin'), attack: stream('attack') },
  };
}

function uniformInt(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

/** One bot: joins, trains every assignment (with its misbehaviour), and reports rounds on stdout. */
function runBot(
  args: Args,
  clientName: string,
  behaviour: Behaviour,
  train: (task: TrainTask) => Promise<TrainResult>,
  finish: (code: number) => void,
): void {
  let done = false;
  let client: TrainingClient | null = null;
  let rejoinTimer: NodeJS.Timeout | null = null;
  const end = (code: number) => {
    if (done) return;
    done = true;
    if (rejoinTimer) clearTimeout(rejoinTimer);
    client?.close();
    finish(code);
  };

  /** The assignment being trained: set by the 'assign' event, which fires right before train() is called. */
  let assignment: { runId: string; round: number; drop: boolean } | null = null;

  const misbehavingTrain = async (task: TrainTask): Promise<TrainResult> => {
    const current = assignment;
    assignment = null;
    const result = await train(task);
    if (result.samples < 1 || !client) return result;
    if (current?.drop) {
      // Leave mid-round: the TrainingClient sends nothing on a disconnected socket; the server
      // drops us from the round's pending set. Rejoin later as a new client (fresh socket id).
      const pause = uniformInt(behaviour.rng.rejoin, REJOIN_MIN_MS, REJOIN_MAX_MS);
      log(`${clientName}: dropping out of round ${current.round} after training; rejoining in ${pause} ms`);
      client.socket.disconnect();
      rejoinTimer = setTimeout(() => {
        rejoinTimer = null;
        if (!done) client?.socket.connect();
      }, pause);
      return result;
    }
    const delayMs = uniformInt(behaviour.rng.delay, behaviour.delay.min, behaviour.delay.max);
    if (delayMs > 0) await sleep(delayMs);
    if (!behaviour.attack) return result;
    return { ...result, delta: applyAttack(behaviour.attack.kind, result.delta, behaviour.attack.scale, behaviour.rng.attack) };
  };

  void joinProject(args.url, args.code, clientName).then(
    ({ slug, token }) => {
      if (done) return;
      const c = connectHeadless({ url: args.url, slug, token, backend: args.backend, train: misbehavingTrain });
      client = c;
      const trained = new Map<string, TrainResult>();
      let seenRunId: string | null = null;
      c.on('connection', ({ connected, reason }) => log(`${clientName} ${connected ? 'connected' : `disconnected (${reason ?? 'unknown'})`}`));
      c.on('assign', ({ runId, round }) => {
        trained.delete(`${runId}:${round}`); // a re-run round replaces an earlier attempt
        assignment = { runId, round, drop: behaviour.dropProb > 0 && behaviour.rng.drop() < behaviour.dropProb };
      });
      c.on('trained', ({ runId, round, result }) => {
        // Mirrors TrainingClient: nothing is sent without samples or without a connection.
        if (result.samples < 1 || !c.socket.connected) return;
        trained.set(`${runId}:${round}`, result);
      });
      c.on('model', ({ runId, metrics }) => {
        const key = `${runId}:${metrics.round}`;
        const mine = trained.get(key);
        // A straggler's late results (rounds already closed) never get a model: forget them.
        for (const [k] of trained) if (k !== key && k.startsWith(`${runId}:`) && Number(k.slice(runId.length + 1)) < metrics.round) trained.delete(k);
        if (!mine) return;
        trained.delete(key);
        process.stdout.write(
          `${JSON.stringify({ client: clientName, runId, round: metrics.round, loss: metrics.loss, accuracy: metrics.accuracy, ms: Math.round(mine.computeMs) })}\n`,
        );
      });
      c.on('state', ({ run }) => {
        if (!run) return;
        if (run.status === 'waiting' || run.status === 'training') seenRunId = run.runId;
        else if (run.runId === seenRunId) {
          log(`${clientName}: run ${run.runId} ${run.status}`);
          end(run.status === 'finished' ? 0 : 1);
        }
      });
      c.on('error', ({ code, message }) => {
        log(`${clientName} error ${code}: ${message}`);
        if (code === 'protocol_version' || code === 'unauthorized') end(1);
      });
    },
    (error: unknown) => {
      log(`${clientName}: ${String(error instanceof Error ? error.message : error)}`);
      end(1);
    },
  );
}

async function main(): Promise<number> {
  const read = readArgs(process.argv.slice(2));
  if (!read.ok) {
    log(`bad arguments: ${read.problems.join('; ')}`);
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const args = read.args;
  const seed = args.seed ?? Math.floor(Math.random() * 2 ** 32);
  if (args.seed === undefined && (args['drop-prob'] > 0 || args['delay-ms'].min !== args['delay-ms'].max || args.attack === 'noise')) {
    log(`seed ${seed} (pass --seed ${seed} to repeat these random choices)`);
  }
  const tf = await loadNodeTf(args.backend);
  // Clients of one process share one TensorFlow.js engine: train one at a time. Delays and
  // attacks wrap this from outside, so a straggler's wait never blocks the others.
  const train = serialize(async (task: TrainTask) => {
    if (task.spec.dataset.name === 'mnist') await ensureMnistRegistered();
    await ensureBackendFor(tf, task.spec);
    return trainRound(tf, task);
  });

  return new Promise<number>((resolve) => {
    let running = args.count;
    let failed = false;
    const finish = (code: number) => {
      failed ||= code !== 0;
      if (--running === 0) resolve(failed ? 1 : 0);
    };
    for (let i = 1; i <= args.count; i++) {
      const clientName = `${args.name}-${i}`;
      const behaviour = behaviourOf(args, seed, i, clientName);
      if (behaviour.attack) log(`${clientName} is hostile: ${behaviour.attack.kind} (S=${behaviour.attack.scale})`);
      runBot(args, clientName, behaviour, train, finish);
    }
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`fatal: ${String(error)}`);
    process.exit(1);
  },
);
