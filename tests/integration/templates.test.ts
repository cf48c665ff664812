/**
 * Every template a project can start from trains to a sensible held-out accuracy through the
 * product: created over HTTP, trained by headless clients over socket.io, evaluated by the server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TEMPLATES, TEMPLATE_NAMES, type RoundMetrics, type TemplateName } from '../../server/protocol';
import { readSpec } from '../../server/protocol/spec-doc';
import { api, startTestServer, waitFor, type TestServer } from '../helpers/server';
import { connectDoc } from '../helpers/yjs';
import { observe, participants } from '../helpers/clients';

process.env.TEST_LOG_LEVEL ??= 'error';

/** Held-out accuracy each template must reach by its last round. */
const GOAL: Record<TemplateName, number> = { sign: 0.95, spiral: 0.9, mnist_mlp: 0.9, mnist_cnn: 0.85 };

describe('project templates', () => {
  let t: TestServer;
  const open: { close(): void }[] = [];
  before(async () => {
    t = await startTestServer({ roundDeadlineMs: 60_000 });
  });
  after(async () => {
    for (const x of open) x.close();
    await t.close();
  });

  test('a project created from a template starts with its spec in the shared document', async () => {
    const created = await api(t.url, 'POST', '/api/projects', { name: 'First steps', template: 'sign' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const reader = await connectDoc(t.url, created.body.slug, created.body.ownerToken);
    open.push(reader);
    await waitFor(() => readSpec(reader.doc).spec, 10_000, 'the seeded spec');
    assert.deepEqual(readSpec(reader.doc).spec, TEMPLATES.sign.spec);
    const unknown = await api(t.url, 'POST', '/api/projects', { name: 'Nope', template: 'imagenet' });
    assert.equal(unknown.status, 400);
  });

  for (const name of TEMPLATE_NAMES) {
    test(`"${TEMPLATES[name].title}" trains to ≥ ${GOAL[name] * 100}% held-out accuracy with 3 clients`, { timeout: 240_000 }, async () => {
      const created = await api(t.url, 'POST', '/api/projects', { name: `Template ${name}`, template: name });
      const { slug, joinCode, ownerToken } = created.body as { slug: string; joinCode: string; ownerToken: string };
      const watcher = observe(t.url, slug, ownerToken);
      open.push(watcher);
      open.push(...(await participants(t.url, slug, joinCode, 3, name)));
      await waitFor(() => watcher.contributors() === 3, 20_000, 'three contributors');
      const started = await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const runId = started.body.runId as string;
      await waitFor(
        async () => {
          const run = await t.repo.getRun(runId);
          if (run?.status === 'failed') throw new Error(`run failed: ${run.error}`);
          return run?.status === 'finished';
        },
        220_000,
        'the run to finish',
      );
      const history = (await t.repo.listCheckpoints(runId)).map((c) => JSON.parse(c.metrics) as RoundMetrics);
      const last = history[history.length - 1]!;
      assert.equal(last.round, TEMPLATES[name].spec.rounds);
      assert.ok(last.accuracy >= GOAL[name], `${name}: accuracy ${last.accuracy} after ${last.round} rounds (${history.map((h) => h.accuracy.toFixed(2)).join(' ')})`);
    });
  }
});
