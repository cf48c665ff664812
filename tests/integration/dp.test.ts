import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { api, startTestServer, waitFor, type TestServer } from '../helpers/server';
import { createShapedProject, joinMember, observe, participant, rawClient, type Participant } from '../helpers/clients';
import { decodeVector, encodeVector, manifestSize, type AssignMessage, type ServerMessage, type WeightsManifest } from '../../server/protocol';
import { PrivacyAccountant, privacyLedgerSchema } from '../../server/protocol/privacy-accountant';
import { clipToNorm, l2Norm } from '../../workers/ml/dp';
import { connectHeadless } from '../../workers/headless';

// Refused updates are expected here: keep the server's warnings out of the output.
process.env.TEST_LOG_LEVEL ??= 'error';

const PRIVACY = { clipNorm: 0.5, noiseMultiplier: 1.1, delta: 1e-5 };
const DP_SPEC = {
  'privacy.differentialPrivacy': 'on',
  'privacy.clipNorm': PRIVACY.clipNorm,
  'privacy.noiseMultiplier': PRIVACY.noiseMultiplier,
  'privacy.delta': PRIVACY.delta,
  'dataset.samples': 300,
  localEpochs: 1,
} as const;

/** ε after rounds at these sampling rates, counted from scratch. */
function epsilonAfter(...parts: { sampleRate: number; rounds: number }[]): number {
  const accountant = new PrivacyAccountant();
  for (const { sampleRate, rounds } of parts) if (rounds > 0) accountant.step(sampleRate, PRIVACY.noiseMultiplier, rounds);
  return accountant.epsilon(PRIVACY.delta);
}

/** What one participant trained (its raw delta) and what it put on the wire, per round. */
interface Observed {
  raw: Map<number, Float32Array>;
  sent: Map<number, Float32Array>;
}

/** Records a participant's raw deltas and the decoded update frames it emits (what the server receives). */
function watchWire(p: Participant, observed: Observed): void {
  const manifests = new Map<number, WeightsManifest>();
  p.client.on('assign', (a) => manifests.set(a.round, a.manifest));
  p.client.on('trained', ({ round, result }) => observed.raw.set(round, result.delta.slice()));
  p.client.socket.onAnyOutgoing((_event, message: { type?: string; round?: number; encoding?: 'float32'; delta?: Uint8Array; trainLoss?: unknown }) => {
    if (message?.type !== 'update') return;
    const manifest = manifests.get(message.round!)!;
    const decoded = decodeVector(message.delta!, manifest, message.encoding ?? 'float32');
    assert.ok(decoded.ok, 'the update frame decodes');
    assert.equal(message.trainLoss, null, 'a DP client keeps its training loss at home');
    observed.sent.set(message.round!, decoded.values);
  });
}

/** Every ε reading a watching browser receives, indexed by rounds counted (a sparse array: state messages are coalesced). */
function watchEpsilon(url: string, slug: string, token: string, epsilons: number[]) {
  const client = connectHeadless({ url, slug, token, backend: 'cpu', train: () => Promise.reject(new Error('watcher does not train')) });
  client.setContribute(false);
  client.on('state', (state) => {
    const privacy = state.run?.privacy;
    if (privacy && privacy.rounds > 0) epsilons[privacy.rounds - 1] = privacy.epsilon;
  });
  return client;
}

/** The update on the wire is clip(raw) + N(0, (σC)²) per coordinate. */
function assertPrivatized(raw: Float32Array, sent: Float32Array, what: string): void {
  const { clipNorm: c, noiseMultiplier: sigma } = PRIVACY;
  const d = sent.length;
  const clipped = clipToNorm(raw, c);
  assert.ok(l2Norm(clipped) <= c, `${what}: clipped norm`);
  const norm = l2Norm(sent);
  assert.ok(norm <= c * (1 + 1e-6) + sigma * c * (Math.sqrt(d) + 10), `${what}: norm ${norm} above clip + noise bound`);
  assert.ok(norm >= sigma * c * (Math.sqrt(d) - 10) - c, `${what}: norm ${norm} too small to carry the noise`);
  const noise = sent.map((v, i) => v - clipped[i]!);
  const mean = noise.reduce((s, v) => s + v, 0) / d;
  const std = Math.sqrt(noise.reduce((s, v) => s + (v - mean) ** 2, 0) / (d - 1));
  // d ≈ 200 coordinates: standard errors σC/√d for the mean, σC/√(2d) for the std; allow 5.
  assert.ok(Math.abs(mean) < (5 * sigma * c) / Math.sqrt(d), `${what}: noise mean ${mean}`);
  assert.ok(Math.abs(std - sigma * c) < (5 * sigma * c) / Math.sqrt(2 * d), `${what}: noise std ${std} vs σC = ${sigma * c}`);
}

describe('differential privacy through the real server', () => {
  const open: { close(): void }[] = [];
  const servers: TestServer[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const o of open) o.close();
    for (const s of servers) await s.close({ removeDb: false }).catch(() => undefined);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('clients send clipped, noised updates; ε grows every round and a restarted server keeps counting from its checkpoint', { timeout: 120_000 }, async (ctx) => {
    const rounds = 6;
    const first = await startTestServer();
    servers.push(first);
    dirs.push(path.dirname(first.dbUrl.replace(/^file:/, '')));
    // Half the clients, at least two, per round: 2 of 3 before the restart (q = 2/3), 2 of 2 after (q = 1).
    const { slug, joinCode, ownerToken } = await createShapedProject(first.url, { ...DP_SPEC, rounds, 'sampling.fraction': 0.5, 'sampling.minClients': 2 }, 'Private');
    const tokens = [await joinMember(first.url, joinCode, 'ada'), await joinMember(first.url, joinCode, 'bo'), await joinMember(first.url, joinCode, 'cy')];
    const observed: Observed[] = tokens.map(() => ({ raw: new Map(), sent: new Map() }));
    const watcher = observe(first.url, slug, ownerToken);
    open.push(watcher);
    const epsilons: number[] = [];
    const live = watchEpsilon(first.url, slug, ownerToken, epsilons);
    open.push(live);

    const before: Participant[] = [];
    for (const [k, token] of tokens.entries()) {
      const p = await participant(first.url, slug, token, `p${k}`);
      watchWire(p, observed[k]!);
      before.push(p);
      open.push(p);
    }
    await waitFor(() => watcher.contributors() === 3, 20_000, 'three contributors');
    const started = await api(first.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const runId = started.body.runId as string;

    await waitFor(() => (watcher.state().run?.privacy?.rounds ?? 0) >= 2, 60_000, 'two DP rounds');
    const state = watcher.state().run!;
    assert.equal(state.privacy?.delta, PRIVACY.delta);
    assert.equal(state.privacy?.sampleRate, 2 / 3, '2 of 3 clients sampled: q = 2/3');
    assert.ok(state.privacy!.epsilonUnsampled > state.privacy!.epsilon, 'sampling amplifies privacy against those who do not know who took part');
    const projected = epsilonAfter({ sampleRate: 2 / 3, rounds });
    assert.ok(Math.abs(state.privacy!.epsilonProjected - projected) < 1e-9, `projected ε ${state.privacy!.epsilonProjected} vs ${projected}`);
    // Stop the clients mid-run; the open round is abandoned and the run waits for two clients.
    for (const p of before) p.close();
    await waitFor(() => watcher.state().run?.status === 'waiting', 20_000, 'the run to wait for clients');
    const k = watcher.state().run!.privacy!.rounds;
    assert.ok(k >= 2 && k < rounds, `stopped after ${k} rounds`);
    assert.equal(watcher.state().run!.history.length - 1, k, 'one counted round per saved round');
    const checkpoint = await first.repo.getCheckpoint(runId, k);
    const ledger = privacyLedgerSchema.parse(JSON.parse(checkpoint!.loopState!).privacy);
    assert.deepEqual(ledger.entries, [{ sampleRate: 2 / 3, noiseMultiplier: PRIVACY.noiseMultiplier, rounds: k }], 'the ledger is stored with the checkpoint');
    const epsilonAtStop = watcher.state().run!.privacy!.epsilon;
    watcher.close();
    live.close();
    await first.close({ removeDb: false });

    // A new server process on the same database resumes the run from round k.
    const second = await startTestServer({ dbUrl: first.dbUrl });
    servers.push(second);
    const watcher2 = observe(second.url, slug, ownerToken);
    open.push(watcher2);
    await waitFor(() => watcher2.state().run?.runId === runId, 20_000, 'the resumed run');
    const resumed = watcher2.state().run!.privacy!;
    assert.equal(resumed.rounds, k, 'the resumed run still counts the rounds before the restart');
    assert.ok(resumed.epsilon > 0 && Math.abs(resumed.epsilon - epsilonAtStop) < 1e-9, `ε continues where it stopped (${epsilonAtStop}), not at 0: ${resumed.epsilon}`);
    open.push(watchEpsilon(second.url, slug, ownerToken, epsilons));
    for (const [k2, token] of tokens.slice(0, 2).entries()) {
      const p = await participant(second.url, slug, token, `p${k2}`);
      watchWire(p, observed[k2]!);
      open.push(p);
    }
    await waitFor(() => watcher2.state().run?.status === 'finished', 60_000, 'the run to finish');
    const final = watcher2.state().run!;
    assert.equal(final.privacy?.rounds, rounds);
    const expected = epsilonAfter({ sampleRate: 2 / 3, rounds: k }, { sampleRate: 1, rounds: rounds - k });
    assert.ok(Math.abs(final.privacy!.epsilon - expected) < 1e-9, `final ε ${final.privacy!.epsilon} = ε of ${k} rounds at q = 2/3 and ${rounds - k} at q = 1: ${expected}`);
    assert.equal(final.privacy!.sampleRate, 1);
    assert.ok(Math.abs(final.privacy!.epsilonProjected - final.privacy!.epsilon) < 1e-9, 'no rounds left: the projection is what was spent');
    assert.ok(Math.abs(final.privacy!.epsilonUnsampled - epsilonAfter({ sampleRate: 1, rounds })) < 1e-9);

    // ε was shown live and matches the accountant at every round a state message reported. State
    // messages are coalesced (at most one per 100 ms), so a fast round may be folded into the next
    // one's message: check the rounds seen, and that the last one was among them.
    const seen = [...epsilons.entries()].filter(([, epsilon]) => epsilon !== undefined) as [number, number][];
    assert.equal(epsilons.length, rounds, 'the last round’s ε was shown');
    assert.ok(seen.length >= 2, `ε seen live in ${seen.length} rounds`);
    for (const [r, epsilon] of seen) {
      const want = epsilonAfter({ sampleRate: 2 / 3, rounds: Math.min(r + 1, k) }, { sampleRate: 1, rounds: Math.max(0, r + 1 - k) });
      assert.ok(Math.abs(epsilon - want) < 1e-9, `round ${r + 1}: ε ${epsilon} vs ${want}`);
    }
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]![1] > seen[i - 1]![1], `ε grows from round ${seen[i - 1]![0] + 1} to ${seen[i]![0] + 1}`);

    // Every update the server received was clip(raw delta) + Gaussian noise of std σC.
    let checked = 0;
    for (const [k2, o] of observed.entries()) {
      for (const [round, sent] of o.sent) {
        assertPrivatized(o.raw.get(round)!, sent, `participant ${k2} round ${round}`);
        checked++;
      }
    }
    assert.ok(checked >= 2 * rounds, `checked ${checked} updates`);
    assert.deepEqual((await second.repo.listRounds(runId)).map((r) => r.participants), Array(rounds).fill(2), 'two clients asked in every round');
    assert.ok((await second.repo.listRounds(runId)).every((r) => r.trainLoss === null), 'no training loss reached the server');
    ctx.diagnostic(`ε after ${rounds} rounds at σ=${PRIVACY.noiseMultiplier}, δ=${PRIVACY.delta}: ${epsilons.map((e) => e.toFixed(3)).join(', ')} (restart after ${k})`);
  });

  test('the server refuses updates whose norm no honest DP client can send: unclipped, or without noise', { timeout: 60_000 }, async () => {
    const t = await startTestServer();
    servers.push(t);
    dirs.push(path.dirname(t.dbUrl.replace(/^file:/, '')));
    const { slug, joinCode, ownerToken } = await createShapedProject(t.url, { ...DP_SPEC, rounds: 1 }, 'Private');
    const watcher = observe(t.url, slug, ownerToken);
    open.push(watcher);
    const honest = await participant(t.url, slug, await joinMember(t.url, joinCode, 'honest'), 'honest');
    open.push(honest);
    const hostile = rawClient(t.url, { slug, token: await joinMember(t.url, joinCode, 'hostile') });
    open.push(hostile);
    const welcomed = hostile.next((m) => m.type === 'welcome');
    await waitFor(() => hostile.socket.connected, 10_000, 'the raw socket to connect');
    hostile.hello(true);
    await welcomed;
    await waitFor(() => watcher.contributors() === 2, 20_000, 'two contributors');

    const assigned = hostile.next<AssignMessage>((m) => m.type === 'assign');
    const started = await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    assert.equal(started.status, 202);
    const assign = await assigned;
    const p = manifestSize(assign.manifest);
    type ErrorMsg = Extract<ServerMessage, { type: 'error' }>;
    const send = async (values: Float32Array) => {
      const answer = hostile.next<ErrorMsg>((m) => m.type === 'error');
      hostile.send({ type: 'update', runId: assign.runId, round: assign.round, samples: 10, computeMs: 1, trainLoss: null, encoding: 'float32', delta: encodeVector(values, assign.manifest, 'float32') });
      return answer;
    };
    const boosted = await send(new Float32Array(p).fill(10));
    assert.equal(boosted.code, 'bad_update');
    assert.match(boosted.message, /above what clipping to 0\.5 plus the run's noise allows.*differential privacy/);
    const noiseless = await send(clipToNorm(new Float32Array(p).fill(1), PRIVACY.clipNorm));
    assert.equal(noiseless.code, 'bad_update');
    assert.match(noiseless.message, /carries no DP noise/);

    hostile.close();
    await waitFor(() => watcher.state().run?.status === 'finished', 40_000, 'the run to finish with the honest update');
    const round = (await t.repo.listRounds(started.body.runId as string))[0]!;
    assert.equal(round.accepted, 1);
    assert.equal(round.rejected, 2);
    assert.equal(honest.errors.length, 0, JSON.stringify(honest.errors));
  });
});
