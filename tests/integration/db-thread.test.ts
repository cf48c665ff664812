import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createThreadedRepository, crashDatabaseThreadForTests } from '../../server/db/threaded-repository';
import { isDbUnavailable } from '../../server/db/db-health';
import { tempDatabase } from '../helpers/server';

test('a database thread that dies is replaced on the next call; calls in flight fail as an outage, nothing stored is lost', async () => {
  const { dbUrl, dir } = await tempDatabase();
  const repo = await createThreadedRepository(dbUrl);
  try {
    const { project } = await repo.createProject({ slug: 'crash', name: 'Crash', joinCode: 'CRASH234', owner: { name: 'O', tokenHash: 'crash-owner' } });
    const inFlight = repo.listProjects();
    await crashDatabaseThreadForTests(repo);
    const error = await inFlight.then(
      () => null,
      (e: unknown) => e,
    );
    // The call either finished before the crash or fails the way an unreachable database does.
    if (error !== null) assert.ok(isDbUnavailable(error), String(error));
    // The next calls open a new thread and see everything stored before.
    assert.equal((await repo.findProjectBySlug('crash'))?.id, project.id);
    const member = await repo.addMember({ projectId: project.id, name: 'After', role: 'member', tokenHash: 'after-crash' });
    assert.deepEqual((await repo.listMembers(project.id)).map((m) => m.id).includes(member.id), true);
    // Twice, for good measure: each crash gets its own new thread.
    await crashDatabaseThreadForTests(repo);
    assert.equal((await repo.listMembers(project.id)).length, 2);
  } finally {
    await repo.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
