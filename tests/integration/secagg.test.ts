import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestServer, waitFor, type TestServer } from '../helpers/server';
import { createShapedProject, joinMember, observe, participant, rawClient, type Participant } from '../helpers/clients';
import { connectDoc } from '../helpers/yjs';
import { readLayers, readScalar, readSpec, setScalar, updateLayer } from '../../server/protocol/spec-doc';
import { MESSAGE_EVENT, type ModelMessage, type ServerMessage } from '../../server/protocol';
import { SECAGG_EXTRAS } from '../../workers/ml/secagg';
import { clipToNorm, l2Norm } from '../../workers/ml/dp';
import { correlation } from '../helpers/stats';

process.env.TEST_LOG_LEVEL ??= 'error';

const SECAGG = { 'privacy.secureAggregation': 'on', 'dataset.samples': 300, localEpochs: 1 } as const;

/** Widens the two hidden layers so an update has ~18,000 values (enough to measure a correlation to ±0.01). */
async function widen(url: string, slug: string, token: string): Promise<void> {
  const editor = await connectDoc(url, slug, token);
  const [first, second] = readLayers(editor.doc);
  updateLayer(editor.doc, first!.id, { units: 256 });
  updateLayer(editor.doc, second!.id, { units: 64 });
  const witness = await connectDoc(url, slug, token);
  try {
    await waitFor(() => readSpec(witness.doc).spec?.layers.map((l) => (l.type === 'dense' ? l.units : 0)).join() === '256,64', 10_000, 'wide layers to reach the server');
  } finally {
    witness.close();
    editor.close();
  }
}

/** What one participant trained and what it put on the wire, per round. */
interface Seen {
  trained: Map<number, { delta: Float32Array; samples: number }>;
  /** Every secagg_masked frame it sent, as the server receives it (u32 values). */
  masked: Map<number, Uint32Array>;
  scaleBits: Map<number, number>;
  /** Types of every message it sent. */
  sent: string[];
  model: Map<number, Float32Array>;
  assigned: Map<number, Float32Array>;
}

function watch(p: Participant): Seen {
  const seen: Seen = { trained: new Map(), masked: new Map(), scaleBits: new Map(), sent: [], model: new Map(), assigned: new Map() };
  p.client.on('trained', ({ round, result }) => seen.trained.set(round, { delta: result.delta.slice(), samples: result.samples }));
  p.client.on('global', (g) => seen.assigned.set(g.round, g.weights.slice()));
  p.client.on('model', (m: ModelMessage & { weightsF32: Float32Array }) => seen.model.set(m.metrics.round, m.weightsF32.slice()));
  p.client.socket.on(MESSAGE_EVENT, (m: ServerMessage) => {
    if (m.type === 'secagg_roster') seen.scaleBits.set(m.round, m.scaleBits);
  });
  p.client.socket.onAnyOutgoing((_event, message: { type: string; round?: number; masked?: Uint8Array }) => {
    seen.sent.push(message.type);
    if (message.type === 'secagg_masked') {
      const bytes = new Uint8Array(message.masked!);
      seen.masked.set(message.round!, new Uint32Array(bytes.slice().buffer));
    }
  });
  return seen;
}

/** The model after a round of plain FedAvg (server learning rate 1) over these clients' deltas. */
function plainFedAvg(start: Float32Array, parts: { delta: Float32Array; samples: number }[]): Float64Array {
  const total = parts.reduce((s, p) => s + p.samples, 0);
  return Float64Array.from(start, (w, i) => w + parts.reduce((s, p) => s + p.samples * p.delta[i]!, 0) / total);
}

function maxGap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let gap = 0;
  for (let i = 0; i < a.length; i++) gap = Math.max(gap, Math.abs(a[i]! - b[i]!));
  return gap;
}

describe('secure aggregation through the real server', () => {
  const open: { close(): void }[] = [];
  const servers: TestServer[] = [];
  after(async () => {
    for (const o of open) o.close();
    for (const s of servers) await s.close();
  });

  test('no masked update the server receives is readable, yet the opened sum is plain FedAvg of the same deltas within the fixed-point step', { timeout: 180_000 }, async () => {
    const server = await startTestServer();
    servers.push(server);
    const { slug, joinCode, ownerToken } = await createShapedProject(server.url, { ...SECAGG, rounds: 2, 'sampling.minClients': 3 }, 'SecAgg');
    await widen(server.url, slug, ownerToken);
    const watcher = observe(server.url, slug, ownerToken);
    open.push(watcher);
    const clients: Participant[] = [];
    const seen: Seen[] = [];
    for (const name of ['ada', 'bo', 'cy']) {
      const p = await participant(server.url, slug, await joinMember(server.url, joinCode, name), name);
      clients.push(p);
      open.push(p);
      seen.push(watch(p));
    }
    await waitFor(() => watcher.contributors() === 3, 20_000, 'three contributors');
    const started = await api(server.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const runId = started.body.runId as string;

    // A plain update in a secure aggregation run is refused before anything reads it.
    const raw = rawClient(server.url, { slug, token: ownerToken });
    open.push(raw);
    raw.hello(false);
    await raw.next((m) => m.type === 'welcome');
    raw.send({ type: 'update', runId, round: 1, samples: 10, computeMs: 1, trainLoss: 0.1, encoding: 'float32', delta: new Uint8Array(4) });
    const refused = await raw.next<Extract<ServerMessage, { type: 'error' }>>((m) => m.type === 'error');
    assert.equal(refused.code, 'bad_update');
    assert.match(refused.message, /secure aggregation/);

    await waitFor(() => watcher.state().run?.status === 'finished', 150_000, 'both rounds');
    const history = watcher.state().run!.history;
    assert.equal(history.length, 3);
    for (const round of [1, 2]) {
      assert.deepEqual(history[round]!.secureAggregation, { summed: 3, dropped: 0, outcome: 'complete' });
      const parts = seen.map((s) => s.trained.get(round)!);
      const scaleBits = seen[0]!.scaleBits.get(round)!;
      const total = parts.reduce((s, p) => s + p.samples, 0);
      for (const [k, s] of seen.entries()) {
        assert.ok(!s.sent.includes('update'), 'no update leaves a client in the clear');
        const masked = s.masked.get(round)!;
        const p = parts[k]!.delta.length;
        assert.equal(masked.length, p + SECAGG_EXTRAS);
        // What the server would read from this one vector: uniform noise, unrelated to the client's delta.
        const read = Float64Array.from(masked.subarray(0, p), (v) => (v | 0) * 2 ** -scaleBits);
        const weighted = Float64Array.from(parts[k]!.delta, (d) => d * parts[k]!.samples);
        const r = correlation(read, weighted);
        assert.ok(Math.abs(r) < 0.05, `round ${round}, client ${k}: |correlation| ${r.toFixed(4)} ≥ 0.05`);
      }
      const expected = plainFedAvg(seen[0]!.assigned.get(round - 1)!, parts);
      const model = seen[0]!.model.get(round)!;
      // Fixed-point rounding (≤ K·2^-f/2 over N samples) plus float32 storage of the weights.
      const tolerance = (parts.length * 2 ** -scaleBits) / 2 / total + 1e-6 * Math.max(...Array.from(expected, Math.abs));
      const gap = maxGap(model, expected);
      assert.ok(gap <= tolerance, `round ${round}: the model is off plain FedAvg by ${gap} > ${tolerance}`);
      assert.ok(maxGap(model, seen[0]!.assigned.get(round - 1)!) > 1e-3, 'the model did move');
    }
    // The stored round says how it was aggregated; the contributions are attributed as usual.
    const detail = await api(server.url, 'GET', `/api/projects/${slug}/runs/${runId}`, undefined, ownerToken);
    assert.equal(detail.status, 200);
    assert.equal((detail.body.rounds as { accepted: number }[]).at(-1)?.accepted, 3);
  });

  test('a client killed after the key exchange: the survivors reveal its seeds, its masks are removed, and the model is FedAvg of the survivors', { timeout: 180_000 }, async () => {
    const server = await startTestServer();
    servers.push(server);
    const { slug, joinCode, ownerToken } = await createShapedProject(server.url, { ...SECAGG, rounds: 1, 'sampling.minClients': 4 }, 'Dropout');
    const watcher = observe(server.url, slug, ownerToken);
    open.push(watcher);
    const clients: Participant[] = [];
    const seen: Seen[] = [];
    const revealed: string[][] = [];
    for (const name of ['ada', 'bo', 'cy', 'di']) {
      const p = await participant(server.url, slug, await joinMember(server.url, joinCode, name), name);
      clients.push(p);
      open.push(p);
      seen.push(watch(p));
      p.client.on('secagg', (e) => e.step === 'revealed' && revealed.push(e.dropped ?? []));
    }
    // 'di' vanishes the moment the roster arrives: its key is on the roster, its masked vector never comes.
    const victim = clients[3]!;
    victim.client.socket.on(MESSAGE_EVENT, (m: ServerMessage) => {
      if (m.type === 'secagg_roster') victim.close();
    });
    await waitFor(() => watcher.contributors() === 4, 20_000, 'four contributors');
    const started = await api(server.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    await waitFor(() => watcher.state().run?.status === 'finished', 150_000, 'the round to finish');

    assert.ok(seen[3]!.trained.has(1) && seen[3]!.sent.includes('secagg_key'), 'the victim trained and took part in the key exchange');
    assert.ok(!seen[3]!.sent.includes('secagg_masked'), 'the victim never sent its masked vector');
    assert.equal(revealed.length, 3, 'each survivor revealed once');
    for (const dropped of revealed) assert.equal(dropped.length, 1, 'seeds for the one dropped client only');
    const metrics = watcher.state().run!.history[1]!;
    assert.deepEqual(metrics.secureAggregation, { summed: 3, dropped: 1, outcome: 'recovered' });
    assert.equal(metrics.participants, 3);
    const survivors = seen.slice(0, 3).map((s) => s.trained.get(1)!);
    const total = survivors.reduce((s, p) => s + p.samples, 0);
    assert.equal(metrics.samples, total);
    const scaleBits = seen[0]!.scaleBits.get(1)!;
    const expected = plainFedAvg(seen[0]!.assigned.get(0)!, survivors);
    const tolerance = (3 * 2 ** -scaleBits) / 2 / total + 1e-6 * Math.max(...Array.from(expected, Math.abs));
    const model = seen[0]!.model.get(1)!;
    assert.ok(maxGap(model, expected) <= tolerance, `the model is off the survivors' FedAvg by ${maxGap(model, expected)}`);
    const withVictim = plainFedAvg(seen[0]!.assigned.get(0)!, [...survivors, seen[3]!.trained.get(1)!]);
    assert.ok(maxGap(model, withVictim) > 10 * tolerance, 'and not what it would be with the victim in');
  });

  test('with differential privacy on too, each client clips and noises before masking: the opened sum is FedAvg of the clipped deltas plus exactly the noise DP adds, and ε is counted', { timeout: 180_000 }, async () => {
    const server = await startTestServer();
    servers.push(server);
    const dp = { clipNorm: 0.5, noiseMultiplier: 1.1 };
    const { slug, joinCode, ownerToken } = await createShapedProject(
      server.url,
      { ...SECAGG, rounds: 1, 'sampling.minClients': 3, 'privacy.differentialPrivacy': 'on', 'privacy.clipNorm': dp.clipNorm, 'privacy.noiseMultiplier': dp.noiseMultiplier },
      'DP and SecAgg',
    );
    await widen(server.url, slug, ownerToken);
    const watcher = observe(server.url, slug, ownerToken);
    open.push(watcher);
    const seen: Seen[] = [];
    for (const name of ['ada', 'bo', 'cy']) {
      const p = await participant(server.url, slug, await joinMember(server.url, joinCode, name), name);
      open.push(p);
      seen.push(watch(p));
    }
    await waitFor(() => watcher.contributors() === 3, 20_000, 'three contributors');
    const started = await api(server.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    await waitFor(() => watcher.state().run?.status === 'finished', 150_000, 'the round');

    const run = watcher.state().run!;
    assert.deepEqual(run.history[1]!.secureAggregation, { summed: 3, dropped: 0, outcome: 'complete' });
    assert.equal(run.privacy?.rounds, 1, 'the round is counted by the accountant');
    assert.ok(run.privacy!.epsilon > 0);
    for (const s of seen) assert.ok(!s.sent.includes('update'), 'no update leaves a client in the clear');
    // The raw deltas are far above the clip norm, so clipping really acts.
    const parts = seen.map((s) => s.trained.get(1)!);
    for (const part of parts) assert.ok(l2Norm(part.delta) > 2 * dp.clipNorm, `raw delta norm ${l2Norm(part.delta)}`);
    const clipped = parts.map((p) => ({ delta: clipToNorm(p.delta, dp.clipNorm), samples: p.samples }));
    const expected = plainFedAvg(seen[0]!.assigned.get(0)!, clipped);
    const model = seen[0]!.model.get(1)!;
    // model − FedAvg(clipped) = Σ nᵢ·noiseᵢ / Σ nᵢ: zero mean, std σC·√(Σ nᵢ²) / Σ nᵢ per value.
    const total = parts.reduce((sum, p) => sum + p.samples, 0);
    const std = (dp.noiseMultiplier * dp.clipNorm * Math.sqrt(parts.reduce((sum, p) => sum + p.samples ** 2, 0))) / total;
    const residual = Float64Array.from(model, (w, i) => w - expected[i]!);
    const d = residual.length;
    const mean = residual.reduce((sum, v) => sum + v, 0) / d;
    const sd = Math.sqrt(residual.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (d - 1));
    assert.ok(Math.abs(mean) < (5 * std) / Math.sqrt(d), `noise mean ${mean}`);
    assert.ok(Math.abs(sd - std) < (5 * std) / Math.sqrt(2 * d), `noise std ${sd} vs ${std}`);
    assert.ok(maxGap(model, expected) < 10 * std, 'no value is off by more than ten standard deviations');
  });

  test('the spec refuses what cannot work with secure aggregation, each on its field with a reason', { timeout: 60_000 }, async () => {
    const server = await startTestServer();
    servers.push(server);
    const { slug, ownerToken } = await createShapedProject(server.url, { 'strategy.aggregator': 'median', 'strategy.clipNorm': 2, encoding: 'int8' }, 'Refused');
    // Switched on last: an invalid spec never reads back whole, so the edit is watched on its own.
    const editor = await connectDoc(server.url, slug, ownerToken);
    setScalar(editor.doc, 'privacy.secureAggregation', 'on');
    const witness = await connectDoc(server.url, slug, ownerToken);
    await waitFor(() => readScalar(witness.doc, 'privacy.secureAggregation') === 'on', 10_000, 'the switch to reach the server');
    witness.close();
    editor.close();
    const started = await api(server.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    assert.equal(started.status, 422);
    assert.equal(started.body.error.code, 'invalid_spec');
    const problems = started.body.error.details as { path: string; message: string }[];
    for (const path of ['strategy.aggregator', 'strategy.clipNorm', 'encoding', 'sampling.minClients']) {
      const problem = problems.find((p) => p.path === path);
      assert.ok(problem, `refused on ${path}: ${JSON.stringify(problems)}`);
      assert.match(problem.message, /secure aggregation/i);
    }
  });
});

