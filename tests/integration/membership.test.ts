/**
 * The owner's hold on who gets in: rotating the join code retires the old one at once, and
 * revoking a member makes their token worthless; nobody else can do either.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startTestServer, waitFor, type TestServer } from '../helpers/server';
import { rawClient } from '../helpers/clients';
import { connectDoc } from '../helpers/yjs';
import { randomBytes } from 'node:crypto';
import { io } from 'socket.io-client';
import { WebSocket } from 'ws';
import { hashToken } from '../../server/auth';

describe('join codes and member tokens', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    await t.close();
  });

  test('the owner rotates the join code: the old code stops working, the new one works; members cannot', async () => {
    const created = await api(t.url, 'POST', '/api/projects', { name: 'Rotate me' });
    const { slug, joinCode, ownerToken } = created.body as { slug: string; joinCode: string; ownerToken: string };
    const member = await api(t.url, 'POST', '/api/join', { code: joinCode, name: 'Ada' });
    assert.equal(member.status, 200);

    const refused = await api(t.url, 'POST', `/api/projects/${slug}/join-code`, {}, member.body.memberToken);
    assert.equal(refused.status, 403);
    assert.equal((await api(t.url, 'POST', `/api/projects/${slug}/join-code`, {})).status, 401);

    const rotated = await api(t.url, 'POST', `/api/projects/${slug}/join-code`, {}, ownerToken);
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    const next = rotated.body.joinCode as string;
    assert.match(next, /^[A-Z2-9]{8}$/);
    assert.notEqual(next, joinCode);
    const old = await api(t.url, 'POST', '/api/join', { code: joinCode, name: 'Late' });
    assert.equal(old.status, 404);
    assert.equal(old.body.error.code, 'wrong_code');
    assert.equal((await api(t.url, 'POST', '/api/join', { code: next, name: 'Bea' })).status, 200);
    assert.equal((await api(t.url, 'GET', `/api/projects/${slug}`, undefined, ownerToken)).body.project.joinCode, next);
    // Members already in keep their access.
    assert.equal((await api(t.url, 'GET', `/api/projects/${slug}`, undefined, member.body.memberToken)).status, 200);
  });

  test('the owner revokes a member: their token stops working at once; the owner cannot be revoked; members cannot revoke', async () => {
    const created = await api(t.url, 'POST', '/api/projects', { name: 'Revoke me' });
    const { slug, joinCode, ownerToken } = created.body as { slug: string; joinCode: string; ownerToken: string };
    const eve = await api(t.url, 'POST', '/api/join', { code: joinCode, name: 'Eve' });
    const bea = await api(t.url, 'POST', '/api/join', { code: joinCode, name: 'Bea' });
    const eveInfo = await api(t.url, 'GET', `/api/projects/${slug}`, undefined, eve.body.memberToken);
    const eveId = eveInfo.body.member.id as string;
    const ownerId = (await api(t.url, 'GET', `/api/projects/${slug}`, undefined, ownerToken)).body.member.id as string;

    assert.equal((await api(t.url, 'POST', `/api/projects/${slug}/members/${eveId}/revoke`, {}, bea.body.memberToken)).status, 403);
    const self = await api(t.url, 'POST', `/api/projects/${slug}/members/${ownerId}/revoke`, {}, ownerToken);
    assert.equal(self.status, 400);
    const unknown = await api(t.url, 'POST', `/api/projects/${slug}/members/nobody/revoke`, {}, ownerToken);
    assert.equal(unknown.status, 404);

    // Eve is connected live: to the shared document and to training.
    const eveDoc = await connectDoc(t.url, slug, eve.body.memberToken);
    const closes: number[] = [];
    eveDoc.provider.on('connection-close', (event: { code: number } | null) => closes.push(event?.code ?? 0));
    const eveSocket = rawClient(t.url, { slug, token: eve.body.memberToken });
    eveSocket.hello();
    await waitFor(() => eveSocket.messages.some((m) => m.type === 'welcome'), 10_000, 'Eve welcomed');
    const dropped = new Promise((resolve) => eveSocket.socket.on('disconnect', resolve));
    // A ticket Eve fetched just before (tickets live two minutes) and an owner's view watching the room.
    const eveTicket = (await api(t.url, 'POST', `/api/projects/${slug}/ticket`, {}, eve.body.memberToken)).body.ticket as string;
    const ownerDoc = await connectDoc(t.url, slug, ownerToken);
    const membersRev = () => ([...ownerDoc.provider.awareness.getStates().values()].find((s) => s.room)?.room as { membersRev: number } | undefined)?.membersRev ?? 0;
    await waitFor(() => ownerDoc.provider.synced, 10_000, 'the owner’s document synced');
    const revBefore = membersRev();

    const revoked = await api(t.url, 'POST', `/api/projects/${slug}/members/${eveId}/revoke`, {}, ownerToken);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    await dropped;
    await waitFor(() => closes.includes(4003), 10_000, 'Eve’s Yjs connection closed with 4003');
    eveDoc.close();
    eveSocket.close();
    assert.equal((await api(t.url, 'GET', `/api/projects/${slug}`, undefined, eve.body.memberToken)).status, 401);
    assert.equal((await api(t.url, 'POST', `/api/projects/${slug}/ticket`, {}, eve.body.memberToken)).status, 401);
    // The ticket she still holds is refused too, on both channels.
    const withTicket = io(t.url, { auth: { slug, ticket: eveTicket }, transports: ['websocket'], reconnection: false });
    const refusal = await new Promise<string>((resolve) => {
      withTicket.on('connect', () => resolve('connected'));
      withTicket.on('connect_error', (error) => resolve(error.message));
    });
    withTicket.close();
    assert.equal(refusal, 'unauthorized');
    const yjsStatus = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${t.url.replace(/^http/, 'ws')}/yjs/${slug}?ticket=${eveTicket}`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    assert.equal(yjsStatus, 401);
    // She is no longer listed as a member (after a reload too), and open owner views were told to refetch.
    const listed = await api(t.url, 'GET', `/api/projects/${slug}/members`, undefined, ownerToken);
    assert.deepEqual((listed.body.members as { name: string }[]).map((m) => m.name).sort(), ['Bea', 'Owner'].sort());
    await waitFor(() => membersRev() > revBefore, 10_000, 'the members revision announced');
    ownerDoc.close();
    assert.equal((await api(t.url, 'POST', `/api/projects/${slug}/members/${eveId}/revoke`, {}, ownerToken)).status, 404, 'revoked once');
    assert.equal((await api(t.url, 'POST', `/api/projects/${slug}/members/${eveId}`, { name: 'Back' }, ownerToken)).status, 404, 'a removed member cannot be renamed');
    assert.equal((await api(t.url, 'GET', `/api/projects/${slug}`, undefined, bea.body.memberToken)).status, 200, 'others keep their access');
    // A member of another project cannot revoke here either.
    const other = await api(t.url, 'POST', '/api/projects', { name: 'Elsewhere' });
    const beaId = (await api(t.url, 'GET', `/api/projects/${slug}`, undefined, bea.body.memberToken)).body.member.id as string;
    assert.equal((await api(t.url, 'POST', `/api/projects/${slug}/members/${beaId}/revoke`, {}, other.body.ownerToken)).status, 401);
  });

  test('new tokens are signed; a forged tag is refused; an unsigned token from an earlier version still works if it is stored', async () => {
    const created = await api(t.url, 'POST', '/api/projects', { name: 'Old links' });
    const { slug, ownerToken } = created.body as { slug: string; ownerToken: string };
    assert.match(ownerToken, /^ct1\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{22}$/);
    const [prefix, body] = ownerToken.split('.');
    assert.equal((await api(t.url, 'GET', `/api/projects/${slug}`, undefined, `${prefix}.${body}.${'A'.repeat(22)}`)).status, 401);
    // A member whose (legacy) token was stored before tokens were signed.
    const project = (await t.repo.findProjectBySlug(slug))!;
    const legacy = randomBytes(32).toString('base64url');
    await t.repo.addMember({ projectId: project.id, name: 'Last week', role: 'member', tokenHash: hashToken(legacy) });
    assert.equal((await api(t.url, 'GET', `/api/projects/${slug}`, undefined, legacy)).status, 200);
    assert.equal((await api(t.url, 'GET', `/api/projects/${slug}`, undefined, randomBytes(32).toString('base64url'))).status, 401);
  });
});
