/**
 * Private local data in a real run: a headless participant trains only on points it holds, and
 * every frame its socket sends is recorded where engine.io hands it to the WebSocket (before
 * compression and masking), binary attachments included. No sample value may appear in them,
 * while the run's model shows the private points were really learned.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeWebSocket } from 'engine.io-client';
import type { FEATURES } from '../../server/protocol/spec';
import { connectHeadless } from '../../workers/headless';
import type { TrainingClient, TrainResult } from '../../workers/client';
import { featurize } from '../../workers/ml/datasets';
import { localTrainData, pointRows, withLocalData, type PrivateData, type PrivatePoint } from '../../workers/ml/local-data';
import { createShapedProject, joinMember, sharedTrainer } from '../helpers/clients';
import { api, startTestServer, waitFor, type TestServer } from '../helpers/server';

type Frame = Buffer | string;

/** An engine.io WebSocket transport that records every frame before the socket sends it. */
function recordingTransport(frames: Frame[]) {
  return class RecordingWebSocket extends NodeWebSocket {
    override createSocket(uri: string, protocols: string | string[] | undefined, opts: Record<string, unknown>) {
      const ws = super.createSocket(uri, protocols, opts) as { send: (data: unknown, ...rest: unknown[]) => void };
      const send = ws.send.bind(ws);
      ws.send = (data: unknown, ...rest: unknown[]) => {
        if (typeof data === 'string') frames.push(data);
        else if (ArrayBuffer.isView(data)) frames.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        else if (data instanceof ArrayBuffer) frames.push(Buffer.from(data));
        else throw new Error(`unrecorded frame type ${Object.prototype.toString.call(data)}`);
        send(data, ...rest);
      };
      return ws;
    }
  };
}

/**
 * Distinctive private points for the two-Gaussians task with the labels the other way round:
 * near (2, 2) labelled 0 and near (−2, −2) labelled 1, so a model that learned them is wrong on
 * the shared held-out data.
 */
function flippedPoints(count: number): PrivatePoint[] {
  return Array.from({ length: count }, (_, k) => {
    const side = k % 2 === 0 ? 1 : -1;
    const x = side * (1.2 + ((k * 0.1370937137) % 1.6) + 0.00012345678901 * k);
    const y = side * (1.3 + ((k * 0.2718281828) % 1.5) + 0.00098765432109 * k);
    return { x, y, label: side === 1 ? 0 : 1 };
  });
}

/** Byte and text patterns of the samples: f32/f64 little-endian values and their decimal text. */
function samplePatterns(points: PrivatePoint[], features: readonly (typeof FEATURES)[number][]) {
  const bytes: { what: string; needle: Buffer }[] = [];
  const texts: { what: string; needle: string }[] = [];
  const f32 = (v: number) => Buffer.from(Float32Array.of(v).buffer);
  const f64 = (v: number) => Buffer.from(Float64Array.of(v).buffer);
  for (const [i, p] of points.entries()) {
    for (const [axis, v] of [['x', p.x], ['y', p.y]] as const) {
      const what = `point ${i} ${axis}=${v}`;
      bytes.push({ what: `${what} f32`, needle: f32(v) }, { what: `${what} f64`, needle: f64(v) }, { what: `${what} f64(f32)`, needle: f64(Math.fround(v)) });
      texts.push({ what: `${what} text`, needle: String(v) }, { what: `${what} f32 text`, needle: String(Math.fround(v)) }, { what: `${what} 6 decimals`, needle: v.toFixed(6) });
    }
  }
  // What the model's input layer saw: the featurized rows are sample data too.
  const featurized = featurize(pointRows(points).x, features);
  for (const [i, v] of featurized.entries()) if (v !== 0) bytes.push({ what: `feature value ${i} f32`, needle: f32(v) });
  return { bytes, texts };
}

/** Whether `text` holds `number` as a whole numeric token (no digit, dot or exponent sign glued to either side). */
function numberIn(text: string, number: string): boolean {
  for (let at = text.indexOf(number); at !== -1; at = text.indexOf(number, at + 1)) {
    const before = text[at - 1] ?? '';
    const after = text[at + number.length] ?? '';
    if (!/[\d.]/.test(before) && !/[\d.eE]/.test(after)) return true;
  }
  return false;
}

/** Every pattern found in any frame (binary frames are searched as bytes and as text). */
function leaks(frames: Frame[], patterns: ReturnType<typeof samplePatterns>): string[] {
  const found: string[] = [];
  for (const [n, frame] of frames.entries()) {
    const buf = typeof frame === 'string' ? Buffer.from(frame, 'utf8') : frame;
    const text = typeof frame === 'string' ? frame : frame.toString('latin1');
    for (const p of patterns.bytes) if (buf.includes(p.needle)) found.push(`frame ${n}: ${p.what}`);
    // Text needles match whole numbers only: "1.2" is a sample in `"x":1.2`, not inside `"computeMs":81.20000001`.
    for (const p of patterns.texts) if (numberIn(text, p.needle)) found.push(`frame ${n}: ${p.what}`);
  }
  return found;
}

interface Trainer {
  client: TrainingClient;
  frames: Frame[];
  trained: TrainResult[];
  private: { on: boolean };
}

async function privateTrainer(url: string, slug: string, token: string, data: PrivateData): Promise<Trainer> {
  const base = await sharedTrainer();
  const frames: Frame[] = [];
  const state = { on: true };
  const train = withLocalData(base, (spec) => (state.on ? localTrainData(spec, data, data.mode) : null));
  const client = connectHeadless({ url, slug, token, backend: 'cpu', train, ioOptions: { transports: [recordingTransport(frames)] } });
  const trained: TrainResult[] = [];
  client.on('trained', (e) => trained.push(e.result));
  return { client, frames, trained, private: state };
}

async function runToEnd(t: TestServer, slug: string, ownerToken: string): Promise<{ runId: string; accuracy: number }> {
  const started = await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const runId = started.body.runId as string;
  await waitFor(async () => (await t.repo.getRun(runId))?.status === 'finished', 120_000, 'the run to finish');
  const checkpoints = await t.repo.listCheckpoints(runId);
  const last = JSON.parse(checkpoints[checkpoints.length - 1]!.metrics) as { accuracy: number };
  return { runId, accuracy: last.accuracy };
}

describe('private local data', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ roundDeadlineMs: 60_000 });
  });
  after(async () => {
    await t.close();
  });

  test('the leak detector finds a sample value in a frame (so its silence below means something)', () => {
    const points = flippedPoints(4);
    const patterns = samplePatterns(points, ['x1', 'x2']);
    assert.deepEqual(leaks(['42["msg",{"a":1}]', Buffer.alloc(64)], patterns), []);
    const planted = Buffer.concat([Buffer.alloc(13), Buffer.from(Float32Array.of(points[2]!.y).buffer), Buffer.alloc(7)]);
    assert.ok(leaks([planted], patterns).some((l) => l.includes('point 2 y=') && l.endsWith('f32')));
    assert.ok(leaks([`{"v":${points[1]!.x}}`], patterns).some((l) => l.includes('point 1 x=')));
    assert.ok(leaks([Buffer.from(Float32Array.of(points[3]!.x / 5).buffer)], patterns).some((l) => l.includes('feature value')));
  });

  test('a participant trains on private points: the model learns them, and no sample leaves in any frame', async () => {
    const rounds = 6;
    const { slug, joinCode, ownerToken } = await createShapedProject(t.url, {
      'dataset.name': 'gauss',
      'dataset.samples': 200,
      rounds,
      localEpochs: 8,
    });
    const points = flippedPoints(48);
    const data: PrivateData = { mode: 'only', points: { gauss: points }, digits: [] };
    const token = await joinMember(t.url, joinCode, 'holder');
    const holder = await privateTrainer(t.url, slug, token, data);
    try {
      await waitFor(() => holder.client.socket.connected, 10_000, 'the participant to connect');

      const withPrivate = await runToEnd(t, slug, ownerToken);
      const spec = (await t.repo.getRun(withPrivate.runId))!.spec;
      const contributions = await t.repo.listContributions(withPrivate.runId);
      assert.equal(contributions.length, rounds);
      assert.ok(contributions.every((c) => c.samples === points.length), `honest sample counts: ${contributions.map((c) => c.samples)}`);
      assert.ok(withPrivate.accuracy < 0.25, `the model learned the flipped private points: held-out accuracy ${withPrivate.accuracy}`);

      // Positive control: the recorder sees the socket.io update packets and their binary deltas.
      const updates = holder.frames.filter((f) => typeof f === 'string' && f.includes('"type":"update"'));
      assert.equal(updates.length, rounds, 'one update packet per round');
      assert.equal(holder.trained.length, rounds);
      for (const result of holder.trained) {
        const needle = Buffer.from(result.delta.buffer, result.delta.byteOffset, Math.min(256, result.delta.byteLength));
        assert.ok(holder.frames.some((f) => typeof f !== 'string' && f.includes(needle)), 'a delta travels as a binary attachment the recorder saw');
      }

      const patterns = samplePatterns(points, JSON.parse(spec).features ?? []);
      assert.ok(patterns.bytes.length > 48 * 6);
      assert.deepEqual(leaks(holder.frames, patterns), [], 'no sample value in any frame sent');

      // The same participant without its private data: the shared data teaches the right labels.
      holder.private.on = false;
      const shared = await runToEnd(t, slug, ownerToken);
      assert.ok(shared.accuracy > 0.85, `without the private points the model fits the shared task: ${shared.accuracy}`);
      const sharedContributions = await t.repo.listContributions(shared.runId);
      assert.ok(sharedContributions.every((c) => c.samples !== points.length));
    } finally {
      holder.client.close();
    }
  });
});
