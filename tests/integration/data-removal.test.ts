/**
 * Data you can remove: the owner deletes a project with every row of it (SQLite and PostgreSQL),
 * a member leaves and is anonymised, and per-round checkpoints are thinned by the retention policy
 * over a real run, across a server restart. Real server, real sockets, real databases.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import pg from 'pg';
import { applyMigrations } from '../../server/db/migrate';
import { createRepository } from '../../server/db/prisma-repository';
import { FORMER_MEMBER_NAME } from '../../server/projects';
import { YJS_CLOSE } from '../../server/protocol';
import { api, startTestServer, tempDatabase, waitFor, type TestServer } from '../helpers/server';
import { connectDoc } from '../helpers/yjs';
import { createShapedProject, observe, participant, participants, rawClient, slowly } from '../helpers/clients';
import { findPostgres, freshSchema, requireServices } from '../helpers/postgres';

/** Rows of one project in every table (runs' children by the run ids recorded before the deletion). */
type Counts = Record<'Project' | 'Member' | 'ProjectDoc' | 'ProjectDocUpdate' | 'Run' | 'Round' | 'Checkpoint' | 'Contribution', number>;

/** One query per table, with its parameters; `p(i)` writes the i-th (1-based) placeholder. */
function countQueries(p: (i: number) => string, projectId: string, runIds: string[]): Record<keyof Counts, [string, string[]]> {
  const ids = [...runIds, '-'];
  const list = (from: number) => ids.map((_, i) => p(from + i)).join(', ');
  const byRun = (table: string): [string, string[]] => [`SELECT COUNT(*) AS n FROM "${table}" WHERE "runId" IN (${list(1)})`, ids];
  return {
    Project: [`SELECT COUNT(*) AS n FROM "Project" WHERE "id" = ${p(1)}`, [projectId]],
    Member: [`SELECT COUNT(*) AS n FROM "Member" WHERE "projectId" = ${p(1)}`, [projectId]],
    ProjectDoc: [`SELECT COUNT(*) AS n FROM "ProjectDoc" WHERE "projectId" = ${p(1)}`, [projectId]],
    ProjectDocUpdate: [`SELECT COUNT(*) AS n FROM "ProjectDocUpdate" WHERE "projectId" = ${p(1)}`, [projectId]],
    Run: [`SELECT COUNT(*) AS n FROM "Run" WHERE "projectId" = ${p(1)} OR "id" IN (${list(2)})`, [projectId, ...ids]],
    Round: byRun('Round'),
    Checkpoint: byRun('Checkpoint'),
    Contribution: byRun('Contribution'),
  };
}

/** Counts a project's rows straight from the database, bypassing the repository. */
async function countRows(dbUrl: string, projectId: string, runIds: string[]): Promise<Counts> {
  const counts = {} as Counts;
  if (dbUrl.startsWith('file:')) {
    const db = new Database(dbUrl.replace(/^file:/, ''), { readonly: true, fileMustExist: true });
    try {
      for (const [table, [sql, params]] of Object.entries(countQueries(() => '?', projectId, runIds))) counts[table as keyof Counts] = Number((db.prepare(sql).get(...params) as { n: number }).n);
    } finally {
      db.close();
    }
    return counts;
  }
  const url = new URL(dbUrl);
  const schema = url.searchParams.get('schema');
  url.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    if (schema) await client.query(`SET search_path TO "${schema}"`);
    for (const [table, [sql, params]] of Object.entries(countQueries((i) => `$${i}`, projectId, runIds))) counts[table as keyof Counts] = Number((await client.query(sql, params)).rows[0].n);
  } finally {
    await client.end();
  }
  return counts;
}

const postgres = await findPostgres();
const databases: { name: string; make: () => Promise<{ dbUrl: string; cleanup: () => Promise<void> }> }[] = [
  { name: 'SQLite', make: async () => ({ dbUrl: (await tempDatabase()).dbUrl, cleanup: async () => undefined }) },
];
if ('url' in postgres) {
  databases.push({
    name: 'PostgreSQL',
    make: async () => {
      const schema = freshSchema(postgres.url);
      await applyMigrations(schema.url);
      return { dbUrl: schema.url, cleanup: schema.cleanup };
    },
  });
} else if (requireServices) {
  test('PostgreSQL is reachable (REQUIRE_SERVICES=1)', () => assert.fail(`no PostgreSQL: ${postgres.error}`));
}

const projectIdOf = async (t: TestServer, slug: string) => (await t.repo.findProjectBySlug(slug))!.id;

for (const { name, make } of databases) {
  describe(`deleting a project (${name})`, () => {
    test('the owner deletes a project mid-run: live connections close with a reason, every row goes, every route answers 404, nothing comes back', { timeout: 120_000 }, async () => {
      const db = await make();
      let t = await startTestServer({ dbUrl: db.dbUrl });
      try {
        const { slug, joinCode, ownerToken } = await createShapedProject(t.url, { rounds: 50, 'dataset.samples': 300, localEpochs: 1 }, 'Doomed project');
        const other = await api(t.url, 'POST', '/api/projects', { name: 'Survivor' });
        const projectId = await projectIdOf(t, slug);
        const otherId = await projectIdOf(t, other.body.slug);

        const people = await participants(t.url, slug, joinCode, 2, 'd', { wrap: slowly(100) });
        const memberToken = (await api(t.url, 'POST', '/api/join', { code: joinCode, name: 'Watcher' })).body.memberToken as string;
        const watcher = rawClient(t.url, { slug, token: memberToken });
        watcher.hello(false);
        await waitFor(() => watcher.messages.some((m) => m.type === 'welcome'), 10_000, 'watcher welcomed');
        const watcherGone = new Promise((resolve) => watcher.socket.on('disconnect', resolve));
        const docs = [await connectDoc(t.url, slug, ownerToken), await connectDoc(t.url, slug, memberToken)];
        const closes: number[] = [];
        for (const d of docs) d.provider.on('connection-close', (event: { code: number } | null) => closes.push(event?.code ?? 0));

        const started = await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
        assert.equal(started.status, 202, JSON.stringify(started.body));
        const runId = started.body.runId as string;
        await waitFor(async () => (await t.repo.getRun(runId))!.lastRound >= 2, 60_000, 'two rounds saved');
        const imported = (await t.repo.listRuns(projectId)).map((r) => r.id);
        const before = await countRows(db.dbUrl, projectId, imported);
        for (const table of ['Project', 'Member', 'ProjectDocUpdate', 'Run', 'Round', 'Checkpoint', 'Contribution'] as const) assert.ok(before[table] > 0, `${table} has rows before: ${JSON.stringify(before)}`);

        // Only the owner, and only with the project's name typed out.
        assert.equal((await api(t.url, 'DELETE', `/api/projects/${slug}`, { confirmName: 'Doomed project' }, memberToken)).status, 403);
        assert.equal((await api(t.url, 'DELETE', `/api/projects/${slug}`, { confirmName: 'Doomed' }, ownerToken)).status, 400);
        assert.equal((await api(t.url, 'DELETE', `/api/projects/${slug}`, {}, ownerToken)).status, 400);
        assert.equal((await api(t.url, 'DELETE', `/api/projects/${slug}`, { confirmName: 'Doomed project' }, other.body.ownerToken)).status, 401);
        const deleted = await api(t.url, 'DELETE', `/api/projects/${slug}`, { confirmName: 'Doomed project' }, ownerToken);
        assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
        assert.deepEqual(deleted.body, { deleted: true });

        await watcherGone;
        assert.ok(
          watcher.messages.some((m) => m.type === 'error' && m.code === 'not_found' && /deleted/.test(m.message)),
          `the watcher was told why: ${JSON.stringify(watcher.messages.filter((m) => m.type === 'error'))}`,
        );
        await waitFor(() => closes.filter((c) => c === YJS_CLOSE.project_deleted.code).length >= 2, 10_000, 'both Yjs connections closed with 4010');
        await waitFor(() => people.every((p) => !p.client.socket.connected), 10_000, 'participants disconnected');

        const zero: Counts = { Project: 0, Member: 0, ProjectDoc: 0, ProjectDocUpdate: 0, Run: 0, Round: 0, Checkpoint: 0, Contribution: 0 };
        assert.deepEqual(await countRows(db.dbUrl, projectId, imported), zero);
        const survivor = await countRows(db.dbUrl, otherId, []);
        assert.equal(survivor.Project, 1);
        assert.equal(survivor.Member, 1);
        assert.ok(survivor.ProjectDocUpdate + survivor.ProjectDoc > 0, 'the other project keeps its document');

        for (const [method, path, body] of [
          ['GET', `/api/projects/${slug}`, undefined],
          ['GET', `/api/projects/${slug}/members`, undefined],
          ['GET', `/api/projects/${slug}/runs/${runId}`, undefined],
          ['GET', `/api/projects/${slug}/runs/${runId}/contributions`, undefined],
          ['GET', `/api/projects/${slug}/runs/${runId}/checkpoints/0/model.json`, undefined],
          ['POST', `/api/projects/${slug}/ticket`, {}],
          ['POST', `/api/projects/${slug}/train`, {}],
          ['POST', `/api/projects/${slug}/leave`, {}],
          ['POST', `/api/projects/${slug}/join-code`, {}],
          ['DELETE', `/api/projects/${slug}`, { confirmName: 'Doomed project' }],
        ] as const) {
          for (const token of [ownerToken, memberToken]) assert.equal((await api(t.url, method, path, body, token)).status, 404, `${method} ${path}`);
        }
        assert.equal((await api(t.url, 'POST', '/api/join', { code: joinCode, name: 'Late' })).status, 404, 'the join code is gone too');

        // The participants' and documents' reconnect attempts, and the shutdown flush, resurrect nothing.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        for (const p of people) p.close();
        for (const d of docs) d.close();
        watcher.close();
        await t.close({ removeDb: false });
        assert.deepEqual(await countRows(db.dbUrl, projectId, imported), zero);
        t = await startTestServer({ dbUrl: db.dbUrl });
        assert.equal((await api(t.url, 'GET', `/api/projects/${slug}`, undefined, ownerToken)).status, 404);
        assert.deepEqual(await countRows(db.dbUrl, projectId, imported), zero, 'no run was resumed for the deleted project');
      } finally {
        await t.close();
        await db.cleanup();
      }
    });
  });
}

describe('leaving a project', () => {
  const servers: TestServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  test('a member leaves: their token gets 401, their live connections close, their contributions stay but anonymised; the owner cannot leave', { timeout: 90_000 }, async () => {
    const t = await startTestServer();
    servers.push(t);
    const { slug, joinCode, ownerToken } = await createShapedProject(t.url, { rounds: 2, 'dataset.samples': 300, localEpochs: 1 }, 'Class');
    const adaToken = (await api(t.url, 'POST', '/api/join', { code: joinCode, name: 'Ada Lovelace' })).body.memberToken as string;
    const bobToken = (await api(t.url, 'POST', '/api/join', { code: joinCode, name: 'Bob' })).body.memberToken as string;
    const adaId = (await api(t.url, 'GET', `/api/projects/${slug}`, undefined, adaToken)).body.member.id as string;
    const ada = await participant(t.url, slug, adaToken, 'Ada Lovelace');
    const bob = await participant(t.url, slug, bobToken, 'Bob');
    const watch = observe(t.url, slug, ownerToken);
    await waitFor(() => watch.contributors() >= 2, 10_000, 'two contributors');
    const started = await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken);
    const runId = started.body.runId as string;
    await waitFor(async () => (await t.repo.getRun(runId))?.status === 'finished', 60_000, 'run to finish');
    const contributionsBefore = await t.repo.listContributions(runId);
    const adaRows = contributionsBefore.filter((c) => c.memberId === adaId).length;
    assert.ok(adaRows >= 2, 'Ada contributed');

    // Ada is connected live to the shared document and to training.
    const adaDoc = await connectDoc(t.url, slug, adaToken);
    const closes: number[] = [];
    adaDoc.provider.on('connection-close', (event: { code: number } | null) => closes.push(event?.code ?? 0));
    const adaErrors = ada.errors;

    assert.equal((await api(t.url, 'POST', `/api/projects/${slug}/leave`, {}, ownerToken)).status, 403, 'the owner cannot leave');
    const left = await api(t.url, 'POST', `/api/projects/${slug}/leave`, {}, adaToken);
    assert.equal(left.status, 200, JSON.stringify(left.body));

    await waitFor(() => closes.includes(YJS_CLOSE.left.code), 10_000, 'Ada’s Yjs connection closed with 4011');
    await waitFor(() => !ada.client.socket.connected, 10_000, 'Ada’s training socket closed');
    assert.ok(adaErrors.some((e) => e.code === 'unauthorized' && /left/.test(e.message)), JSON.stringify(adaErrors));
    adaDoc.close();
    ada.close();

    for (const [method, path] of [
      ['GET', `/api/projects/${slug}`],
      ['POST', `/api/projects/${slug}/ticket`],
      ['GET', `/api/projects/${slug}/members`],
      ['POST', `/api/projects/${slug}/leave`],
    ] as const) {
      assert.equal((await api(t.url, method, path, method === 'POST' ? {} : undefined, adaToken)).status, 401, `${method} ${path}`);
    }
    assert.equal((await api(t.url, 'GET', `/api/projects/${slug}`, undefined, bobToken)).status, 200, 'Bob keeps his access');

    // Never shown as a person again: not in the members list, not named in contributions.
    for (const token of [ownerToken, bobToken]) {
      const members = await api(t.url, 'GET', `/api/projects/${slug}/members`, undefined, token);
      assert.deepEqual(members.body.members.map((m: { name: string | null }) => m.name).sort(), ['Bob', 'Owner']);
      const report = await api(t.url, 'GET', `/api/projects/${slug}/runs/${runId}/contributions`, undefined, token);
      assert.equal(report.status, 200);
      assert.doesNotMatch(JSON.stringify(report.body), /Ada/);
      assert.doesNotMatch(JSON.stringify(report.body), new RegExp(FORMER_MEMBER_NAME));
      const adaLine = report.body.members.find((m: { memberId: string }) => m.memberId === adaId);
      assert.ok(adaLine, 'Ada’s contributions still count');
      assert.equal(adaLine.name, null, 'shown as anonymous');
    }
    // The row keeps its id (foreign keys hold) but no name; every contribution is still there.
    const row = new Database(t.dbUrl.replace(/^file:/, ''), { readonly: true }).prepare('SELECT name, leftAt FROM "Member" WHERE id = ?').get(adaId) as { name: string; leftAt: unknown };
    assert.equal(row.name, FORMER_MEMBER_NAME);
    assert.ok(row.leftAt, 'leftAt is set');
    assert.deepEqual(await t.repo.listContributions(runId), contributionsBefore);
    bob.close();
    watch.close();
  });
});

describe('checkpoint retention', () => {
  test('keep latest 2 and every 3rd: exactly those checkpoints remain, round rows all stay, and a run resumed after a restart finishes', { timeout: 120_000 }, async () => {
    const saved = { latest: process.env.CHECKPOINT_KEEP_LATEST, every: process.env.CHECKPOINT_KEEP_EVERY };
    process.env.CHECKPOINT_KEEP_LATEST = '2';
    process.env.CHECKPOINT_KEEP_EVERY = '3';
    const { dbUrl } = await tempDatabase();
    let t = await startTestServer({ dbUrl });
    try {
      const rounds = 8;
      const { slug, joinCode, ownerToken } = await createShapedProject(t.url, { rounds, 'dataset.samples': 300, localEpochs: 1, 'sampling.minClients': 2 }, 'Thin');
      const tokens = [await api(t.url, 'POST', '/api/join', { code: joinCode, name: 'r1' }), await api(t.url, 'POST', '/api/join', { code: joinCode, name: 'r2' })].map((r) => r.body.memberToken as string);
      let people = await Promise.all(tokens.map((token, i) => participant(t.url, slug, token, `r${i + 1}`, { wrap: slowly(150) })));
      let watch = observe(t.url, slug, ownerToken);
      await waitFor(() => watch.contributors() >= 2, 10_000, 'two contributors');
      const runId = (await api(t.url, 'POST', `/api/projects/${slug}/train`, {}, ownerToken)).body.runId as string;
      await waitFor(async () => (await t.repo.getRun(runId))!.lastRound >= 4, 60_000, 'round 4 saved');
      for (const p of people) p.close();
      watch.close();
      await t.close({ removeDb: false });

      // The server stopped mid-run: round 0, every 3rd round and the latest two are kept.
      const reader = await createRepository(dbUrl);
      const k = (await reader.getRun(runId))!.lastRound;
      const midRun = (await reader.listCheckpoints(runId)).map((c) => c.round);
      await reader.close();
      assert.ok(k >= 4 && k < rounds, `stopped mid-run at round ${k}`);
      const expected = [...new Set([0, ...[3, 6].filter((r) => r <= k), k - 1, k])].sort((a, b) => a - b);
      assert.deepEqual(midRun, expected, `after round ${k}`);

      // Restart: the run resumes from its latest checkpoint (kept) and finishes.
      t = await startTestServer({ dbUrl });
      watch = observe(t.url, slug, ownerToken);
      people = await Promise.all(tokens.map((token, i) => participant(t.url, slug, token, `r${i + 1}`)));
      await waitFor(async () => (await t.repo.getRun(runId))?.status === 'finished', 90_000, 'the resumed run to finish');
      const run = await api(t.url, 'GET', `/api/projects/${slug}/runs/${runId}`, undefined, ownerToken);
      assert.equal(run.status, 200);
      assert.deepEqual(run.body.checkpoints.map((c: { round: number }) => c.round), [0, 3, 6, 7, 8]);
      assert.deepEqual(run.body.rounds.map((r: { number: number }) => r.number), [1, 2, 3, 4, 5, 6, 7, 8], 'every round row (metrics) stays');
      // The live history after the resume still has every round, thinned checkpoints or not.
      await waitFor(() => watch.state().run?.history.length === rounds + 1, 10_000, 'full history');
      assert.deepEqual(watch.state().run!.history.map((m) => m.round), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
      // A kept checkpoint downloads; a thinned one is 404.
      assert.equal((await fetch(`${t.url}/api/projects/${slug}/runs/${runId}/checkpoints/6/model.json`, { headers: { authorization: `Bearer ${ownerToken}` } })).status, 200);
      assert.equal((await fetch(`${t.url}/api/projects/${slug}/runs/${runId}/checkpoints/5/model.json`, { headers: { authorization: `Bearer ${ownerToken}` } })).status, 404);
      for (const p of people) p.close();
      watch.close();
    } finally {
      await t.close();
      process.env.CHECKPOINT_KEEP_LATEST = saved.latest;
      process.env.CHECKPOINT_KEEP_EVERY = saved.every;
      if (saved.latest === undefined) delete process.env.CHECKPOINT_KEEP_LATEST;
      if (saved.every === undefined) delete process.env.CHECKPOINT_KEEP_EVERY;
    }
  });
});
