import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer, type CotrainServer } from '../../server/app';
import { createThreadedRepository } from '../../server/db/threaded-repository';
import { FailureLimiter } from '../../server/http/rate-limit';
import { createLogger } from '../../server/log';
import type { Repository } from '../../server/db/repository';
import { api, tempDatabase } from '../helpers/server';

/** The real server over a real database, with a failed-join limiter on a fake clock and a stand-in page renderer. */
describe('trust: join rate limit, CSRF origin check, security headers', () => {
  let server: CotrainServer;
  let repo: Repository;
  let dir: string;
  let url: string;
  let now = 1_000_000;
  const limiter = new FailureLimiter({ now: () => now });

  before(async () => {
    const db = await tempDatabase();
    dir = db.dir;
    repo = await createThreadedRepository(db.dbUrl);
    server = createServer({
      repo,
      log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
      joinLimiter: limiter,
      security: { trustProxy: false },
      pages: { handle: (_req, res) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p>page</p>') },
    });
    url = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
  });
  after(async () => {
    await server.close();
    await repo.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a class of 40 joining from one address within a minute with the right code all get in', async () => {
    const { joinCode } = (await api(url, 'POST', '/api/projects', { name: 'Class 40' })).body;
    const joins = await Promise.all(Array.from({ length: 40 }, (_, i) => api(url, 'POST', '/api/join', { code: joinCode, name: `Pupil ${i}` })));
    assert.deepEqual(joins.map((j) => j.status), Array(40).fill(200));
    assert.equal(limiter.size, 0, 'successful joins never count');
  });

  test('after 10 wrong codes an address gets 429 with Retry-After (even with the right code) until a failure is forgiven', async () => {
    const { joinCode } = (await api(url, 'POST', '/api/projects', { name: 'Guess me' })).body;
    for (let i = 0; i < 10; i++) {
      const wrong = await api(url, 'POST', '/api/join', { code: `ZZZZZZ${'23456789'[i % 8]}${i % 2 ? 'A' : 'B'}`, name: 'Eve' });
      assert.equal(wrong.status, 404, `wrong code ${i + 1}`);
      assert.equal(wrong.body.error.code, 'wrong_code');
    }
    const res = await fetch(`${url}/api/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: 'ZZZZZZZZ', name: 'Eve' }) });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '60');
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'rate_limited');
    assert.equal(typeof body.error.message, 'string');
    // Not checking the code while over the limit is what makes the limit stop guessing.
    const right = await api(url, 'POST', '/api/join', { code: joinCode, name: 'Late pupil' });
    assert.equal(right.status, 429);

    now += 30_000;
    const halfway = await fetch(`${url}/api/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: joinCode, name: 'Late pupil' }) });
    assert.equal(halfway.status, 429);
    assert.equal(halfway.headers.get('retry-after'), '30');

    now += 30_000;
    assert.equal((await api(url, 'POST', '/api/join', { code: joinCode, name: 'Late pupil' })).status, 200);
    now += 10 * 60_000;
    assert.equal((await api(url, 'POST', '/api/join', { code: 'ZZZZZZZZ', name: 'Eve' })).status, 404, 'fully forgiven after ten minutes');
  });

  test('state-changing API calls from a foreign Origin are refused; same origin and no Origin pass', async () => {
    const post = (origin?: string) =>
      fetch(`${url}/api/projects`, { method: 'POST', headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}) }, body: JSON.stringify({ name: 'Origin test' }) });
    const foreign = await post('https://evil.example');
    assert.equal(foreign.status, 403);
    const body = (await foreign.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'forbidden');
    assert.match(body.error.message, /evil\.example/);
    assert.equal((await post(url)).status, 201);
    assert.equal((await post()).status, 201);
    const before = (await repo.listProjects()).filter((p) => p.name === 'Origin test').length;
    assert.equal(before, 2, 'the refused request created nothing');
    const read = await fetch(`${url}/api/health`, { headers: { origin: 'https://evil.example' } });
    assert.equal(read.status, 200, 'reads are not state-changing');
  });

  test('every response carries the security headers: API, errors, data, vendor files and pages', async () => {
    for (const path of ['/api/health', '/api/nothing-here', '/', '/p/some-project', '/data/mnist.bin', '/vendor/tfjs-wasm/tfjs-backend-wasm.wasm']) {
      const res = await fetch(`${url}${path}`, { method: path.startsWith('/data/') ? 'HEAD' : 'GET' });
      await res.arrayBuffer();
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
      assert.equal(res.headers.get('referrer-policy'), 'same-origin', path);
      assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin', path);
      assert.match(res.headers.get('permissions-policy') ?? '', /camera=\(\)/, path);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/, path);
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.match(csp, /'wasm-unsafe-eval'/, path);
      assert.doesNotMatch(csp, / 'unsafe-eval'/, path);
    }
  });
});
