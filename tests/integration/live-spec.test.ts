/**
 * Spec edits during a run: live fields (learning rate, round deadline, sampling) apply from the
 * next round and each round stores what it used; other edits leave the run alone until the owner
 * restarts it with the new spec (one call).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DenseLayer, ModelSpec } from '../../server/protocol';
import { readLayers, setScalar, updateLayer } from '../../server/protocol/spec-doc';
import { api, startTestServer, waitFor, type TestServer } from '../helpers/server';
import { connectDoc } from '../helpers/yjs';
import { createShapedProject, joinMember, observe, participant, slowly } from '../helpers/clients';

process.env.TEST_LOG_LEVEL ??= 'error';

describe('editing the spec while a run trains', () => {
  let t: TestServer;
  const open: { close(): void }[] = [];
  before(async () => {
    t = await startTestServer({ roundDeadlineMs: 60_000 });
  });
  after(async () => {
    for (const x of open) x.close();
    await t.close();
  });

  test('the learning rate applies from the next round, a layer change waits for a restart with the new spec', { timeout: 90_000 }, async () => {
    const { slug, joinCode, ownerToken } = await createShapedProject(t.url, { rounds: 30, 'dataset.samples': 300, localEpochs: 1, learningRate: 0.03 });
    const watcher = observe(t.url, slug, ownerToken);
    open.push(watcher);
    const worker = await participant(t.url, slug, await joinMember(t.url, joinCode, 'worker'), 'worker', { wrap: slowly(200) });
    open.push(worker);
    await waitFor(() => watcher.contributors() === 1, 20_000, 'contributor');
    const started = await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const runId = started.body.runId as string;
    await waitFor(async () => (await t.repo.listCheckpoints(runId)).length >= 2, 30_000, 'round 1 saved');

    // One live edit and one structural edit, together.
    const editor = await connectDoc(t.url, slug, ownerToken);
    open.push(editor);
    const firstLayer = readLayers(editor.doc)[0] as DenseLayer;
    const assignsBefore = worker.assigns.length;
    editor.doc.transact(() => {
      setScalar(editor.doc, 'learningRate', 0.07);
      updateLayer(editor.doc, firstLayer.id, { units: firstLayer.units + 3 });
    });

    await waitFor(() => watcher.state().run?.spec.learningRate === 0.07, 10_000, 'the run state to carry the new learning rate');
    const newer = await waitFor(() => worker.assigns.slice(assignsBefore).find((a) => a.spec.learningRate === 0.07), 20_000, 'an assignment with the new learning rate');
    assert.equal((newer.spec.layers[0] as DenseLayer).units, firstLayer.units, 'a layer edit does not reach the running run');
    assert.equal((watcher.state().run?.spec.layers[0] as DenseLayer).units, firstLayer.units);

    // Each stored round says which learning rate it ran with, matching what its assignment carried.
    await waitFor(async () => (await t.repo.listRounds(runId)).some((r) => r.number === newer.round), 20_000, 'the first round with the new rate saved');
    const rounds = await t.repo.listRounds(runId);
    const rateOf = (n: number) => (JSON.parse(rounds.find((r) => r.number === n)!.hyperparams) as { learningRate: number }).learningRate;
    for (const assign of worker.assigns.filter((a) => rounds.some((r) => r.number === a.round))) {
      assert.equal(rateOf(assign.round), assign.spec.learningRate, `round ${assign.round}`);
    }
    assert.equal(rateOf(1), 0.03);
    assert.equal(rateOf(newer.round), 0.07);

    // Train without restart is refused while the run is active; with restart it replaces the run.
    const refused = await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'run_active');
    const bad = await api(t.url, 'POST', `/api/projects/${slug}/train`, { restart: 'yes' }, ownerToken);
    assert.equal(bad.status, 400, 'restart must be a boolean');
    const restarted = await api(t.url, 'POST', `/api/projects/${slug}/train`, { restart: true }, ownerToken);
    assert.equal(restarted.status, 202, JSON.stringify(restarted.body));
    const nextId = restarted.body.runId as string;
    assert.notEqual(nextId, runId);
    assert.equal((await t.repo.getRun(runId))?.status, 'stopped');
    const next = await t.repo.getRun(nextId);
    const nextSpec = JSON.parse(next!.spec) as ModelSpec;
    assert.equal((nextSpec.layers[0] as DenseLayer).units, firstLayer.units + 3);
    assert.equal(nextSpec.learningRate, 0.07);
    await waitFor(() => watcher.state().run?.runId === nextId, 10_000, 'the new run to be announced');
    assert.equal((await api(t.url, 'POST', `/api/projects/${slug}/runs/${nextId}/stop`, {}, ownerToken)).status, 202);
  });
});
