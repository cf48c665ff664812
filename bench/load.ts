/**
 * `load.*`: one server process under the load of a busy class. 100 headless training clients
 * (the bots CLI, several processes of 25 clients each, cpu backend) train a 50-round run while 20
 * Yjs editors (real y-websocket clients in this process, each its own member) each make 10 edits
 * a second for the whole run, and a witness (the owner's own Yjs client) watches them arrive.
 *
 * The run: "circle" points, 20 samples per client (80 % train: 16 each, one batch of 32 → one
 * step per round), one local epoch, the default 7 features and 12-8 tanh network (~220
 * parameters): the server's work per round (100 updates in, 100 models out, the round saved) is
 * the same as with a larger model, while 100 × 50 local trainings stay feasible on 2 cores.
 * `sampling.minClients` = the client count, so round 1 waits until every client has joined.
 *
 * Edits, in turn per editor: the learning rate (a live field: the server re-broadcasts the run's
 * state to every training client), the notes text (insert a few characters; delete the oldest
 * once over 400), the dataset noise (not live: stays in the document), the notes again. Every
 * edit inserts at least one Yjs item, so it advances its editor's clock: an editor notes its clock
 * after each edit, and an edit reached the witness when the witness's state vector covers that
 * clock (Yjs advances it only over integrated items). The server refuses unknown roots, so edits
 * stay within the spec and the notes.
 *
 *   rounds_per_min_100_clients  rounds 2..N over the time from round 1's end to round N's end
 *                               (round 1 includes the clients' model compile), server's record
 *   rss_mb_peak / rss_mb_start / rss_mb_end
 *                               the server process's VmRSS (/proc/<pid>/status, every 250 ms):
 *                               the highest, at the start of training, at the last round's end
 *   rss_mb_per_10_rounds        least-squares slope of RSS at each round's end over the last half
 *                               of the rounds, × 10 (bounded memory: ≈ 0)
 *   errors                      server log lines at level error or above, bots' "error" and
 *                               "disconnected" lines (not their own close at the end), a bots
 *                               process exiting non-zero, and editor
 *                               connections closed or failed under us (a refused edit closes one)
 *   client_connect_timeouts     of client_errors: socket.io connect attempts that gave up after
 *                               20 s ("disconnected (timeout)"; the client retries by itself)
 *   min_clients_per_round       fewest clients that reported a round's model (all: = clients)
 *   warnings                    server log lines at level warn (counted apart; listed on stderr)
 *   edits_sent / edits_applied  edits made / edits that reached the witness (should be equal)
 *   edits_per_s                 edits sent per second over the run (goal: editors × 10)
 *   edits_skipped               edit slots skipped because this process was late (see MAX_BURST)
 *   doc_kb_end                  the document's encoded state at the end (the notes stay ≤ 400
 *                               characters; what grows is Yjs's record of past edits)
 *   first_round_s               from the train request to round 1's end (joining, compiling)
 *   server_loop_p99_ms          the server's event-loop delay p99 over the run
 *   bench_loop_p99_ms           this process's (the editors') event-loop delay p99: whether the
 *                               editors kept their pace (they catch up in bursts when late)
 *   wall_s                      the whole bench, setup included
 *
 * Smaller runs: LOAD_CLIENTS, LOAD_ROUNDS, LOAD_EDITORS, LOAD_EDIT_HZ, LOAD_PER_PROCESS.
 * `node --import tsx bench/load.ts` prints a table; bench/run.ts imports `benchLoad`.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import * as Y from 'yjs';
import { createRepository } from '../server/db/prisma-repository';
import { NOTES_TEXT, setScalar } from '../server/protocol/spec-doc';
import { api, waitFor } from '../tests/helpers/server';
import { connectDoc } from '../tests/helpers/yjs';
import { lines, spawnBots, startServerProcess } from './helpers';

const RSS_EVERY_MS = 250;
const NOTES_MAX = 400;
/** The most edits one editor makes at once to catch up (see the edit loop). */
const MAX_BURST = 2;

export interface LoadOptions {
  clients?: number;
  rounds?: number;
  editors?: number;
  /** Edits per second per editor. */
  editHz?: number;
  /** Clients per bots process. */
  perProcess?: number;
}

function envInt(name: string): number | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : Number(value);
}

/** The process's resident set size in MB, or NaN where /proc is not there. */
function rssMbOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** One editor's edit number `seq`: a live field, the notes, a frozen field, the notes. */
function edit(doc: Y.Doc, editor: number, seq: number, rng: () => number): void {
  doc.transact(() => {
    switch (seq % 4) {
      case 0:
        setScalar(doc, 'learningRate', Number((0.01 + rng() * 0.09).toFixed(4)));
        break;
      case 2:
        setScalar(doc, 'dataset.noise', Number((rng() * 0.5).toFixed(3)));
        break;
      default: {
        const notes = doc.getText(NOTES_TEXT);
        notes.insert(Math.floor(rng() * (notes.length + 1)), `e${editor}.${seq} `);
        if (notes.length > NOTES_MAX) notes.delete(0, notes.length - NOTES_MAX);
      }
    }
  });
}

export async function benchLoad(options: LoadOptions = {}): Promise<Record<string, number>> {
  const clients = options.clients ?? envInt('LOAD_CLIENTS') ?? 100;
  const rounds = options.rounds ?? envInt('LOAD_ROUNDS') ?? 50;
  const editors = options.editors ?? envInt('LOAD_EDITORS') ?? 20;
  const editHz = options.editHz ?? envInt('LOAD_EDIT_HZ') ?? 10;
  const perProcess = options.perProcess ?? envInt('LOAD_PER_PROCESS') ?? 25;
  const began = Date.now();
  // y-websocket's providers each add a process 'exit' listener.
  process.setMaxListeners(Math.max(process.getMaxListeners(), editors + 10));

  const server = await startServerProcess();
  const { url, dbUrl } = server;
  const problems: string[] = [];
  let trainAt = 0;
  const problem = (text: string) => {
    if (problems.length < 40) problems.push(`${trainAt ? `${((Date.now() - trainAt) / 1000).toFixed(0)} s` : 'before training'}: ${text}`);
  };
  let serverErrors = 0;
  let warnings = 0;
  lines(server.child, (line) => {
    if (!line.startsWith('{')) return;
    let entry: { level?: number; msg?: string };
    try {
      entry = JSON.parse(line) as { level?: number; msg?: string };
    } catch {
      return;
    }
    if ((entry.level ?? 0) >= 50) {
      serverErrors++;
      problem(`server: ${line.slice(0, 400)}`);
    } else if (entry.level === 40) {
      warnings++;
      if (warnings <= 10) process.stderr.write(`[load] server warning: ${line.slice(0, 300)}\n`);
    }
  });

  const rss: { t: number; mb: number }[] = [];
  const sampler = setInterval(() => rss.push({ t: Date.now(), mb: rssMbOf(server.child.pid!) }), RSS_EVERY_MS);
  const bots: ChildProcess[] = [];
  const docs: Awaited<ReturnType<typeof connectDoc>>[] = [];
  let closing = false;
  try {
    const created = await api(url, 'POST', '/api/projects', { name: 'Bench load' });
    const { slug, joinCode, ownerToken } = created.body as { slug: string; joinCode: string; ownerToken: string };

    // The witness is the owner's own client; it also sets the run up.
    const witness = await connectDoc(url, slug, ownerToken);
    docs.push(witness);
    witness.doc.transact(() => {
      setScalar(witness.doc, 'dataset.name', 'circle');
      setScalar(witness.doc, 'dataset.samples', Math.max(50, clients * 20));
      setScalar(witness.doc, 'localEpochs', 1);
      setScalar(witness.doc, 'batchSize', 32);
      setScalar(witness.doc, 'rounds', rounds);
      setScalar(witness.doc, 'sampling.minClients', clients);
    });
    const check = await connectDoc(url, slug, ownerToken);
    await waitFor(() => check.doc.getMap('spec').get('sampling.minClients') === clients, 5000, 'spec edit');
    check.close();

    // Training clients: several processes, each loading TensorFlow.js while the editors join.
    let clientErrors = 0;
    let connectTimeouts = 0;
    let lastRound = 0;
    const perRound = new Map<number, number>(); // round → clients that reported it
    const processes = Math.ceil(clients / perProcess);
    const exits: Promise<number | null>[] = [];
    for (let p = 0; p < processes; p++) {
      const count = Math.min(perProcess, clients - p * perProcess);
      const child = spawnBots(url, joinCode, count, ['--backend', 'cpu', '--name', `load${p}`], { stderr: 'pipe' });
      bots.push(child);
      lines(child, (line) => {
        const row = JSON.parse(line) as { round: number };
        lastRound = Math.max(lastRound, row.round);
        perRound.set(row.round, (perRound.get(row.round) ?? 0) + 1);
      });
      let buffer = '';
      child.stderr!.on('data', (d: Buffer) => {
        buffer += d.toString();
        let nl;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const text = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          // "io client disconnect" is a bot closing its own socket when the run has ended.
          if (/ error |fatal/.test(text) || (/disconnected/.test(text) && !/io client disconnect/.test(text))) {
            clientErrors++;
            // socket.io's connect attempt gave up after 20 s (it retries on its own).
            if (/disconnected \(timeout\)/.test(text)) connectTimeouts++;
            problem(text);
          }
        }
      });
      exits.push(
        new Promise((resolve) =>
          child.on('exit', (code) => {
            if (code !== 0 && !closing) {
              clientErrors++;
              problem(`bots process ${p} exited with ${code}`);
            }
            resolve(code);
          }),
        ),
      );
    }

    // Editors: one member each, each with its own ticket and document.
    const editorDocs: Awaited<ReturnType<typeof connectDoc>>[] = [];
    for (let i = 0; i < editors; i++) {
      const joined = await api(url, 'POST', '/api/join', { code: joinCode, name: `editor ${i}` });
      if (joined.status !== 200) throw new Error(`join refused: ${joined.status} ${JSON.stringify(joined.body)}`);
      const client = await connectDoc(url, slug, joined.body.memberToken as string);
      client.provider.on('connection-close', (event: { code?: number; reason?: string } | null) => {
        if (closing) return;
        clientErrors++;
        problem(`editor ${i}: connection closed ${event?.code ?? ''} ${event?.reason ?? ''}`);
      });
      client.provider.on('connection-error', () => {
        if (closing) return;
        clientErrors++;
        problem(`editor ${i}: connection error`);
      });
      editorDocs.push(client);
      docs.push(client);
    }

    const started = await api(url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    if (started.status !== 202) throw new Error(`train refused: ${started.status} ${JSON.stringify(started.body)}`);
    const runId = started.body.runId as string;
    await server.loop(); // reset the server's histogram: measure the run only
    trainAt = Date.now();
    process.stderr.write(`[load] training: ${clients} clients in ${processes} processes, ${editors} editors × ${editHz}/s, ${rounds} rounds\n`);

    // Edits at a steady pace until every bots process has exited (the run has ended).
    let running = true;
    const ended = Promise.all(exits).then(() => (running = false));
    let rngState = 12345;
    const rng = () => {
      rngState = (rngState * 1103515245 + 12345) % 2 ** 31;
      return rngState / 2 ** 31;
    };
    const sent = new Array<number>(editors).fill(0);
    const slots = new Array<number>(editors).fill(0); // edit slots passed per editor, made or skipped
    let skipped = 0;
    const clocks: number[][] = editorDocs.map(() => []); // each editor's Yjs clock after each of its edits
    const intervalMs = 1000 / editHz;
    const editsFrom = Date.now();
    let lastEditAt = editsFrom;
    const benchLoop = monitorEventLoopDelay({ resolution: 5 });
    benchLoop.enable();
    let progressAt = 0;
    while (running) {
      const now = Date.now();
      lastEditAt = now;
      for (let i = 0; i < editors; i++) {
        // Editors are spread over the interval. When this process falls behind, an editor makes
        // at most MAX_BURST edits at once and skips the rest: a larger burst would bring back
        // 21 times as many frames to apply here and put it further behind.
        const due = Math.floor((now - editsFrom) / intervalMs + i / editors);
        if (due - slots[i]! > MAX_BURST) {
          skipped += due - slots[i]! - MAX_BURST;
          slots[i] = due - MAX_BURST;
        }
        const { doc } = editorDocs[i]!;
        for (; slots[i]! < due; slots[i]!++) {
          edit(doc, i, sent[i]!++, rng);
          clocks[i]!.push(Y.getState(doc.store, doc.clientID));
        }
      }
      if (now - progressAt > 15_000) {
        progressAt = now;
        process.stderr.write(`[load] ${((now - trainAt) / 1000).toFixed(0)} s: round ${lastRound}/${rounds}, rss ${rss.at(-1)?.mb.toFixed(0)} MB\n`);
      }
      if (now - trainAt > rounds * 60_000 + 120_000) throw new Error(`the run did not end (last round ${lastRound})`);
      await Promise.race([sleep(10), ended]);
    }
    benchLoop.disable();
    const editsSeconds = (lastEditAt - editsFrom) / 1000;
    const serverLoop = await server.loop();
    const editsSent = sent.reduce((a, b) => a + b, 0);
    const applied = () =>
      editorDocs.reduce((sum, { doc }, i) => {
        const reached = Y.getState(witness.doc.store, doc.clientID);
        return sum + clocks[i]!.filter((clock) => clock <= reached).length;
      }, 0);
    await waitFor(() => applied() >= editsSent, 10_000, 'every edit at the witness').catch(() => undefined);
    const editsApplied = applied();

    const repo = await createRepository(dbUrl);
    const stored = (await repo.listRounds(runId)).slice().sort((a, b) => a.number - b.number);
    await repo.close();
    if (stored.length < 2) throw new Error(`only ${stored.length} rounds stored`);
    const first = stored[0]!;
    const last = stored.at(-1)!;
    const minutes = (last.finishedAt.getTime() - first.finishedAt.getTime()) / 60_000;
    const rssAt = (t: number) => rss.reduce((best, s) => (Math.abs(s.t - t) < Math.abs(best.t - t) ? s : best), rss[0]!).mb;
    const secondHalf = stored.filter((r) => r.number > stored.length / 2);
    const rssPerRound = slope(
      secondHalf.map((r) => r.number),
      secondHalf.map((r) => rssAt(r.finishedAt.getTime())),
    );
    for (const text of problems) process.stderr.write(`[load] problem: ${text}\n`);
    return {
      rounds_per_min_100_clients: (stored.length - 1) / minutes,
      rounds: stored.length,
      clients,
      rss_mb_peak: Math.max(...rss.map((s) => s.mb)),
      rss_mb_start: rssAt(trainAt),
      rss_mb_end: rssAt(last.finishedAt.getTime()),
      rss_mb_per_10_rounds: rssPerRound * 10,
      first_round_s: (first.finishedAt.getTime() - trainAt) / 1000,
      errors: serverErrors + clientErrors,
      server_errors: serverErrors,
      client_errors: clientErrors,
      client_connect_timeouts: connectTimeouts,
      min_clients_per_round: Math.min(...stored.map((r) => perRound.get(r.number) ?? 0)),
      warnings,
      edits_sent: editsSent,
      edits_applied: editsApplied,
      edits_per_s: editsSent / editsSeconds,
      edits_skipped: skipped,
      doc_kb_end: Y.encodeStateAsUpdate(witness.doc).length / 1024,
      server_loop_p99_ms: serverLoop.p99,
      bench_loop_p99_ms: benchLoop.percentile(99) / 1e6,
      wall_s: (Date.now() - began) / 1000,
    };
  } finally {
    closing = true;
    clearInterval(sampler);
    for (const client of docs) client.close();
    for (const child of bots) child.kill('SIGKILL');
    server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = await benchLoad();
  console.table(Object.entries(results).map(([metric, value]) => ({ metric, value: Number.isInteger(value) ? value : Number(value.toFixed(2)) })));
  process.exit(0);
}
