import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { api, startTestServer, type TestServer } from '../helpers/server';
import { TrainingClient } from '../../workers/client';

describe('projects and membership over HTTP', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    await t.close();
  });

  test('creating a project returns its slug, join code and an owner token, and signs the browser in', async () => {
    const res = await fetch(`${t.url}/api/projects`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Class 7B' }) });
    assert.equal(res.status, 201);
    const body = (await res.json()) as { slug: string; joinCode: string; ownerToken: string };
    assert.match(body.slug, /^class-7b-[0-9a-f]{8}$/);
    assert.match(body.joinCode, /^[A-Z2-9]{8}$/);
    assert.ok(body.ownerToken.length >= 40);
    const cookie = res.headers.get('set-cookie') ?? '';
    assert.match(cookie, /HttpOnly/);
    assert.ok(cookie.includes(body.ownerToken.slice(0, 10)));
  });

  test('joining with the code returns a member token; a wrong code is refused', async () => {
    const created = await api(t.url, 'POST', '/api/projects', { name: 'Join me' });
    const joined = await api(t.url, 'POST', '/api/join', { code: created.body.joinCode.toLowerCase(), name: 'Ada' });
    assert.equal(joined.status, 200);
    assert.equal(joined.body.slug, created.body.slug);
    assert.equal(joined.body.role, 'member');
    const wrong = await api(t.url, 'POST', '/api/join', { code: 'ZZZZZZZZ', name: 'Eve' });
    assert.equal(wrong.status, 404);
    assert.equal(wrong.body.error.code, 'wrong_code');
    assert.equal(typeof wrong.body.error.message, 'string');
  });

  test('malformed bodies get a 400 with a JSON error and change nothing', async () => {
    const empty = await api(t.url, 'POST', '/api/projects', { name: '' });
    assert.equal(empty.status, 400);
    assert.equal(empty.body.error.code, 'bad_request');
    const res = await fetch(`${t.url}/api/projects`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    assert.equal(res.status, 400);
    const form = await fetch(`${t.url}/api/projects`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=x' });
    assert.equal(form.status, 400);
    assert.equal((await t.repo.listProjects()).filter((p) => p.name === 'x').length, 0);
  });

  test('only the owner can start training, once at a time', async () => {
    const created = await api(t.url, 'POST', '/api/projects', { name: 'Train me' });
    const { slug, joinCode, ownerToken } = created.body;
    const member = await api(t.url, 'POST', '/api/join', { code: joinCode, name: 'Bob' });
    const other = await api(t.url, 'POST', '/api/projects', { name: 'Other' });

    assert.equal((await api(t.url, 'POST', `/api/projects/${slug}/train`, {})).status, 401);
    assert.equal((await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, 'not-a-real-token-at-all')).status, 401);
    assert.equal((await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, other.body.ownerToken)).status, 401);
    const forbidden = await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, member.body.memberToken);
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.error.code, 'forbidden');

    const started = await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    assert.equal(started.status, 202);
    assert.equal(typeof started.body.runId, 'string');
    const again = await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'run_active');

    const project = await api(t.url, 'GET', `/api/projects/${slug}`, undefined, member.body.memberToken);
    assert.equal(project.status, 200);
    assert.equal(project.body.runs[0].status, 'waiting');
    const run = await api(t.url, 'GET', `/api/projects/${slug}/runs/${started.body.runId}`, undefined, ownerToken);
    assert.deepEqual(run.body.checkpoints.map((c: { round: number }) => c.round), [0]);
  });

  test('unknown projects are 404 and unknown routes answer JSON', async () => {
    assert.equal((await api(t.url, 'GET', '/api/projects/nope-123', undefined, 'x'.repeat(43))).status, 404);
    const missing = await api(t.url, 'GET', '/api/nothing-here');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'not_found');
  });

  test('socket.io refuses a connection without a valid token for that project', async () => {
    const created = await api(t.url, 'POST', '/api/projects', { name: 'Sockets' });
    const other = await api(t.url, 'POST', '/api/projects', { name: 'Elsewhere' });
    const attempt = (auth: object) =>
      new Promise<string>((resolve) => {
        const socket = io(t.url, { auth, transports: ['websocket'], reconnection: false });
        socket.on('connect', () => {
          socket.close();
          resolve('connected');
        });
        socket.on('connect_error', (error) => {
          socket.close();
          resolve(error.message);
        });
      });
    assert.equal(await attempt({}), 'unauthorized');
    assert.equal(await attempt({ slug: created.body.slug, token: 'x'.repeat(43) }), 'unauthorized');
    assert.equal(await attempt({ slug: created.body.slug, token: other.body.ownerToken }), 'unauthorized');
    assert.equal(await attempt({ slug: created.body.slug, ticket: 'y'.repeat(32) }), 'unauthorized');
    assert.equal(await attempt({ slug: created.body.slug, token: created.body.ownerToken }), 'connected');
  });

  test('a training client whose handshake was refused tries again and gets in once its credentials are good', async () => {
    const created = await api(t.url, 'POST', '/api/projects', { name: 'Retry' });
    const { slug, ownerToken } = created.body as { slug: string; ownerToken: string };
    let attempts = 0;
    const reasons: string[] = [];
    // The first two handshakes carry a stale ticket (as after a laptop slept past its expiry).
    const client = new TrainingClient({
      url: t.url,
      auth: async () => (++attempts <= 2 ? { slug, ticket: 'z'.repeat(32) } : { slug, token: ownerToken }),
      agent: 'headless',
      backend: 'cpu',
      probeMs: 0,
      contribute: false,
      train: () => Promise.reject(new Error('not training')),
    });
    client.on('connection', (e) => {
      if (!e.connected && e.reason) reasons.push(e.reason);
    });
    try {
      const welcome = await new Promise((resolve) => client.on('welcome', resolve));
      assert.ok(welcome);
      assert.equal(attempts, 3);
      assert.deepEqual(reasons, ['unauthorized', 'unauthorized']);
    } finally {
      client.close();
    }
  });
});
