/**
 * The Repository on Prisma: one implementation for SQLite (better-sqlite3) and PostgreSQL (pg).
 * Each database has its own generated client (`npm run db:generate`), but both come from the same
 * models, so the code below is written once against the SQLite client's types.
 */
import type { PrismaClient } from '../../prisma/generated/sqlite/client/client';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { adapterFactory, databaseKind, type DatabaseKind } from './providers';
import type {
  CheckpointRow,
  ContributionRow,
  ContributionStatus,
  MemberRow,
  ProjectRow,
  Repository,
  Role,
  RoundRow,
  RunRow,
  RunStatusDb,
} from './repository';
import { ROLES } from './repository';

export { databaseKind };
export type { DatabaseKind };

type Client = PrismaClient;
type ClientModule = { PrismaClient: new (options: { adapter: SqlMigrationAwareDriverAdapterFactory; queryPlanCacheMaxSize?: number }) => Client };

/**
 * How SQLite commits. 'normal' (default; WAL mode): a commit survives the server process dying at
 * any point (SIGKILL, crash) but not the machine losing power mid-write, and costs ~0.1 ms instead
 * of an fsync (~1–6 ms here), which every Yjs edit waits for before it is relayed. 'full': every
 * commit is fsynced before it returns. PostgreSQL always commits durably.
 */
export type SqliteSync = 'normal' | 'full';

export interface RepositoryOptions {
  sqliteSync?: SqliteSync;
}

/**
 * Query plans Prisma keeps (single queries and batches each). Its default, 1,000, let the
 * database thread's heap grow by about 1 MB per training round under the load benchmark (a
 * round's save is a batch whose plan is cached per distinct content) until the thread ran out of
 * memory; our queries have a few dozen shapes.
 */
const QUERY_PLAN_CACHE = 32;

/** Opens the database at `databaseUrl` (`file:…` SQLite, `postgres(ql)://…` PostgreSQL); migrations must already be applied. */
export async function createRepository(databaseUrl: string, options: RepositoryOptions = {}): Promise<Repository> {
  const kind = databaseKind(databaseUrl);
  const client = new (await loadClient(kind)).PrismaClient({ adapter: adapterFactory(databaseUrl), queryPlanCacheMaxSize: QUERY_PLAN_CACHE });
  try {
    if (kind === 'sqlite') {
      // WAL lets readers run while a write commits; see SqliteSync for what synchronous buys.
      // journal_mode sticks to the file.
      await client.$queryRawUnsafe('PRAGMA journal_mode = WAL');
      await client.$executeRawUnsafe(`PRAGMA synchronous = ${options.sqliteSync === 'full' ? 'FULL' : 'NORMAL'}`);
      await client.$executeRawUnsafe('PRAGMA foreign_keys = ON');
    } else {
      // Fails here, at startup, rather than on the first request when the server is unreachable.
      await client.$queryRawUnsafe('SELECT 1');
    }
  } catch (error) {
    await client.$disconnect().catch(() => undefined);
    throw error;
  }
  return new PrismaRepository(client, kind);
}

async function loadClient(kind: DatabaseKind): Promise<ClientModule> {
  try {
    // The PostgreSQL client's model API is the same as the SQLite one's (same schema, other
    // provider), so it is used through the SQLite client's types.
    return kind === 'sqlite'
      ? ((await import('../../prisma/generated/sqlite/client/client')) as unknown as ClientModule)
      : ((await import('../../prisma/generated/postgresql/client/client')) as unknown as ClientModule);
  } catch (error) {
    throw new Error(`The ${kind} Prisma client is missing or broken; run \`npm run db:generate\`.`, { cause: error });
  }
}

/** Runs tasks one after another per key, in call order. */
class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Resolves once everything queued so far has finished. */
  async idle(): Promise<void> {
    await Promise.all(this.tails.values());
  }
}

/**
 * Runs tasks one at a time; urgent ones go before the waiting others, in their own call order.
 * SQLite's one connection serves a round's save and the Yjs log alike: a waiting edit should not
 * sit behind queued training writes (people are watching it arrive).
 */
class PriorityQueue {
  private running = false;
  private readonly urgent: (() => void)[] = [];
  private readonly normal: (() => void)[] = [];

  run<T>(task: () => Promise<T>, urgent: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        task()
          .then(resolve, reject)
          .finally(() => this.next());
      };
      (urgent ? this.urgent : this.normal).push(start);
      if (!this.running) this.next();
    });
  }

  /** Resolves once everything queued so far has finished. */
  idle(): Promise<void> {
    return this.run(async () => undefined, false);
  }

  private next(): void {
    const start = this.urgent.shift() ?? this.normal.shift();
    this.running = start !== undefined;
    start?.();
  }
}

class PrismaRepository implements Repository {
  private readonly queue = new KeyedQueue();
  private readonly sqliteQueue = new PriorityQueue();

  constructor(
    private readonly db: Client,
    private readonly kind: DatabaseKind,
  ) {}

  /**
   * Where a call must wait its turn. SQLite: everything runs one at a time, because the adapter
   * has one connection and a transaction on it would otherwise take in the statements of
   * concurrent calls (an acknowledged append could then be rolled back with someone else's
   * failed transaction); a project's document calls (those given a projectId) jump the queue.
   * PostgreSQL: only a project's log writes queue up (see appendDocUpdate); everything else runs
   * in parallel on the pool.
   */
  private serial<T>(projectId: string | null, task: () => Promise<T>): Promise<T> {
    if (this.kind === 'sqlite') return this.sqliteQueue.run(task, projectId !== null);
    return projectId === null ? task() : this.queue.run(projectId, task);
  }

  createProject(input: Parameters<Repository['createProject']>[0]): Promise<{ project: ProjectRow; owner: MemberRow }> {
    return this.serial(null, async () => {
      const { members, ...project } = await this.db.project.create({
        data: {
          slug: input.slug,
          name: input.name,
          joinCode: input.joinCode,
          members: { create: { name: input.owner.name, role: 'owner', tokenHash: input.owner.tokenHash } },
        },
        include: { members: true },
      });
      const owner = members[0];
      if (!owner) throw new Error('createProject: the owner was not created');
      return { project: toProject(project), owner: toMember(owner) };
    });
  }

  findProjectBySlug(slug: string): Promise<ProjectRow | null> {
    return this.serial(null, async () => nullable(await this.db.project.findUnique({ where: { slug } }), toProject));
  }

  findProjectByJoinCode(joinCode: string): Promise<ProjectRow | null> {
    return this.serial(null, async () => nullable(await this.db.project.findUnique({ where: { joinCode } }), toProject));
  }

  listProjects(): Promise<ProjectRow[]> {
    return this.serial(null, async () => (await this.db.project.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })).map(toProject));
  }

  addMember(input: { projectId: string; name: string; role: Role; tokenHash: string }): Promise<MemberRow> {
    return this.serial(null, async () => {
      const { projectId, name, role, tokenHash } = input;
      return toMember(await this.db.member.create({ data: { projectId, name, role, tokenHash } }));
    });
  }

  findMemberByTokenHash(tokenHash: string): Promise<{ member: MemberRow; project: ProjectRow } | null> {
    return this.serial(null, async () => {
      const found = await this.db.member.findUnique({ where: { tokenHash }, include: { project: true } });
      return found ? { member: toMember(found), project: toProject(found.project) } : null;
    });
  }

  setJoinCode(projectId: string, joinCode: string): Promise<ProjectRow> {
    return this.serial(null, async () => toProject(await this.db.project.update({ where: { id: projectId }, data: { joinCode } })));
  }

  updateProject(projectId: string, patch: { name?: string; specLocked?: boolean }): Promise<ProjectRow> {
    return this.serial(null, async () => {
      const { name, specLocked } = patch;
      return toProject(await this.db.project.update({ where: { id: projectId }, data: { name, specLocked } }));
    });
  }

  updateMember(memberId: string, patch: { name?: string; role?: Role; hidden?: boolean }): Promise<MemberRow> {
    return this.serial(null, async () => {
      const { name, role, hidden } = patch;
      return toMember(await this.db.member.update({ where: { id: memberId }, data: { name, role, hidden } }));
    });
  }

  setMemberTokenHash(memberId: string, tokenHash: string): Promise<void> {
    return this.serial(null, async () => {
      await this.db.member.update({ where: { id: memberId }, data: { tokenHash } });
    });
  }

  markMemberLeft(memberId: string, input: { anonymousName: string; tokenHash: string }): Promise<void> {
    return this.serial(null, async () => {
      await this.db.member.update({ where: { id: memberId }, data: { name: input.anonymousName, tokenHash: input.tokenHash, hidden: true, leftAt: new Date() } });
    });
  }

  markMemberRevoked(memberId: string, tokenHash: string): Promise<void> {
    return this.serial(null, async () => {
      await this.db.member.update({ where: { id: memberId }, data: { tokenHash, revokedAt: new Date() } });
    });
  }

  /**
   * Every table, children first, in one transaction (no reliance on the database enforcing the
   * schema's cascades). Queued with the project's document writes, so none lands after it.
   */
  deleteProject(projectId: string): Promise<void> {
    return this.serial(projectId, async () => {
      const runs = { run: { projectId } };
      await this.db.$transaction([
        this.db.contribution.deleteMany({ where: runs }),
        this.db.checkpoint.deleteMany({ where: runs }),
        this.db.round.deleteMany({ where: runs }),
        this.db.run.deleteMany({ where: { projectId } }),
        this.db.projectDocUpdate.deleteMany({ where: { projectId } }),
        this.db.projectDoc.deleteMany({ where: { projectId } }),
        this.db.member.deleteMany({ where: { projectId } }),
        this.db.project.deleteMany({ where: { id: projectId } }),
      ]);
    });
  }

  listMembers(projectId: string): Promise<MemberRow[]> {
    return this.serial(null, async () =>
      (await this.db.member.findMany({ where: { projectId, leftAt: null }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })).map(toMember),
    );
  }

  loadDoc(projectId: string): Promise<{ state: Uint8Array | null; updates: { seq: number; update: Uint8Array }[] }> {
    return this.serial(null, async () => {
      const [doc, updates] = await this.db.$transaction([
        this.db.projectDoc.findUnique({ where: { projectId } }),
        this.db.projectDocUpdate.findMany({ where: { projectId }, orderBy: { seq: 'asc' }, select: { seq: true, update: true } }),
      ]);
      return { state: doc ? toBytes(doc.state) : null, updates: updates.map(({ seq, update }) => ({ seq, update: toBytes(update) })) };
    });
  }

  /**
   * The insert is a single autocommit statement, so it is stored when it returns (SQLite: it
   * survives a crash of this process, and power loss too with sqliteSync 'full'; PostgreSQL: commit). Appends of one project are queued so that, within this
   * process, seq order is commit order: otherwise on PostgreSQL a smaller seq could commit after
   * a larger one and slip under a compaction's upToSeq unseen.
   */
  appendDocUpdate(projectId: string, update: Uint8Array): Promise<number> {
    return this.serial(projectId, async () => {
      const row = await this.db.projectDocUpdate.create({ data: { projectId, update: forPrisma(update) }, select: { seq: true } });
      return row.seq;
    });
  }

  /** Like appendDocUpdate for several updates: one statement, one commit, seqs in the given order. */
  appendDocUpdates(projectId: string, updates: Uint8Array[]): Promise<number[]> {
    if (updates.length === 0) return Promise.resolve([]);
    if (updates.length === 1) return this.appendDocUpdate(projectId, updates[0]!).then((seq) => [seq]);
    return this.serial(projectId, async () => {
      const rows = await this.db.projectDocUpdate.createManyAndReturn({ data: updates.map((update) => ({ projectId, update: forPrisma(update) })), select: { seq: true } });
      // Rows come back in insertion order; sort anyway, since seq order is what the log means.
      return rows.map((r) => r.seq).sort((a, b) => a - b);
    });
  }

  compactDoc(projectId: string, state: Uint8Array, upToSeq: number): Promise<void> {
    return this.serial(projectId, async () => {
      const bytes = forPrisma(state);
      await this.db.$transaction([
        this.db.projectDoc.upsert({
          where: { projectId },
          create: { projectId, state: bytes, compactedSeq: upToSeq },
          update: { state: bytes, compactedSeq: upToSeq },
        }),
        this.db.projectDocUpdate.deleteMany({ where: { projectId, seq: { lte: upToSeq } } }),
      ]);
    });
  }

  createRun(input: { projectId: string; spec: string; specHash: string; totalRounds: number; status: RunStatusDb; origin?: string | null }): Promise<RunRow> {
    return this.serial(null, async () => {
      const { projectId, spec, specHash, totalRounds, status, origin } = input;
      return toRun(await this.db.run.create({ data: { projectId, spec, specHash, totalRounds, status, origin: origin ?? null } }));
    });
  }

  updateRun(runId: string, patch: Partial<Pick<RunRow, 'status' | 'lastRound' | 'error' | 'finishedAt'>>): Promise<void> {
    return this.serial(null, async () => {
      const { status, lastRound, error, finishedAt } = patch;
      await this.db.run.update({ where: { id: runId }, data: { status, lastRound, error, finishedAt } });
    });
  }

  getRun(runId: string): Promise<RunRow | null> {
    return this.serial(null, async () => nullable(await this.db.run.findUnique({ where: { id: runId } }), toRun));
  }

  listRuns(projectId: string): Promise<RunRow[]> {
    return this.serial(null, async () =>
      (await this.db.run.findMany({ where: { projectId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] })).map(toRun),
    );
  }

  findActiveRun(projectId: string): Promise<RunRow | null> {
    return this.serial(null, async () =>
      nullable(
        await this.db.run.findFirst({
          where: { projectId, status: { in: ['waiting', 'training', 'paused'] satisfies RunStatusDb[] } },
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        }),
        toRun,
      ),
    );
  }

  /**
   * Also moves the run's lastRound up to the checkpoint's round in the same transaction, so
   * lastRound ("last round whose checkpoint is saved") can never point past a missing checkpoint.
   */
  saveRound(round: RoundRow | null, checkpoint: CheckpointRow | null, contributions: ContributionRow[]): Promise<void> {
    return this.serial(null, async () => {
      await this.db.$transaction([
        ...(round ? [this.db.round.create({ data: roundData(round) })] : []),
        ...(checkpoint
          ? [
              this.db.checkpoint.create({ data: checkpointData(checkpoint) }),
              this.db.run.updateMany({ where: { id: checkpoint.runId, lastRound: { lt: checkpoint.round } }, data: { lastRound: checkpoint.round } }),
            ]
          : []),
        this.db.contribution.createMany({ data: contributions.map(contributionData) }),
      ]);
    });
  }

  listRounds(runId: string): Promise<RoundRow[]> {
    return this.serial(null, async () => (await this.db.round.findMany({ where: { runId }, orderBy: { number: 'asc' } })).map(toRound));
  }

  listCheckpoints(runId: string): Promise<Omit<CheckpointRow, 'weights' | 'optimizerState'>[]> {
    return this.serial(null, () =>
      this.db.checkpoint.findMany({
        where: { runId },
        orderBy: { round: 'asc' },
        select: { runId: true, round: true, manifest: true, metrics: true, loopState: true, createdAt: true },
      }),
    );
  }

  deleteCheckpoints(runId: string, rounds: number[]): Promise<number> {
    return this.serial(null, async () => (rounds.length === 0 ? 0 : (await this.db.checkpoint.deleteMany({ where: { runId, round: { in: rounds } } })).count));
  }

  getCheckpoint(runId: string, round: number): Promise<CheckpointRow | null> {
    return this.serial(null, async () => {
      const row = await this.db.checkpoint.findUnique({ where: { runId_round: { runId, round } } });
      return row ? { ...row, weights: toBytes(row.weights), optimizerState: row.optimizerState ? toBytes(row.optimizerState) : null } : null;
    });
  }

  serverSecret(name: string, fresh: Uint8Array): Promise<Uint8Array> {
    return this.serial(null, async () => {
      // Create-if-absent: an existing secret is never overwritten (update is empty). Two servers
      // creating it at once: the loser's insert hits the primary key and it reads the winner's.
      const row = await this.db.serverSecret
        .upsert({ where: { name }, create: { name, value: forPrisma(fresh) }, update: {} })
        .catch(async (error: unknown) => {
          if ((error as { code?: string }).code !== 'P2002') throw error;
          return this.db.serverSecret.findUniqueOrThrow({ where: { name } });
        });
      return toBytes(row.value);
    });
  }

  listContributions(runId: string): Promise<ContributionRow[]> {
    return this.serial(null, async () =>
      (
        await this.db.contribution.findMany({
          where: { runId },
          orderBy: [{ round: 'asc' }, { createdAt: 'asc' }, { id: 'asc' }],
          select: { runId: true, round: true, memberId: true, samples: true, computeMs: true, backend: true, status: true },
        })
      ).map((c) => ({ ...c, status: asContributionStatus(c.status) })),
    );
  }

  ping(): Promise<void> {
    // Not queued behind SQLite's writes: a health check asks whether the database answers now.
    return this.db.$queryRawUnsafe('SELECT 1').then(() => undefined);
  }

  async close(): Promise<void> {
    // Queued writes finish first, so nothing acknowledged later is cut off.
    await (this.kind === 'sqlite' ? this.sqliteQueue.idle() : this.queue.idle());
    await this.db.$disconnect();
  }
}

function nullable<T, R>(row: T | null, map: (row: T) => R): R | null {
  return row === null ? null : map(row);
}

/** A private copy: offset 0 (a Float32Array can view it) and no Buffer pool shared with others. */
function toBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** Prisma's Bytes type wants an ArrayBuffer-backed array; copies only when it is not. */
function forPrisma(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

function toProject(row: ProjectRow): ProjectRow {
  return { id: row.id, slug: row.slug, name: row.name, joinCode: row.joinCode, specLocked: row.specLocked, createdAt: row.createdAt };
}

/** Picks fields one by one so the token hash never leaves the repository. */
function toMember(row: { id: string; projectId: string; name: string; role: string; hidden: boolean; createdAt: Date; revokedAt: Date | null }): MemberRow {
  return { id: row.id, projectId: row.projectId, name: row.name, role: asRole(row.role), hidden: row.hidden, createdAt: row.createdAt, revoked: row.revokedAt !== null };
}

function asRole(role: string): Role {
  if ((ROLES as readonly string[]).includes(role)) return role as Role;
  throw new Error(`Unknown member role in database: ${role}`);
}

const CONTRIBUTION_STATUSES: readonly string[] = ['accepted', 'late', 'rejected', 'dropped'] satisfies ContributionStatus[];

function asContributionStatus(status: string): ContributionStatus {
  if (CONTRIBUTION_STATUSES.includes(status)) return status as ContributionStatus;
  throw new Error(`Unknown contribution status in database: ${status}`);
}

const RUN_STATUSES: readonly string[] = ['waiting', 'training', 'paused', 'finished', 'stopped', 'failed'] satisfies RunStatusDb[];

function toRun(row: Omit<RunRow, 'status'> & { status: string }): RunRow {
  if (!RUN_STATUSES.includes(row.status)) throw new Error(`Unknown run status in database: ${row.status}`);
  return {
    id: row.id,
    projectId: row.projectId,
    status: row.status as RunStatusDb,
    spec: row.spec,
    specHash: row.specHash,
    totalRounds: row.totalRounds,
    lastRound: row.lastRound,
    error: row.error,
    origin: row.origin,
    createdAt: row.createdAt,
    finishedAt: row.finishedAt,
  };
}

// Inputs are copied field by field: callers may hand in objects with extra properties (allowed
// by TypeScript), which Prisma would reject as unknown arguments.

/** NaN metrics (a diverged model) are stored as NULL, the only way SQLite can keep them. */
function roundData(r: RoundRow): Omit<RoundRow, 'loss' | 'accuracy'> & { loss: number | null; accuracy: number | null } {
  const { runId, number, participants, samples, accepted, late, dropped, rejected, bytesIn, bytesOut, aggregationMs, evalMs, hyperparams, startedAt, finishedAt } = r;
  return {
    runId,
    number,
    participants,
    samples,
    loss: nanToNull(r.loss),
    accuracy: nanToNull(r.accuracy),
    trainLoss: nanToNull(r.trainLoss),
    trainAccuracy: nanToNull(r.trainAccuracy),
    accepted,
    late,
    dropped,
    rejected,
    bytesIn,
    bytesOut,
    aggregationMs,
    evalMs,
    hyperparams,
    startedAt,
    finishedAt,
  };
}

function nanToNull(value: number | null): number | null {
  return value === null || Number.isNaN(value) ? null : value;
}

function toRound(row: Omit<RoundRow, 'loss' | 'accuracy'> & { loss: number | null; accuracy: number | null }): RoundRow {
  return { ...row, loss: row.loss ?? NaN, accuracy: row.accuracy ?? NaN };
}

function checkpointData(c: CheckpointRow): Omit<CheckpointRow, 'weights' | 'optimizerState'> & { weights: Uint8Array<ArrayBuffer>; optimizerState: Uint8Array<ArrayBuffer> | null } {
  return {
    runId: c.runId,
    round: c.round,
    weights: forPrisma(c.weights),
    manifest: c.manifest,
    metrics: c.metrics,
    optimizerState: c.optimizerState ? forPrisma(c.optimizerState) : null,
    loopState: c.loopState,
    createdAt: c.createdAt,
  };
}

function contributionData(c: ContributionRow): ContributionRow {
  const { runId, round, memberId, samples, computeMs, backend } = c;
  return { runId, round, memberId, samples, computeMs, backend, status: c.status };
}
