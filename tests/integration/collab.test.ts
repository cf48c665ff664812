import type { DenseLayer } from '../../server/protocol';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { readSpec, setScalar, addLayer, readLayers } from '../../server/protocol/spec-doc';
import { api, startTestServer, tempDatabase, waitFor } from '../helpers/server';
import { connectDoc } from '../helpers/yjs';

describe('co-editing the spec over the Yjs websocket', () => {
  test('an edit in one client reaches the other and survives a server restart', async () => {
    const { dbUrl } = await tempDatabase();
    let t = await startTestServer({ dbUrl });
    const created = await api(t.url, 'POST', '/api/projects', { name: 'Collab' });
    const { slug, joinCode, ownerToken } = created.body;
    const member = await api(t.url, 'POST', '/api/join', { code: joinCode, name: 'Grace' });

    const a = await connectDoc(t.url, slug, ownerToken);
    const b = await connectDoc(t.url, slug, member.body.memberToken);
    // New projects start from the default (spiral) template.
    assert.equal(readSpec(a.doc).spec?.dataset.name, 'spiral');

    setScalar(a.doc, 'learningRate', 0.123);
    const layerId = addLayer(a.doc, { type: 'dense', units: 5, activation: 'relu' });
    await waitFor(() => readSpec(b.doc).spec?.learningRate === 0.123, 2000, 'edit to reach client B');
    await waitFor(() => readLayers(b.doc).some((l) => l.id === layerId), 2000, 'layer to reach client B');
    a.close();
    b.close();
    await t.close({ removeDb: false });

    t = await startTestServer({ dbUrl });
    try {
      const c = await connectDoc(t.url, slug, member.body.memberToken);
      assert.equal(readSpec(c.doc).spec?.learningRate, 0.123);
      assert.deepEqual((readLayers(c.doc).find((l) => l.id === layerId) as DenseLayer | undefined)?.units, 5);
      c.close();
    } finally {
      await t.close();
    }
  });

  test('the Yjs endpoint refuses connections without a valid ticket for that project', async () => {
    const t = await startTestServer();
    try {
      const one = await api(t.url, 'POST', '/api/projects', { name: 'One' });
      const two = await api(t.url, 'POST', '/api/projects', { name: 'Two' });
      const ticket = await api(t.url, 'POST', `/api/projects/${one.body.slug}/ticket`, {}, one.body.ownerToken);
      const tryOpen = (path: string) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(`${t.url.replace('http', 'ws')}${path}`);
          ws.on('open', () => {
            ws.close();
            resolve('open');
          });
          ws.on('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
          ws.on('error', (error) => resolve(`error ${error.message}`));
        });
      assert.equal(await tryOpen(`/yjs/${one.body.slug}`), 'http 401');
      assert.equal(await tryOpen(`/yjs/${one.body.slug}?ticket=forged-ticket-value-123`), 'http 401');
      assert.equal(await tryOpen(`/yjs/${two.body.slug}?ticket=${ticket.body.ticket}`), 'http 401');
      assert.equal(await tryOpen(`/yjs/${one.body.slug}?ticket=${ticket.body.ticket}`), 'open');
      assert.match(await tryOpen('/somewhere-else'), /error|http/);
    } finally {
      await t.close();
    }
  });

  test('a malformed Yjs frame closes that connection and corrupts nothing', async () => {
    const t = await startTestServer();
    try {
      const p = await api(t.url, 'POST', '/api/projects', { name: 'Hostile' });
      const good = await connectDoc(t.url, p.body.slug, p.body.ownerToken);
      const ticket = await api(t.url, 'POST', `/api/projects/${p.body.slug}/ticket`, {}, p.body.ownerToken);
      const ws = new WebSocket(`${t.url.replace('http', 'ws')}/yjs/${p.body.slug}?ticket=${ticket.body.ticket}`);
      await new Promise((r) => ws.on('open', r));
      const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
      // sync message, type "update", with a garbage payload
      ws.send(Buffer.from([0, 2, 5, 1, 2, 3, 4, 5]));
      assert.equal(await closed, 1003);
      setScalar(good.doc, 'rounds', 7);
      const again = await connectDoc(t.url, p.body.slug, p.body.ownerToken);
      await waitFor(() => readSpec(again.doc).spec?.rounds === 7, 2000, 'valid edit after a bad frame');
      good.close();
      again.close();
    } finally {
      await t.close();
    }
  });
});
