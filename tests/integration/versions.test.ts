import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfjs from '@tensorflow/tfjs';
import { readSpec, setFeature } from '../../server/protocol/spec-doc';
import { MAX_IMPORT_BODY_BYTES, decodeVector, validateSpec, type WeightsManifest } from '../../server/protocol';
import { loadNodeTf } from '../../workers/ml/node-tf';
import { buildModel, dataTensors, disposeModel, writeWeights, type TF } from '../../workers/ml/model';
import { datasetSplit } from '../../workers/ml/datasets';
import { api, startTestServer, waitFor, type TestServer } from '../helpers/server';
import { createShapedProject, joinMember, participants, slowly, type Participant } from '../helpers/clients';
import { connectDoc } from '../helpers/yjs';

const ROUNDS = 2;

interface Files {
  modelJson: Record<string, any>;
  weights: Uint8Array;
}

describe('model versions: checkpoints out as TensorFlow.js files, files in as runs, any checkpoint as a start', () => {
  let t: TestServer;
  let tf: TF;
  let slug: string;
  let ownerToken: string;
  let memberToken: string;
  let runId: string;
  let crowd: Participant[];
  let files: Files;
  let importedRunId: string;

  const base = () => `/api/projects/${slug}`;
  const fileUrl = (run: string, round: number, file: string) => `${t.url}${base()}/runs/${run}/checkpoints/${round}/${file}`;
  const get = (path: string, token?: string) => fetch(new URL(path, t.url), { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const importBody = (f: Files, name = 'round trip') => ({ name, modelJson: f.modelJson, weightsBase64: Buffer.from(f.weights).toString('base64') });
  const runDetail = async (id: string) => {
    const res = await api(t.url, 'GET', `${base()}/runs/${id}`, undefined, ownerToken);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { run: { status: string; origin: unknown; lastRound: number }; checkpoints: { round: number; metrics: { loss: number; accuracy: number } }[] };
  };
  /** The server's network for a run's checkpoint, in this process: the reference the files must match. */
  const serverModel = async (id: string, round: number) => {
    const run = await t.repo.getRun(id);
    const checkpoint = await t.repo.getCheckpoint(id, round);
    assert.ok(run && checkpoint);
    const checked = validateSpec(JSON.parse(run.spec));
    assert.ok(checked.ok);
    const model = buildModel(tf, checked.spec);
    const manifest = JSON.parse(checkpoint.manifest) as WeightsManifest;
    writeWeights(tf, model, manifest, new Float32Array(checkpoint.weights.slice().buffer));
    return { model, spec: checked.spec, weights: new Float32Array(checkpoint.weights.slice().buffer) };
  };

  before(async () => {
    tf = await loadNodeTf('cpu');
    t = await startTestServer({ roundDeadlineMs: 60_000 });
    const project = await createShapedProject(t.url, { rounds: ROUNDS, 'dataset.samples': 300, localEpochs: 1, 'sampling.minClients': 2 }, 'Versions');
    ({ slug, ownerToken } = project);
    // Each round takes ≥ 250 ms, so a run is still open when a test acts on it.
    crowd = await participants(t.url, slug, project.joinCode, 2, 'v', { wrap: slowly(250) });
    memberToken = await joinMember(t.url, project.joinCode, 'onlooker');
    const started = await api(t.url, 'POST', `${base()}/train`, {}, ownerToken);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    runId = started.body.runId;
    await waitFor(async () => (await runDetail(runId)).run.status === 'finished', 60_000, 'the source run to finish');
  });
  after(async () => {
    for (const p of crowd ?? []) p.close();
    await t?.close();
  });

  test('the runs list shows each run with its checkpoints and metrics', async () => {
    const detail = await runDetail(runId);
    assert.deepEqual(detail.checkpoints.map((c) => c.round), [0, 1, 2]);
    for (const c of detail.checkpoints) assert.ok(Number.isFinite(c.metrics.loss) && c.metrics.accuracy >= 0 && c.metrics.accuracy <= 1);
    assert.equal(detail.run.origin, null, 'a fresh run has no origin');
  });

  test('a downloaded checkpoint loads with tf.loadLayersModel and predicts what the server-side model predicts', async () => {
    const fetchFunc = (input: string | URL | Request, init?: RequestInit) =>
      fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${memberToken}` } });
    // A member (not only the owner) may download; weights.bin is found relative to model.json.
    const loaded = await tf.loadLayersModel(tf.io.http(fileUrl(runId, ROUNDS, 'model.json'), { fetchFunc }));
    const { model, spec } = await serverModel(runId, ROUNDS);
    const { x } = dataTensors(tf, spec, datasetSplit(spec.dataset).test);
    const ours = model.predict(x) as tfjs.Tensor;
    const theirs = loaded.predict(x) as tfjs.Tensor;
    assert.deepEqual(theirs.shape, ours.shape);
    const gap = tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]!;
    assert.ok(gap <= 1e-5, `predictions differ by ${gap}`);
    // And the model really changed from round 0 (a test that could not tell checkpoints apart would prove nothing).
    const first = await serverModel(runId, 0);
    const initialGap = tf.max(tf.abs(tf.sub(first.model.predict(x) as tfjs.Tensor, theirs))).dataSync()[0]!;
    assert.ok(initialGap > 1e-3, 'round 2 predicts differently from round 0');
    for (const m of [model, first.model]) disposeModel(m);
    loaded.dispose();

    // The files themselves, for the import tests; weights.bin is the checkpoint's float32 bytes.
    const modelRes = await get(`${base()}/runs/${runId}/checkpoints/${ROUNDS}/model.json`, memberToken);
    assert.equal(modelRes.status, 200);
    assert.match(modelRes.headers.get('content-type') ?? '', /application\/json/);
    const modelJson = (await modelRes.json()) as Record<string, any>;
    assert.deepEqual(modelJson.weightsManifest[0].paths, ['weights.bin']);
    assert.deepEqual(
      modelJson.weightsManifest[0].weights.map((w: { name: string }) => w.name),
      ['h0/kernel', 'h0/bias', 'h1/kernel', 'h1/bias', 'out/kernel', 'out/bias'],
    );
    const weightsRes = await get(`${base()}/runs/${runId}/checkpoints/${ROUNDS}/weights.bin`, memberToken);
    assert.equal(weightsRes.status, 200);
    const weights = new Uint8Array(await weightsRes.arrayBuffer());
    const stored = await t.repo.getCheckpoint(runId, ROUNDS);
    assert.deepEqual(weights, new Uint8Array(stored!.weights));
    files = { modelJson, weights };
  });

  test('the browser cookie works too; no credentials or another project\'s token get nothing', async () => {
    const cookie = await fetch(fileUrl(runId, 1, 'weights.bin'), { headers: { cookie: `ct_${slug}=${encodeURIComponent(ownerToken)}` } });
    assert.equal(cookie.status, 200);
    const anonymous = await fetch(fileUrl(runId, 1, 'model.json'));
    assert.equal(anonymous.status, 401);
    const other = await api(t.url, 'POST', '/api/projects', { name: 'Elsewhere' });
    for (const file of ['model.json', 'weights.bin']) {
      const res = await fetch(fileUrl(runId, 1, file), { headers: { authorization: `Bearer ${other.body.ownerToken}` } });
      assert.equal(res.status, 401, `${file} with another project's token`);
      // Their own project's URL with our run id: the run is not theirs.
      const theirs = await fetch(`${t.url}/api/projects/${other.body.slug}/runs/${runId}/checkpoints/1/${file}`, { headers: { authorization: `Bearer ${other.body.ownerToken}` } });
      assert.equal(theirs.status, 404, `${file} of a run in another project`);
    }
    const missing = await get(`${base()}/runs/${runId}/checkpoints/99/model.json`, ownerToken);
    assert.equal(missing.status, 404);
  });

  test('an imported file becomes a finished run whose round-0 metrics equal the source checkpoint\'s', async () => {
    const res = await api(t.url, 'POST', `${base()}/import`, importBody(files, 'round trip'), ownerToken);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    importedRunId = res.body.runId;
    const source = (await runDetail(runId)).checkpoints.find((c) => c.round === ROUNDS)!;
    const imported = await runDetail(importedRunId);
    assert.equal(imported.run.status, 'finished');
    assert.deepEqual(imported.run.origin, { kind: 'import', name: 'round trip' });
    assert.deepEqual(imported.checkpoints.map((c) => c.round), [0]);
    assert.equal(imported.checkpoints[0]!.metrics.loss, source.metrics.loss);
    assert.equal(imported.checkpoints[0]!.metrics.accuracy, source.metrics.accuracy);
    assert.equal(res.body.loss, source.metrics.loss);
    const stored = await t.repo.getCheckpoint(importedRunId, 0);
    assert.deepEqual(new Uint8Array(stored!.weights), files.weights, 'the imported weights are stored exactly');
    const project = await api(t.url, 'GET', base(), undefined, memberToken);
    assert.deepEqual(project.body.runs.find((r: { id: string }) => r.id === importedRunId)?.origin, { kind: 'import', name: 'round trip' });
  });

  test('training from the imported checkpoint hands out exactly the imported weights and records where it started', async () => {
    const seen = crowd.map((p) => p.assigns.length);
    const res = await api(t.url, 'POST', `${base()}/train`, { from: { runId: importedRunId, round: 0 } }, ownerToken);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const restoredId = res.body.runId as string;
    const assign = await waitFor(() => crowd.flatMap((p, i) => p.assigns.slice(seen[i])).find((a) => a.runId === restoredId && a.round === 1), 20_000, 'the first assignment');
    const decoded = decodeVector(assign.weights as ArrayBuffer, assign.manifest, assign.encoding);
    assert.ok(decoded.ok);
    assert.deepEqual(new Uint8Array(decoded.values.buffer, decoded.values.byteOffset, decoded.values.byteLength), files.weights);
    const detail = await runDetail(restoredId);
    assert.deepEqual(detail.run.origin, { kind: 'checkpoint', runId: importedRunId, round: 0 });
    const imported = await runDetail(importedRunId);
    assert.equal(detail.checkpoints[0]!.metrics.loss, imported.checkpoints[0]!.metrics.loss, 'its round 0 is the imported model');

    // While it is active (paused here, so it stays so), another restore needs restart; with it, the active run stops first.
    const paused = await api(t.url, 'POST', `${base()}/runs/${restoredId}/pause`, {}, ownerToken);
    assert.equal(paused.status, 202, JSON.stringify(paused.body));
    const busy = await api(t.url, 'POST', `${base()}/train`, { from: { runId, round: 1 } }, ownerToken);
    assert.equal(busy.status, 409);
    const restarted = await api(t.url, 'POST', `${base()}/train`, { from: { runId, round: 1 }, restart: true }, ownerToken);
    assert.equal(restarted.status, 202, JSON.stringify(restarted.body));
    assert.equal((await runDetail(restoredId)).run.status, 'stopped');
    const again = await runDetail(restarted.body.runId);
    assert.deepEqual(again.run.origin, { kind: 'checkpoint', runId, round: 1 });
    await api(t.url, 'POST', `${base()}/runs/${restarted.body.runId}/stop`, {}, ownerToken);
  });

  test('a member who is not the owner can neither import nor restore', async () => {
    const imported = await api(t.url, 'POST', `${base()}/import`, importBody(files), memberToken);
    assert.equal(imported.status, 403);
    const restored = await api(t.url, 'POST', `${base()}/train`, { from: { runId, round: 1 } }, memberToken);
    assert.equal(restored.status, 403);
    const elsewhere = await api(t.url, 'POST', '/api/projects', { name: 'Thief' });
    const stolen = await api(t.url, 'POST', `/api/projects/${elsewhere.body.slug}/train`, { from: { runId, round: 1 } }, elsewhere.body.ownerToken);
    assert.equal(stolen.status, 404, 'a checkpoint of another project cannot start a run');
  });

  test('garbage, hostile and oversized uploads are refused with a reason, and nothing is stored', async () => {
    const runsBefore = (await t.repo.listRuns((await t.repo.findProjectBySlug(slug))!.id)).length;
    const refused = async (body: unknown, pattern: RegExp, status = 400) => {
      const res = await api(t.url, 'POST', `${base()}/import`, body, ownerToken);
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.match(res.body.error.message, pattern);
    };
    const clone = () => JSON.parse(JSON.stringify(files.modelJson)) as Record<string, any>;
    const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
    const layers = (json: Record<string, any>) => json.modelTopology.config.layers as { class_name: string; config: Record<string, unknown> }[];

    await refused({ name: 'x', modelJson: {}, weightsBase64: 'AAAA' }, /no modelTopology/);
    await refused({ name: 'x', modelJson: clone(), weightsBase64: '!!not base64!!' }, /base64/);
    await refused({ name: 'x', modelJson: clone(), weightsBase64: b64(files.weights.slice(0, 8)) }, /weights\.bin has 8 bytes but model\.json lists \d+ float32 values/);
    const nan = files.weights.slice();
    new DataView(nan.buffer).setFloat32(4, Number.NaN, true);
    await refused({ name: 'x', modelJson: clone(), weightsBase64: b64(nan) }, /NaN at index 1 of h0\/kernel/);
    const lstm = clone();
    layers(lstm)[1]!.class_name = 'LSTM';
    await refused({ name: 'x', modelJson: lstm, weightsBase64: b64(files.weights) }, /is a LSTM; only InputLayer, Dense/);
    const huge = clone();
    layers(huge).find((l) => l.class_name === 'Dense')!.config.units = 500_000;
    await refused({ name: 'x', modelJson: huge, weightsBase64: b64(files.weights) }, /more than 1,000,000 parameters/);
    const contradicts = clone();
    layers(contradicts).find((l) => l.class_name === 'Dense')!.config.units = 13;
    await refused({ name: 'x', modelJson: contradicts, weightsBase64: b64(files.weights) }, /model\.json contradicts itself: h0\/kernel is \[7,12\] in model\.json's weightsManifest but \[7,13\] in its layers/);
    const relu = clone();
    layers(relu).find((l) => l.class_name === 'Dense')!.config.activation = 'relu';
    await refused({ name: 'x', modelJson: relu, weightsBase64: b64(files.weights) }, /computes something else than the spec's/);
    const polluted = `{"name":"x","weightsBase64":"AAAA","modelJson":{"__proto__":{"admin":true}}}`;
    const pollutedRes = await fetch(new URL(`${base()}/import`, t.url), { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ownerToken}` }, body: polluted });
    assert.equal(pollutedRes.status, 400);
    assert.match(((await pollutedRes.json()) as { error: { message: string } }).error.message, /__proto__/);
    const notJson = await fetch(new URL(`${base()}/import`, t.url), { method: 'POST', headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${ownerToken}` }, body: Buffer.from(files.weights) });
    assert.equal(notJson.status, 400);
    const oversized = await fetch(new URL(`${base()}/import`, t.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ownerToken}` },
      body: JSON.stringify({ name: 'big', modelJson: files.modelJson, weightsBase64: 'A'.repeat(MAX_IMPORT_BODY_BYTES) }),
    });
    assert.equal(oversized.status, 413);
    assert.equal((await t.repo.listRuns((await t.repo.findProjectBySlug(slug))!.id)).length, runsBefore, 'no refused upload left a run behind');
  });

  test('a file or checkpoint whose shapes do not fit the current spec is refused, naming the tensor and both shapes', async () => {
    const editor = await connectDoc(t.url, slug, ownerToken);
    const witness = await connectDoc(t.url, slug, ownerToken);
    try {
      setFeature(editor.doc, 'x1sq', false); // 7 input features → 6: h0/kernel [7,12] → [6,12]
      await waitFor(() => readSpec(witness.doc).spec?.features.length === 6, 10_000, 'the spec edit to reach the server');
      const imported = await api(t.url, 'POST', `${base()}/import`, importBody(files), ownerToken);
      assert.equal(imported.status, 400);
      assert.match(imported.body.error.message, /h0\/kernel is \[7,12\] in the file but \[6,12\] in the spec/);
      const restored = await api(t.url, 'POST', `${base()}/train`, { from: { runId, round: ROUNDS } }, ownerToken);
      assert.equal(restored.status, 400);
      assert.match(restored.body.error.message, /h0\/kernel is \[7,12\] in the checkpoint but \[6,12\] in the current spec/);
      // The old run's own files still download with its own spec.
      const res = await get(`${base()}/runs/${runId}/checkpoints/${ROUNDS}/model.json`, ownerToken);
      assert.equal(res.status, 200);
    } finally {
      setFeature(editor.doc, 'x1sq', true);
      witness.close();
      editor.close();
    }
  });
});
