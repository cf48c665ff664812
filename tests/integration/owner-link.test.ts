/**
 * The owner recovery link: the owner can make a new one at any time, and the old one (and any
 * browser signed in with it) stops working at once; nobody else can make one.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestServer, type TestServer } from '../helpers/server';

/** The cookie a response sets, as "name=value" ready for a Cookie header. */
function cookieOf(res: Response): string {
  const header = res.headers.get('set-cookie');
  assert.ok(header, 'expected a Set-Cookie header');
  return header.split(';')[0]!;
}

describe('owner link rotation', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    await t.close();
  });

  test('the owner gets a new owner token: the old one gets 401 at once, the new one signs in as owner', async () => {
    const created = await api(t.url, 'POST', '/api/projects', { name: 'Lost my laptop', ownerName: 'Olga' });
    assert.equal(created.status, 201);
    const { slug, ownerToken } = created.body as { slug: string; ownerToken: string };

    const rotated = await api(t.url, 'POST', `/api/projects/${slug}/owner-link`, {}, ownerToken);
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.equal(rotated.body.slug, slug);
    const next = rotated.body.ownerToken as string;
    assert.equal(typeof next, 'string');
    assert.notEqual(next, ownerToken);

    // The old owner link no longer signs anyone in, nor does it make another link.
    const old = await api(t.url, 'POST', `/api/projects/${slug}/session`, {}, ownerToken);
    assert.equal(old.status, 401);
    assert.equal(old.body.error.code, 'unauthorized');
    assert.equal((await api(t.url, 'GET', `/api/projects/${slug}`, undefined, ownerToken)).status, 401);
    assert.equal((await api(t.url, 'POST', `/api/projects/${slug}/owner-link`, {}, ownerToken)).status, 401);

    // The new one is the same owner (the claim page trades it for a cookie).
    const session = await api(t.url, 'POST', `/api/projects/${slug}/session`, {}, next);
    assert.equal(session.status, 200);
    assert.equal(session.body.member.role, 'owner');
    assert.equal(session.body.member.name, 'Olga');
    assert.equal((await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, next)).status, 202);
  });

  test('the browser that rotates keeps its sign-in (new cookie); a browser holding the old cookie is signed out', async () => {
    const res = await fetch(new URL('/api/projects', t.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Two laptops' }),
    });
    const { slug } = (await res.json()) as { slug: string };
    const firstCookie = cookieOf(res);
    const stolenCookie = firstCookie;

    const rotate = await fetch(new URL(`/api/projects/${slug}/owner-link`, t.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: firstCookie },
      body: '{}',
    });
    assert.equal(rotate.status, 200);
    const newCookie = cookieOf(rotate);
    const { ownerToken } = (await rotate.json()) as { ownerToken: string };
    assert.equal(newCookie, `ct_${slug}=${encodeURIComponent(ownerToken)}`);

    const ticket = (cookie: string) =>
      fetch(new URL(`/api/projects/${slug}/ticket`, t.url), { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: '{}' });
    assert.equal((await ticket(newCookie)).status, 200);
    assert.equal((await ticket(stolenCookie)).status, 401);
  });

  test('a member gets 403 and their own access is untouched; no credentials get 401; an unknown project 404', async () => {
    const created = await api(t.url, 'POST', '/api/projects', { name: 'Members cannot' });
    const { slug, joinCode, ownerToken } = created.body as { slug: string; joinCode: string; ownerToken: string };
    const member = await api(t.url, 'POST', '/api/join', { code: joinCode, name: 'Mia' });
    assert.equal(member.status, 200);

    const refused = await api(t.url, 'POST', `/api/projects/${slug}/owner-link`, {}, member.body.memberToken);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'forbidden');
    assert.equal((await api(t.url, 'POST', `/api/projects/${slug}/owner-link`, {})).status, 401);
    assert.equal((await api(t.url, 'POST', '/api/projects/no-such-project/owner-link', {}, ownerToken)).status, 404);

    // The refused attempt changed nothing: the owner token still works, and after a rotation the
    // member is still in.
    assert.equal((await api(t.url, 'GET', `/api/projects/${slug}`, undefined, ownerToken)).status, 200);
    assert.equal((await api(t.url, 'POST', `/api/projects/${slug}/owner-link`, {}, ownerToken)).status, 200);
    assert.equal((await api(t.url, 'GET', `/api/projects/${slug}`, undefined, member.body.memberToken)).status, 200);
  });
});
