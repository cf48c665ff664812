/**
 * Roles (owner, member, viewer) are enforced by the server on every channel: every state-changing
 * HTTP route, the training socket, and the Yjs websocket (viewers and the projector are
 * read-only; a locked spec takes only the owner's edits).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { readSpec, setScalar } from '../../server/protocol/spec-doc';
import { YJS_CLOSE, type ServerMessage } from '../../server/protocol';
import { api, startTestServer, waitFor, type TestServer } from '../helpers/server';
import { rawClient } from '../helpers/clients';
import { connectDoc } from '../helpers/yjs';

type Doc = Awaited<ReturnType<typeof connectDoc>>;

/** Close codes a Yjs client sees from the server, in order. */
function closeCodes(client: Doc): number[] {
  const codes: number[] = [];
  client.provider.on('connection-close', (event: { code: number } | null) => codes.push(event?.code ?? 0));
  return codes;
}

/** A Yjs client that asks for a watch-only connection, as the projector does. */
async function watchDoc(url: string, slug: string, token: string): Promise<Doc> {
  const { body } = await api(url, 'POST', `/api/projects/${slug}/ticket`, {}, token);
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(`${url.replace(/^http/, 'ws')}/yjs`, slug, doc, {
    params: { ticket: body.ticket, mode: 'watch' },
    WebSocketPolyfill: WebSocket as never,
    disableBc: true,
  });
  await waitFor(() => provider.synced, 10_000, 'watch sync');
  return { doc, provider, close: () => (provider.destroy(), doc.destroy()) };
}

describe('roles: owner, member, viewer', () => {
  let t: TestServer;
  let slug: string;
  let projectId: string;
  let owner: string;
  let member: string;
  let memberId: string;
  let viewer: string;
  let viewerId: string;
  let otherOwner: string;
  let otherSlug: string;

  /** The server's own copy of the document: its state vector and spec as JSON. */
  const serverDoc = async () => {
    const room = await t.server.collab.room(projectId);
    return { sv: Buffer.from(Y.encodeStateVector(room.doc)).toString('hex'), spec: JSON.stringify(room.doc.getMap('spec').toJSON()) };
  };
  const storedUpdates = async () => (await t.repo.loadDoc(projectId)).updates.length;

  before(async () => {
    t = await startTestServer({ roundDeadlineMs: 60_000 });
    const created = await api(t.url, 'POST', '/api/projects', { name: 'Class', ownerName: 'Teacher' });
    ({ slug, ownerToken: owner } = created.body as { slug: string; ownerToken: string });
    const joinCode = created.body.joinCode as string;
    projectId = (await t.repo.findProjectBySlug(slug))!.id;
    const m = await api(t.url, 'POST', '/api/join', { code: joinCode, name: 'Ada' });
    const v = await api(t.url, 'POST', '/api/join', { code: joinCode, name: 'Vic', role: 'viewer' });
    assert.equal(m.body.role, 'member');
    assert.equal(v.body.role, 'viewer');
    member = m.body.memberToken;
    viewer = v.body.memberToken;
    memberId = (await api(t.url, 'GET', `/api/projects/${slug}`, undefined, member)).body.member.id;
    viewerId = (await api(t.url, 'GET', `/api/projects/${slug}`, undefined, viewer)).body.member.id;
    const other = await api(t.url, 'POST', '/api/projects', { name: 'Other class' });
    ({ slug: otherSlug, ownerToken: otherOwner } = other.body as { slug: string; ownerToken: string });
  });
  after(async () => {
    await t.close();
  });

  test('joining as "watch only" makes a viewer; a bad role is refused; members see roles, hidden names reach only the owner', async () => {
    const joinCode = (await api(t.url, 'GET', `/api/projects/${slug}`, undefined, owner)).body.project.joinCode as string;
    const bad = await api(t.url, 'POST', '/api/join', { code: joinCode, name: 'Mallory', role: 'owner' });
    assert.equal(bad.status, 400);
    const hidden = await api(t.url, 'POST', '/api/join', { code: joinCode, name: 'Rude name' });
    const hiddenId = (await api(t.url, 'GET', `/api/projects/${slug}`, undefined, hidden.body.memberToken)).body.member.id as string;
    assert.equal((await api(t.url, 'POST', `/api/projects/${slug}/members/${hiddenId}`, { hidden: true }, owner)).status, 200);

    const asViewer = await api(t.url, 'GET', `/api/projects/${slug}/members`, undefined, viewer);
    assert.equal(asViewer.status, 200);
    const roles = Object.fromEntries((asViewer.body.members as { id: string; role: string }[]).map((x) => [x.id, x.role]));
    assert.equal(roles[memberId], 'member');
    assert.equal(roles[viewerId], 'viewer');
    assert.equal((asViewer.body.members as { id: string; name: string | null }[]).find((x) => x.id === hiddenId)?.name, null);
    const asOwner = await api(t.url, 'GET', `/api/projects/${slug}/members`, undefined, owner);
    assert.deepEqual((asOwner.body.members as { id: string }[]).find((x) => x.id === hiddenId), { id: hiddenId, name: 'Rude name', role: 'member', hidden: true });
    assert.equal((await api(t.url, 'GET', `/api/projects/${slug}/members`)).status, 401);
    assert.equal((await api(t.url, 'GET', `/api/projects/${slug}/members`, undefined, otherOwner)).status, 401);
    const info = await api(t.url, 'GET', `/api/projects/${slug}`, undefined, viewer);
    assert.equal(info.body.project.specLocked, false);
    assert.ok('publicUrl' in info.body);
  });

  test('every state-changing route: 401 without a token or with another project’s, 403 for a viewer and a member, works for the owner', async () => {
    const joinCode = (await api(t.url, 'GET', `/api/projects/${slug}`, undefined, owner)).body.project.joinCode as string;
    const spare = await api(t.url, 'POST', '/api/join', { code: joinCode, name: 'Spare' });
    const spareId = (await api(t.url, 'GET', `/api/projects/${slug}`, undefined, spare.body.memberToken)).body.member.id as string;

    const expectGuarded = async (path: string, body: unknown) => {
      assert.equal((await api(t.url, 'POST', path, body)).status, 401, `${path} without a token`);
      assert.equal((await api(t.url, 'POST', path, body, otherOwner)).status, 401, `${path} with another project's owner token`);
      const asViewer = await api(t.url, 'POST', path, body, viewer);
      assert.equal(asViewer.status, 403, `${path} as a viewer`);
      assert.equal(asViewer.body.error.code, 'forbidden');
      assert.equal((await api(t.url, 'POST', path, body, member)).status, 403, `${path} as a member`);
    };
    const asOwner = async (path: string, body: unknown, status: number) => {
      const res = await api(t.url, 'POST', path, body, owner);
      assert.equal(res.status, status, `${path} as the owner: ${JSON.stringify(res.body)}`);
      return res.body;
    };

    const base = `/api/projects/${slug}`;
    await expectGuarded(`${base}/members/${spareId}`, { name: 'Spare part' });
    assert.equal((await asOwner(`${base}/members/${spareId}`, { name: 'Spare part' }, 200)).member.name, 'Spare part');
    await expectGuarded(`${base}/lock`, { locked: true });
    assert.deepEqual(await asOwner(`${base}/lock`, { locked: true }, 200), { specLocked: true });
    assert.deepEqual(await asOwner(`${base}/lock`, { locked: false }, 200), { specLocked: false });
    await expectGuarded(`${base}/train`, {});
    const { runId } = await asOwner(`${base}/train`, {}, 202);
    for (const action of ['pause', 'resume', 'stop']) {
      await expectGuarded(`${base}/runs/${runId}/${action}`, {});
      await asOwner(`${base}/runs/${runId}/${action}`, {}, 202);
    }
    await expectGuarded(`${base}/reset`, {});
    assert.deepEqual(await asOwner(`${base}/reset`, {}, 200), { stoppedRunId: null });
    await expectGuarded(`${base}/join-code`, {});
    await asOwner(`${base}/join-code`, {}, 200);
    await expectGuarded(`${base}/members/${spareId}/revoke`, {});
    await asOwner(`${base}/members/${spareId}/revoke`, {}, 200);

    // The owner of another project cannot reach this project's members through their own project.
    const foreign = await api(t.url, 'POST', `/api/projects/${otherSlug}/members/${memberId}`, { hidden: true }, otherOwner);
    assert.equal(foreign.status, 404);
    // Bad bodies are refused clearly, and the owner's own role never changes.
    const ownerId = (await api(t.url, 'GET', base, undefined, owner)).body.member.id as string;
    assert.equal((await api(t.url, 'POST', `${base}/members/${memberId}`, {}, owner)).status, 400);
    assert.equal((await api(t.url, 'POST', `${base}/members/${memberId}`, { role: 'owner' }, owner)).status, 400);
    assert.equal((await api(t.url, 'POST', `${base}/members/${ownerId}`, { role: 'viewer' }, owner)).status, 400);
    assert.equal((await api(t.url, 'POST', `${base}/lock`, { locked: 'yes' }, owner)).status, 400);
  });

  test('reset stops the active run and clears the live run; the stopped run stays in the history', async () => {
    const watcher = rawClient(t.url, { slug, token: viewer });
    watcher.hello(false);
    const { runId } = (await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, owner)).body as { runId: string };
    await waitFor(() => watcher.messages.some((m) => m.type === 'state' && m.run?.runId === runId), 10_000, 'the run in the state');
    const cleared = watcher.next<Extract<ServerMessage, { type: 'state' }>>((m) => m.type === 'state' && m.run === null);
    const reset = await api(t.url, 'POST', `/api/projects/${slug}/reset`, {}, owner);
    assert.deepEqual(reset.body, { stoppedRunId: runId });
    await cleared;
    const runs = (await api(t.url, 'GET', `/api/projects/${slug}`, undefined, owner)).body.runs as { id: string; status: string }[];
    assert.equal(runs.find((r) => r.id === runId)?.status, 'stopped');
    // The next Train starts a new run from fresh weights.
    const next = await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, owner);
    assert.equal(next.status, 202);
    assert.notEqual(next.body.runId, runId);
    assert.equal((await t.repo.getRun(next.body.runId))?.origin ?? null, null);
    await api(t.url, 'POST', `/api/projects/${slug}/reset`, {}, owner);
    watcher.close();
  });

  test('socket: a viewer cannot contribute (refused, never assigned) while a member is assigned', async () => {
    const viewerSocket = rawClient(t.url, { slug, token: viewer });
    viewerSocket.hello(true);
    const refused = await viewerSocket.next<Extract<ServerMessage, { type: 'error' }>>((m) => m.type === 'error');
    assert.equal(refused.code, 'forbidden');
    await waitFor(() => viewerSocket.messages.some((m) => m.type === 'state' && m.clients.some((c) => c.clientId.startsWith(viewerId) && !c.contribute)), 10_000, 'viewer listed as not contributing');

    const { runId } = (await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, owner)).body as { runId: string };
    // Only the viewer is connected: the run waits for a contributor instead of assigning it work.
    await waitFor(() => viewerSocket.messages.some((m) => m.type === 'state' && m.run?.runId === runId && m.run.waitingReason), 10_000, 'run waiting');
    const memberSocket = rawClient(t.url, { slug, token: member });
    memberSocket.hello(true);
    const assign = await memberSocket.next<Extract<ServerMessage, { type: 'assign' }>>((m) => m.type === 'assign');
    assert.equal(assign.runId, runId);
    assert.equal(viewerSocket.messages.filter((m) => m.type === 'assign').length, 0, 'the viewer got no assignment');

    // An update from the viewer is refused outright.
    viewerSocket.send({ type: 'update', runId, round: assign.round, samples: 1, computeMs: 1, trainLoss: null, encoding: 'float32', delta: new Uint8Array(4) });
    const updateRefused = await viewerSocket.next<Extract<ServerMessage, { type: 'error' }>>((m) => m.type === 'error');
    assert.equal(updateRefused.code, 'forbidden');
    viewerSocket.close();
    memberSocket.close();
    await api(t.url, 'POST', `/api/projects/${slug}/reset`, {}, owner);
  });

  test('Yjs: a viewer syncs and sees edits, but its own update is refused and the server’s document is unchanged', async () => {
    const ownerDoc = await connectDoc(t.url, slug, owner);
    const viewerDoc = await connectDoc(t.url, slug, viewer);
    const codes = closeCodes(viewerDoc);
    // Read access works: the owner's edit reaches the viewer, and merely syncing closes nothing.
    setScalar(ownerDoc.doc, 'learningRate', 0.07);
    await waitFor(() => viewerDoc.doc.getMap('spec').get('learningRate') === 0.07, 10_000, 'owner edit at the viewer');
    assert.equal(codes.length, 0, `closed: ${codes.join()}`);

    const before = await serverDoc();
    const stored = await storedUpdates();
    setScalar(viewerDoc.doc, 'learningRate', 0.9);
    await waitFor(() => codes.includes(YJS_CLOSE.read_only.code), 10_000, 'viewer connection closed as read-only');
    viewerDoc.close();
    assert.deepEqual(await serverDoc(), before, 'server document unchanged');
    assert.equal(await storedUpdates(), stored, 'nothing stored');
    assert.equal(ownerDoc.doc.getMap('spec').get('learningRate'), 0.07);
    ownerDoc.close();
  });

  test('Yjs: a watch-only connection (the projector) is read-only even for the owner', async () => {
    const projector = await watchDoc(t.url, slug, owner);
    const codes = closeCodes(projector);
    const before = await serverDoc();
    setScalar(projector.doc, 'rounds', 3);
    await waitFor(() => codes.includes(YJS_CLOSE.read_only.code), 10_000, 'watch connection closed as read-only');
    projector.close();
    assert.deepEqual(await serverDoc(), before);
  });

  test('Yjs: a locked spec refuses a member’s edit but takes the owner’s; unlocked, the member edits again', async () => {
    const ownerDoc = await connectDoc(t.url, slug, owner);
    const memberDoc = await connectDoc(t.url, slug, member);
    const codes = closeCodes(memberDoc);
    // The lock is announced live to every client through the room's awareness state.
    const locked = await api(t.url, 'POST', `/api/projects/${slug}/lock`, { locked: true }, owner);
    assert.equal(locked.status, 200);
    await waitFor(() => [...memberDoc.provider.awareness.getStates().values()].some((s) => (s as { room?: { specLocked: boolean } }).room?.specLocked === true), 10_000, 'lock announced');

    const before = await serverDoc();
    setScalar(memberDoc.doc, 'batchSize', 3);
    await waitFor(() => codes.includes(YJS_CLOSE.spec_locked.code), 10_000, 'member edit refused');
    memberDoc.close();
    assert.deepEqual(await serverDoc(), before, 'server document unchanged by the member');

    setScalar(ownerDoc.doc, 'batchSize', 17);
    await waitFor(async () => (await t.server.collab.room(projectId)).doc.getMap('spec').get('batchSize') === 17, 10_000, 'owner edit accepted');

    assert.equal((await api(t.url, 'POST', `/api/projects/${slug}/lock`, { locked: false }, owner)).status, 200);
    const again = await connectDoc(t.url, slug, member);
    const againCodes = closeCodes(again);
    setScalar(again.doc, 'batchSize', 19);
    await waitFor(() => ownerDoc.doc.getMap('spec').get('batchSize') === 19, 10_000, 'member edit accepted after unlock');
    assert.equal(againCodes.length, 0, `closed: ${againCodes.join()}`);
    assert.ok(readSpec((await t.server.collab.room(projectId)).doc).spec, 'spec still valid');
    again.close();
    ownerDoc.close();
  });

  test('the owner turns a member into a viewer and back: live connections follow the new role', async () => {
    const memberDoc = await connectDoc(t.url, slug, member);
    const codes = closeCodes(memberDoc);
    const socket = rawClient(t.url, { slug, token: member });
    socket.hello(true);
    await waitFor(() => socket.messages.some((m) => m.type === 'state' && m.clients.some((c) => c.clientId.startsWith(memberId) && c.contribute)), 10_000, 'member contributing');

    const changed = await api(t.url, 'POST', `/api/projects/${slug}/members/${memberId}`, { role: 'viewer' }, owner);
    assert.equal(changed.status, 200);
    assert.equal(changed.body.member.role, 'viewer');
    // Yjs: told to reconnect (the new ticket carries the new role); training: no more work.
    await waitFor(() => codes.includes(YJS_CLOSE.role_changed.code), 10_000, 'role_changed close');
    memberDoc.close();
    await waitFor(() => socket.messages.some((m) => m.type === 'state' && m.clients.some((c) => c.clientId.startsWith(memberId) && !c.contribute)), 10_000, 'no longer contributing');
    const asViewer = await connectDoc(t.url, slug, member);
    const viewerCodes = closeCodes(asViewer);
    setScalar(asViewer.doc, 'batchSize', 5);
    await waitFor(() => viewerCodes.includes(YJS_CLOSE.read_only.code), 10_000, 'now read-only');
    asViewer.close();

    assert.equal((await api(t.url, 'POST', `/api/projects/${slug}/members/${memberId}`, { role: 'member' }, owner)).status, 200);
    const back = await connectDoc(t.url, slug, member);
    setScalar(back.doc, 'batchSize', 23);
    await waitFor(async () => (await t.server.collab.room(projectId)).doc.getMap('spec').get('batchSize') === 23, 10_000, 'member edits again');
    back.close();
    socket.close();
  });
});
