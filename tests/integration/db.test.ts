/**
 * The repository's behaviour, run once against a migrated SQLite file and once against the local
 * PostgreSQL (in a schema of its own, dropped at the end). PostgreSQL is skipped when unreachable
 * unless REQUIRE_SERVICES=1. Override its address with TEST_POSTGRES_URL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyMigrations, migrationNames } from '../../server/db/migrate';
import { createRepository, databaseKind } from '../../server/db/prisma-repository';
import type { CheckpointRow, Repository } from '../../server/db/repository';
import { createThreadedRepository } from '../../server/db/threaded-repository';
import { findPostgres, freshSchema, requireServices } from '../helpers/postgres';

const ONE_DAY = 24 * 3600 * 1000;
/** The per-round bookkeeping columns, zeroed; tests override what they check. */
const roundStats = { trainAccuracy: null, accepted: 0, late: 0, dropped: 0, rejected: 0, bytesIn: 0, bytesOut: 0, aggregationMs: 1.5, evalMs: 2.25, hyperparams: '{"learningRate":0.03}' };
let counter = 0;
/** Unique per call, so tests share one database without colliding on unique columns. */
const unique = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${(counter += 1)}-${randomBytes(3).toString('hex')}`;

/** The behaviour every backend must show. `open` prepares an empty database and returns its URL and a cleanup. */
function repositorySuite(open: () => Promise<{ url: string; cleanup: () => Promise<void> }>, connect: (url: string) => Promise<Repository> = createRepository): void {
  let url = '';
  let cleanup: () => Promise<void> = async () => {};
  let repo: Repository;
  let firstApplied: string[] = [];

  before(async () => {
    ({ url, cleanup } = await open());
    firstApplied = (await applyMigrations(url)).applied;
    repo = await connect(url);
  });
  after(async () => {
    await repo?.close();
    await cleanup();
  });

  async function newProject() {
    return repo.createProject({ slug: unique('slug'), name: 'Digits', joinCode: unique('CODE'), owner: { name: 'Ada', tokenHash: unique('hash') } });
  }

  test('applies every migration on an empty database and nothing the second time', async () => {
    assert.deepEqual(firstApplied, migrationNames(databaseKind(url)));
    assert.ok(firstApplied.length > 0);
    assert.deepEqual(await applyMigrations(url), { applied: [] });
  });

  test('creates a project with its owner, and finds it by slug', async () => {
    const { project, owner } = await newProject();
    assert.equal(project.name, 'Digits');
    assert.ok(project.createdAt instanceof Date);
    assert.equal(owner.projectId, project.id);
    assert.equal(owner.role, 'owner');
    assert.equal(owner.name, 'Ada');
    assert.ok(!('tokenHash' in owner), 'the token hash must not leave the repository');
    assert.deepEqual(await repo.findProjectBySlug(project.slug), project);
    assert.equal(await repo.findProjectBySlug(unique('missing')), null);
    assert.ok((await repo.listProjects()).some((p) => p.id === project.id));
  });

  test('refuses a second project with a taken slug and leaves no owner behind', async () => {
    const { project } = await newProject();
    const hash = unique('hash');
    await assert.rejects(repo.createProject({ slug: project.slug, name: 'Again', joinCode: unique('CODE'), owner: { name: 'Bo', tokenHash: hash } }));
    assert.equal(await repo.findMemberByTokenHash(hash), null);
  });

  test('finds a project by its join code', async () => {
    const { project } = await newProject();
    assert.deepEqual(await repo.findProjectByJoinCode(project.joinCode), project);
    assert.equal(await repo.findProjectByJoinCode(unique('NOPE')), null);
  });

  test('finds a member and their project by token hash, and forgets a replaced hash', async () => {
    const { project, owner } = await newProject();
    const oldHash = unique('hash');
    const member = await repo.addMember({ projectId: project.id, name: 'Grace', role: 'member', tokenHash: oldHash });
    assert.equal(member.role, 'member');
    assert.ok(!('tokenHash' in member));

    const found = await repo.findMemberByTokenHash(oldHash);
    assert.deepEqual(found, { member, project });
    assert.ok(found && !('tokenHash' in found.member));

    const newHash = unique('hash');
    await repo.setMemberTokenHash(member.id, newHash);
    assert.equal(await repo.findMemberByTokenHash(oldHash), null);
    assert.deepEqual((await repo.findMemberByTokenHash(newHash))?.member, member);

    const members = await repo.listMembers(project.id);
    assert.deepEqual(members.map((m) => m.id), [owner.id, member.id]);
    assert.ok(members.every((m) => !('tokenHash' in m)));
    assert.ok(members.every((m) => !m.revoked));

    // Revoked: the token is replaced and the member stays listed, marked, with their name.
    const revokedHash = unique('hash');
    await repo.markMemberRevoked(member.id, revokedHash);
    assert.equal(await repo.findMemberByTokenHash(newHash), null);
    const after = (await repo.listMembers(project.id)).find((m) => m.id === member.id);
    assert.deepEqual(after, { ...member, revoked: true });
  });

  test('replaces a join code: the project is found by the new code only', async () => {
    const { project } = await newProject();
    const code = unique('NEW');
    const updated = await repo.setJoinCode(project.id, code);
    assert.equal(updated.joinCode, code);
    assert.deepEqual(await repo.findProjectByJoinCode(code), updated);
    assert.equal(await repo.findProjectByJoinCode(project.joinCode), null);
  });

  test('keeps the document log in order and compacts it atomically', async () => {
    const { project } = await newProject();
    assert.deepEqual(await repo.loadDoc(project.id), { state: null, updates: [] });

    const updates = [Uint8Array.of(1, 2, 3), Uint8Array.of(0), randomBytes(5000)];
    const seqs: number[] = [];
    for (const update of updates) seqs.push(await repo.appendDocUpdate(project.id, update));
    assert.ok(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!), `seqs increase: ${seqs}`);

    const loaded = await repo.loadDoc(project.id);
    assert.equal(loaded.state, null);
    assert.deepEqual(loaded.updates.map((u) => u.seq), seqs);
    loaded.updates.forEach((u, i) => assert.deepEqual(u.update, new Uint8Array(updates[i]!)));

    const state = Uint8Array.of(9, 9, 9);
    await repo.compactDoc(project.id, state, seqs[1]!);
    const compacted = await repo.loadDoc(project.id);
    assert.deepEqual(compacted.state, state);
    assert.deepEqual(compacted.updates.map((u) => u.seq), [seqs[2]]);

    const later = await repo.appendDocUpdate(project.id, Uint8Array.of(7));
    assert.ok(later > seqs[2]!, 'a seq is never reused after compaction');
    const state2 = Uint8Array.of(8);
    await repo.compactDoc(project.id, state2, later);
    assert.deepEqual(await repo.loadDoc(project.id), { state: state2, updates: [] });
  });

  test('appends a group of updates in one call, in order, after what was there', async () => {
    const { project } = await newProject();
    const first = await repo.appendDocUpdate(project.id, Uint8Array.of(1));
    const group = [Uint8Array.of(2), randomBytes(3000), Uint8Array.of(4)];
    const seqs = await repo.appendDocUpdates(project.id, group);
    assert.equal(seqs.length, 3);
    assert.ok([first, ...seqs].every((seq, i, all) => i === 0 || seq > all[i - 1]!), `seqs increase: ${first} ${seqs}`);
    const loaded = await repo.loadDoc(project.id);
    assert.deepEqual(loaded.updates.map((u) => u.seq), [first, ...seqs]);
    loaded.updates.slice(1).forEach((u, i) => assert.deepEqual(u.update, new Uint8Array(group[i]!)));
    assert.deepEqual(await repo.appendDocUpdates(project.id, []), []);
  });

  test('gives concurrent appends increasing seqs in call order and loses none', async () => {
    const { project } = await newProject();
    const { project: other } = await newProject();
    const count = 40;
    const appends = Array.from({ length: count }, (_, i) => repo.appendDocUpdate(i % 2 ? other.id : project.id, Uint8Array.of(i)));
    const seqs = await Promise.all(appends);
    const mine = seqs.filter((_, i) => i % 2 === 0);
    assert.ok(mine.every((seq, i) => i === 0 || seq > mine[i - 1]!), `seqs follow call order: ${mine}`);
    const loaded = await repo.loadDoc(project.id);
    assert.deepEqual(loaded.updates.map((u) => u.seq), mine);
    assert.deepEqual(loaded.updates.map((u) => u.update[0]), Array.from({ length: count / 2 }, (_, i) => 2 * i));
  });

  test('tracks a run from waiting to finished, and lists runs newest first', async () => {
    const { project } = await newProject();
    assert.equal(await repo.findActiveRun(project.id), null);
    const first = await repo.createRun({ projectId: project.id, spec: '{"a":1}', specHash: 'h1', totalRounds: 3, status: 'waiting' });
    assert.equal(first.lastRound, 0);
    assert.equal(first.error, null);
    assert.equal(first.finishedAt, null);
    assert.deepEqual(await repo.findActiveRun(project.id), first);

    await repo.updateRun(first.id, { status: 'training' });
    assert.equal((await repo.findActiveRun(project.id))?.status, 'training');

    const finishedAt = new Date(Date.now() + ONE_DAY);
    await repo.updateRun(first.id, { status: 'failed', error: 'everyone left', finishedAt, lastRound: 2 });
    assert.equal(await repo.findActiveRun(project.id), null);
    const failed = await repo.getRun(first.id);
    assert.deepEqual(failed, { ...first, status: 'failed', error: 'everyone left', finishedAt, lastRound: 2 });

    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await repo.createRun({ projectId: project.id, spec: '{"a":2}', specHash: 'h2', totalRounds: 5, status: 'waiting' });
    assert.deepEqual((await repo.listRuns(project.id)).map((r) => r.id), [second.id, first.id]);
    assert.equal((await repo.findActiveRun(project.id))?.id, second.id);
    assert.equal(await repo.getRun(unique('run')), null);
  });

  test('saves rounds with checkpoint bytes that come back exactly', async () => {
    const { project, owner } = await newProject();
    const member = await repo.addMember({ projectId: project.id, name: 'Lin', role: 'member', tokenHash: unique('hash') });
    const run = await repo.createRun({ projectId: project.id, spec: '{}', specHash: 'h', totalRounds: 2, status: 'training' });

    const floats = new Float32Array(100_003).map(() => Math.random() * 2 - 1);
    floats.set([0, -0, Infinity, -Infinity, NaN, 3.4e38, 1e-45], 0);
    const weights = new Uint8Array(floats.buffer);
    const initial: CheckpointRow = { runId: run.id, round: 0, weights, manifest: '[{"name":"w","shape":[100003]}]', metrics: '{}', optimizerState: null, loopState: null, createdAt: new Date() };
    await repo.saveRound(null, initial, []);

    const startedAt = new Date(Date.now() - 1000);
    const round = { ...roundStats, runId: run.id, number: 1, participants: 2, samples: 640, loss: 0.6931, accuracy: 0.5, trainLoss: null, accepted: 2, bytesIn: 800_012, startedAt, finishedAt: new Date() };
    // A Buffer view into a larger allocation, as socket.io hands them over.
    const pooled = Buffer.concat([Buffer.alloc(3), Buffer.from(weights)]).subarray(3);
    const contributions = [
      { runId: run.id, round: 1, memberId: owner.id, samples: 320, computeMs: 812, backend: 'wasm', status: 'accepted' as const },
      { runId: run.id, round: 1, memberId: member.id, samples: 320, computeMs: 1200, backend: 'webgl', status: 'late' as const },
    ];
    const optimizerState = Uint8Array.from({ length: 77 }, (_, i) => (i * 37) % 256);
    await repo.saveRound(round, { ...initial, round: 1, weights: pooled, metrics: '{"loss":0.69}', optimizerState, loopState: '{"samplerState":4294967295}' }, contributions);

    for (const r of [0, 1]) {
      const saved = await repo.getCheckpoint(run.id, r);
      assert.ok(saved);
      assert.equal(Object.getPrototypeOf(saved.weights), Uint8Array.prototype, 'a plain Uint8Array, not a Buffer');
      assert.equal(saved.weights.byteOffset, 0);
      assert.deepEqual(saved.weights, weights);
      const back = new Float32Array(saved.weights.buffer, 0, floats.length);
      assert.ok(Object.is(back[1], -0) && Number.isNaN(back[4]));
    }
    assert.equal(await repo.getCheckpoint(run.id, 2), null);
    const withState = await repo.getCheckpoint(run.id, 1);
    assert.deepEqual(withState?.optimizerState, optimizerState);
    assert.equal(withState?.loopState, '{"samplerState":4294967295}');
    assert.equal((await repo.getCheckpoint(run.id, 0))?.optimizerState, null);

    const listed = await repo.listCheckpoints(run.id);
    assert.deepEqual(listed.map((c) => c.round), [0, 1]);
    assert.ok(listed.every((c) => !('weights' in c)));
    assert.equal(listed[1]?.metrics, '{"loss":0.69}');
    assert.deepEqual(await repo.listRounds(run.id), [round]);
    assert.deepEqual(await repo.listContributions(run.id), contributions);
    assert.equal((await repo.getRun(run.id))?.lastRound, 1, 'saveRound moves lastRound to the checkpoint');
  });

  test('keeps the NaN metrics of a diverged model as NaN', async () => {
    const { project } = await newProject();
    const run = await repo.createRun({ projectId: project.id, spec: '{}', specHash: 'h', totalRounds: 1, status: 'training' });
    const round = { ...roundStats, runId: run.id, number: 1, participants: 1, samples: 8, loss: NaN, accuracy: NaN, trainLoss: NaN, startedAt: new Date(), finishedAt: new Date() };
    await repo.saveRound(round, { runId: run.id, round: 1, weights: new Uint8Array(4), manifest: '[]', metrics: '{}', optimizerState: null, loopState: null, createdAt: new Date() }, []);
    assert.deepEqual(await repo.listRounds(run.id), [{ ...round, trainLoss: null }]);
  });

  test('saves nothing of a round whose checkpoint cannot be written', async () => {
    const { project, owner } = await newProject();
    const run = await repo.createRun({ projectId: project.id, spec: '{}', specHash: 'h', totalRounds: 2, status: 'training' });
    const checkpoint: CheckpointRow = { runId: run.id, round: 1, weights: Uint8Array.of(1, 2, 3, 4), manifest: '[]', metrics: '{}', optimizerState: null, loopState: null, createdAt: new Date() };
    await repo.saveRound(null, checkpoint, []);
    const round = { ...roundStats, runId: run.id, number: 1, participants: 1, samples: 1, loss: 1, accuracy: 0, trainLoss: 0.5, startedAt: new Date(), finishedAt: new Date() };
    const contribution = { runId: run.id, round: 1, memberId: owner.id, samples: 1, computeMs: 1, backend: 'cpu', status: 'accepted' as const };
    await assert.rejects(repo.saveRound(round, checkpoint, [contribution]));
    assert.deepEqual(await repo.listRounds(run.id), []);
    assert.deepEqual(await repo.listContributions(run.id), []);
    // The repository still works after the failed transaction.
    assert.ok(await repo.appendDocUpdate(project.id, Uint8Array.of(1)));
  });

  test('keeps the first server secret: later callers get it, not their own', async () => {
    const name = unique('secret');
    const first = Uint8Array.from({ length: 32 }, (_, i) => i);
    assert.deepEqual(await repo.serverSecret(name, first), first);
    assert.deepEqual(await repo.serverSecret(name, new Uint8Array(32).fill(9)), first);
    const [a, b] = await Promise.all([repo.serverSecret(`${name}-x`, new Uint8Array(32).fill(1)), repo.serverSecret(`${name}-x`, new Uint8Array(32).fill(2))]);
    assert.deepEqual(a, b);
  });
}

describe('databaseKind', () => {
  test('tells SQLite from PostgreSQL URLs and refuses others', () => {
    assert.equal(databaseKind('file:./data/cotrain.db'), 'sqlite');
    assert.equal(databaseKind('postgres://u@h/db'), 'postgresql');
    assert.equal(databaseKind('postgresql://u:secret@h:5432/db?schema=x'), 'postgresql');
    assert.throws(() => databaseKind('mysql://u:secret@h/db'), (error: Error) => /Unsupported DATABASE_URL/.test(error.message) && !error.message.includes('secret'));
  });
});

async function emptySqlite() {
  const dir = mkdtempSync(join(tmpdir(), 'cotrain-db-'));
  // A folder that does not exist yet: applyMigrations must create it.
  return { url: `file:${join(dir, 'nested', 'test.db')}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

describe('repository on SQLite', () => {
  repositorySuite(emptySqlite);
});

// The server runs the repository in a thread of its own: the same suite through that thread.
describe('repository on SQLite, in its database thread', () => {
  repositorySuite(emptySqlite, createThreadedRepository);
});

const postgres = await findPostgres();
if ('url' in postgres) {
  describe('repository on PostgreSQL', () => {
    repositorySuite(async () => freshSchema(postgres.url));
  });
} else if (requireServices) {
  test('PostgreSQL is reachable (REQUIRE_SERVICES=1)', () => assert.fail(`PostgreSQL unreachable: ${postgres.error}`));
} else {
  describe('repository on PostgreSQL', { skip: `PostgreSQL unreachable (${postgres.error}); set REQUIRE_SERVICES=1 to fail instead` }, () => {});
}
