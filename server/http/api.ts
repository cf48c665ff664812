import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { AppError, createProjectRequest, deleteProjectRequest, joinRequest, lockRequest, trainRequest, updateMemberRequest, type MemberInfo } from '../protocol';
import { cookieName } from '../auth';
import { FORMER_MEMBER_NAME, type Principal, type ProjectService } from '../projects';
import type { MemberRow, Repository, RunRow } from '../db/repository';
import type { Logger } from '../log';
import { isDbUnavailable } from '../db/db-health';
import { bearerToken, readJson, sendError, sendJson, sessionCookie } from './io';
import { parseOrigin } from '../training/export-check';
import { checkpointModelJson, checkpointWeights } from '../training/export-service';
import { readImportBody, sendModelFile } from '../training/export-http';
import { contributionsReport } from '../training/contributions';
import { clientAddress, FailureLimiter } from './rate-limit';
import { checkOrigin, type SecurityOptions } from './security';

export interface ApiDeps {
  projects: ProjectService;
  repo: Repository;
  training: {
    startRun(principal: Principal, options?: { restart?: boolean; from?: { runId: string; round: number } }): Promise<{ runId: string }>;
    /** Stores an uploaded TensorFlow.js model (unparsed import body) as a finished run. */
    importModel(principal: Principal, body: unknown): Promise<{ runId: string; loss: number; accuracy: number }>;
    controlRun(principal: Principal, runId: string, action: 'pause' | 'resume' | 'stop'): Promise<void>;
    /** Closes a member's live training and Yjs connections (after a revoke, or when they left). */
    disconnectMember(projectId: string, memberId: string, why?: 'revoked' | 'left'): Promise<void>;
    /** Before a project's deletion: stops its active run, closes every live connection, drops its rooms for good. */
    closeProject(projectId: string): Promise<void>;
  };
  /** The live rooms, told about the owner's classroom changes (see server/app.ts). */
  classroom: {
    /** Stops the active run and clears the live run everywhere; the stopped run's id, if any. */
    reset(principal: Principal): Promise<string | null>;
    /** A member was renamed, hidden or changed role: live connections follow. */
    memberChanged(projectId: string, member: MemberRow, roleChanged: boolean): Promise<void>;
    specLockChanged(projectId: string, locked: boolean): Promise<void>;
  };
  log: Logger;
  /** Proxy trust, public URL (Origin check); from the environment by default. */
  security?: SecurityOptions;
  /** Counts wrong join codes per address (see rate-limit.ts); a default one if absent. */
  joinLimiter?: FailureLimiter;
  /** Whether the database answers and how many trained rounds wait to be stored (GET /api/health). */
  health?: () => Promise<{ db: 'ok' | 'unavailable'; pendingRounds: number }>;
}

type Handler = (ctx: { req: IncomingMessage; res: ServerResponse; params: string[] }) => Promise<void>;

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new AppError('bad_request', first ? `${first.path.join('.') || 'body'}: ${first.message}` : undefined, parsed.error.issues);
  }
  return parsed.data;
}

/** A member as the API shows it: a hidden member's name only reaches the owner. */
function memberInfo(member: MemberRow, viewer: MemberRow): MemberInfo {
  const name = member.hidden && viewer.role !== 'owner' ? null : member.name;
  return { id: member.id, name, role: member.role, hidden: member.hidden };
}

/** Expires this browser's session cookie for a project (after leaving or deleting it). */
function clearedCookie(name: string): string {
  return `${name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;
}

function runSummary(run: RunRow) {
  return {
    id: run.id,
    status: run.status,
    totalRounds: run.totalRounds,
    lastRound: run.lastRound,
    specHash: run.specHash,
    error: run.error,
    createdAt: run.createdAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    origin: parseOrigin(run.origin),
  };
}

/** The JSON API under /api: a small route table over plain node:http. */
export function createApi(deps: ApiDeps): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const security = deps.security ?? {};
  const joinLimiter = deps.joinLimiter ?? new FailureLimiter();
  const secure = (req: IncomingMessage) => req.headers['x-forwarded-proto'] === 'https' || 'encrypted' in req.socket;
  const principalOf = async (req: IncomingMessage, slug: string) => {
    const project = await deps.repo.findProjectBySlug(slug);
    if (!project) throw new AppError('not_found');
    return deps.projects.authenticate(slug, bearerToken(req, cookieName(slug)));
  };
  /** The principal, if it is the project's owner; otherwise 403 with `refusal`. */
  const ownerOf = async (req: IncomingMessage, slug: string, refusal: string) => {
    const principal = await principalOf(req, slug);
    if (principal.member.role !== 'owner') throw new AppError('forbidden', refusal);
    return principal;
  };

  const routes: [string, RegExp, Handler][] = [
    [
      'GET',
      /^\/api\/health$/,
      async ({ res }) => {
        // 503 while the database cannot be reached: the server still trains, but stores nothing.
        const report = deps.health ? await deps.health() : { db: 'ok' as const, pendingRounds: 0 };
        sendJson(res, report.db === 'ok' ? 200 : 503, { ok: report.db === 'ok', ...report });
      },
    ],
    [
      'POST',
      /^\/api\/projects$/,
      async ({ req, res }) => {
        const body = parse(createProjectRequest, await readJson(req));
        const created = await deps.projects.create(body);
        deps.log.info({ slug: created.project.slug }, 'project created');
        sendJson(
          res,
          201,
          { slug: created.project.slug, joinCode: created.project.joinCode, ownerToken: created.token },
          { 'set-cookie': sessionCookie(cookieName(created.project.slug), created.token, secure(req)) },
        );
      },
    ],
    [
      'POST',
      /^\/api\/join$/,
      async ({ req, res }) => {
        // Over the failure limit: refused before the code is even looked at (see rate-limit.ts).
        const address = clientAddress(req, security.trustProxy === true);
        const verdict = joinLimiter.check(address);
        if (!verdict.allowed) {
          const seconds = Math.ceil(verdict.retryAfterMs / 1000);
          deps.log.warn({ address, retryAfterS: seconds }, 'join rate-limited');
          sendError(res, new AppError('rate_limited', `Too many wrong join codes from this address; try again in ${seconds} s.`), { 'retry-after': String(seconds) });
          return;
        }
        const body = parse(joinRequest, await readJson(req));
        const joined = await deps.projects.join(body).catch((error: unknown) => {
          if (error instanceof AppError && error.code === 'wrong_code') joinLimiter.fail(address);
          throw error;
        });
        deps.log.info({ slug: joined.project.slug, member: joined.member.id }, 'member joined');
        sendJson(
          res,
          200,
          { slug: joined.project.slug, memberToken: joined.token, role: joined.member.role },
          { 'set-cookie': sessionCookie(cookieName(joined.project.slug), joined.token, secure(req)) },
        );
      },
    ],
    [
      'POST',
      /^\/api\/projects\/([\w-]{1,64})\/ticket$/,
      async ({ req, res, params }) => {
        await readJson(req);
        const principal = await principalOf(req, params[0]!);
        const { ticket, expiresAt } = deps.projects.issueTicket(principal);
        const { id, name, role } = principal.member;
        sendJson(res, 200, { ticket, expiresAt, member: { id, name, role } });
      },
    ],
    [
      // Turns a bearer token (e.g. from an owner link) into this browser's httpOnly session cookie.
      'POST',
      /^\/api\/projects\/([\w-]{1,64})\/session$/,
      async ({ req, res, params }) => {
        await readJson(req);
        const principal = await principalOf(req, params[0]!);
        const { id, name, role } = principal.member;
        const token = bearerToken(req, cookieName(principal.project.slug))!;
        sendJson(res, 200, { slug: principal.project.slug, member: { id, name, role } }, {
          'set-cookie': sessionCookie(cookieName(principal.project.slug), token, secure(req)),
        });
      },
    ],
    [
      'GET',
      /^\/api\/projects\/([\w-]{1,64})$/,
      async ({ req, res, params }) => {
        const { project, member } = await principalOf(req, params[0]!);
        const runs = await deps.repo.listRuns(project.id);
        sendJson(res, 200, {
          project: { slug: project.slug, name: project.name, joinCode: project.joinCode, specLocked: project.specLocked },
          // Where people reach this server (join links, QR code); null: the page's own origin.
          publicUrl: security.publicUrl ?? null,
          member: { id: member.id, name: member.name, role: member.role },
          runs: runs.map(runSummary),
        });
      },
    ],
    [
      // The owner deletes the project with all its data: live connections close first, then every row goes.
      'DELETE',
      /^\/api\/projects\/([\w-]{1,64})$/,
      async ({ req, res, params }) => {
        const raw = await readJson(req);
        const principal = await ownerOf(req, params[0]!, 'Only the project owner can delete the project.');
        const body = parse(deleteProjectRequest, raw);
        if (body.confirmName.trim() !== principal.project.name.trim()) throw new AppError('bad_request', 'confirmName: type the project’s name exactly to delete it.');
        await deps.training.closeProject(principal.project.id);
        await deps.projects.deleteProject(principal, body.confirmName);
        deps.log.info({ slug: principal.project.slug }, 'project deleted');
        sendJson(res, 200, { deleted: true }, { 'set-cookie': clearedCookie(cookieName(principal.project.slug)) });
      },
    ],
    [
      // A member (or viewer) leaves: their token stops working, their contributions stay, anonymised.
      'POST',
      /^\/api\/projects\/([\w-]{1,64})\/leave$/,
      async ({ req, res, params }) => {
        await readJson(req);
        const principal = await principalOf(req, params[0]!);
        await deps.projects.leave(principal);
        await deps.training.disconnectMember(principal.project.id, principal.member.id, 'left');
        // Views showing members refetch (they no longer list them); the row the rooms see is anonymised.
        await deps.classroom.memberChanged(principal.project.id, { ...principal.member, name: FORMER_MEMBER_NAME, hidden: true }, false);
        deps.log.info({ slug: principal.project.slug, memberId: principal.member.id }, 'member left');
        sendJson(res, 200, { left: true }, { 'set-cookie': clearedCookie(cookieName(principal.project.slug)) });
      },
    ],
    [
      'POST',
      /^\/api\/projects\/([\w-]{1,64})\/join-code$/,
      async ({ req, res, params }) => {
        await readJson(req);
        const principal = await principalOf(req, params[0]!);
        if (principal.member.role !== 'owner') throw new AppError('forbidden', 'Only the project owner can change the join code.');
        const joinCode = await deps.projects.rotateJoinCode(principal);
        deps.log.info({ slug: principal.project.slug }, 'join code rotated');
        sendJson(res, 200, { joinCode });
      },
    ],
    [
      // A new owner link: the old owner token stops working at once; this browser keeps its sign-in.
      'POST',
      /^\/api\/projects\/([\w-]{1,64})\/owner-link$/,
      async ({ req, res, params }) => {
        await readJson(req);
        const principal = await principalOf(req, params[0]!);
        const ownerToken = await deps.projects.rotateOwnerToken(principal);
        deps.log.info({ slug: principal.project.slug }, 'owner link rotated');
        sendJson(res, 200, { slug: principal.project.slug, ownerToken }, {
          'set-cookie': sessionCookie(cookieName(principal.project.slug), ownerToken, secure(req)),
        });
      },
    ],
    [
      'POST',
      /^\/api\/projects\/([\w-]{1,64})\/members\/([\w-]{1,64})\/revoke$/,
      async ({ req, res, params }) => {
        await readJson(req);
        const principal = await principalOf(req, params[0]!);
        if (principal.member.role !== 'owner') throw new AppError('forbidden', 'Only the project owner can revoke members.');
        await deps.projects.revokeMember(principal, params[1]!);
        await deps.training.disconnectMember(principal.project.id, params[1]!);
        deps.log.info({ slug: principal.project.slug, memberId: params[1] }, 'member revoked');
        sendJson(res, 200, { memberId: params[1] });
      },
    ],
    [
      'GET',
      /^\/api\/projects\/([\w-]{1,64})\/members$/,
      async ({ req, res, params }) => {
        const { project, member } = await principalOf(req, params[0]!);
        const members = await deps.repo.listMembers(project.id);
        sendJson(res, 200, { members: members.filter((m) => !m.revoked).map((m) => memberInfo(m, member)) });
      },
    ],
    [
      'POST',
      /^\/api\/projects\/([\w-]{1,64})\/members\/([\w-]{1,64})$/,
      async ({ req, res, params }) => {
        const raw = await readJson(req);
        const principal = await ownerOf(req, params[0]!, 'Only the project owner can change members.');
        const body = parse(updateMemberRequest, raw);
        const { member, roleChanged } = await deps.projects.updateMember(principal, params[1]!, body);
        await deps.classroom.memberChanged(principal.project.id, member, roleChanged);
        deps.log.info({ slug: principal.project.slug, memberId: member.id, ...body }, 'member changed');
        sendJson(res, 200, { member: memberInfo(member, principal.member) });
      },
    ],
    [
      'POST',
      /^\/api\/projects\/([\w-]{1,64})\/lock$/,
      async ({ req, res, params }) => {
        const raw = await readJson(req);
        const principal = await ownerOf(req, params[0]!, 'Only the project owner can lock the spec.');
        const body = parse(lockRequest, raw);
        const project = await deps.projects.setSpecLocked(principal, body.locked);
        await deps.classroom.specLockChanged(project.id, project.specLocked);
        deps.log.info({ slug: project.slug, specLocked: project.specLocked }, 'spec lock changed');
        sendJson(res, 200, { specLocked: project.specLocked });
      },
    ],
    [
      'POST',
      /^\/api\/projects\/([\w-]{1,64})\/reset$/,
      async ({ req, res, params }) => {
        await readJson(req);
        const principal = await ownerOf(req, params[0]!, 'Only the project owner can reset training.');
        const stoppedRunId = await deps.classroom.reset(principal);
        deps.log.info({ slug: principal.project.slug, stoppedRunId }, 'training reset');
        sendJson(res, 200, { stoppedRunId });
      },
    ],
    [
      'POST',
      /^\/api\/projects\/([\w-]{1,64})\/train$/,
      async ({ req, res, params }) => {
        const body = parse(trainRequest, await readJson(req));
        const principal = await principalOf(req, params[0]!);
        if (principal.member.role !== 'owner') throw new AppError('forbidden', 'Only the project owner can start training.');
        const { runId } = await deps.training.startRun(principal, { restart: body.restart === true, from: body.from });
        sendJson(res, 202, { runId });
      },
    ],
    [
      // A TensorFlow.js layers model (model.json + weights.bin) becomes a finished run with one checkpoint.
      'POST',
      /^\/api\/projects\/([\w-]{1,64})\/import$/,
      async ({ req, res, params }) => {
        const principal = await principalOf(req, params[0]!).catch((error: unknown) => {
          req.resume(); // drain the upload, so the refusal reaches the client
          throw error;
        });
        if (principal.member.role !== 'owner') {
          req.resume();
          throw new AppError('forbidden', 'Only the project owner can import a model.');
        }
        const imported = await deps.training.importModel(principal, await readImportBody(req));
        sendJson(res, 201, imported);
      },
    ],
    [
      // A checkpoint in TensorFlow.js layers format: tf.loadLayersModel('…/model.json') fetches weights.bin beside it.
      'GET',
      /^\/api\/projects\/([\w-]{1,64})\/runs\/([\w-]{1,64})\/checkpoints\/(\d{1,7})\/(model\.json|weights\.bin)$/,
      async ({ req, res, params }) => {
        const { project } = await principalOf(req, params[0]!);
        const [runId, round, file] = [params[1]!, Number(params[2]), params[3]!];
        if (file === 'model.json') sendModelFile(res, await checkpointModelJson(deps.repo, project.id, runId, round), 'application/json');
        else sendModelFile(res, await checkpointWeights(deps.repo, project.id, runId, round), 'application/octet-stream');
      },
    ],
    [
      'POST',
      /^\/api\/projects\/([\w-]{1,64})\/runs\/([\w-]{1,64})\/(pause|resume|stop)$/,
      async ({ req, res, params }) => {
        await readJson(req);
        const principal = await principalOf(req, params[0]!);
        if (principal.member.role !== 'owner') throw new AppError('forbidden', 'Only the project owner can control training.');
        const action = params[2] as 'pause' | 'resume' | 'stop';
        await deps.training.controlRun(principal, params[1]!, action);
        deps.log.info({ runId: params[1], action }, 'run control');
        sendJson(res, 202, { runId: params[1], action });
      },
    ],
    [
      'GET',
      /^\/api\/projects\/([\w-]{1,64})\/runs\/([\w-]{1,64})$/,
      async ({ req, res, params }) => {
        const { project } = await principalOf(req, params[0]!);
        const run = await deps.repo.getRun(params[1]!);
        if (!run || run.projectId !== project.id) throw new AppError('not_found', 'No such run in this project.');
        const [rounds, checkpoints] = await Promise.all([deps.repo.listRounds(run.id), deps.repo.listCheckpoints(run.id)]);
        sendJson(res, 200, {
          run: runSummary(run),
          rounds: rounds.map(({ runId: _runId, hyperparams, startedAt, finishedAt, ...round }) => ({
            ...round,
            hyperparams: JSON.parse(hyperparams) as unknown,
            startedAt: startedAt.toISOString(),
            finishedAt: finishedAt.toISOString(),
          })),
          checkpoints: checkpoints.map((c) => ({ round: c.round, metrics: JSON.parse(c.metrics) as unknown, createdAt: c.createdAt.toISOString() })),
        });
      },
    ],
    [
      // Who did what in a run (per member, revoked members included) and its throughput per round.
      'GET',
      /^\/api\/projects\/([\w-]{1,64})\/runs\/([\w-]{1,64})\/contributions$/,
      async ({ req, res, params }) => {
        const { project, member: viewer } = await principalOf(req, params[0]!);
        const run = await deps.repo.getRun(params[1]!);
        if (!run || run.projectId !== project.id) throw new AppError('not_found', 'No such run in this project.');
        const [rows, rounds, members] = await Promise.all([deps.repo.listContributions(run.id), deps.repo.listRounds(run.id), deps.repo.listMembers(project.id)]);
        const named = members.map((m) => ({ id: m.id, name: memberInfo(m, viewer).name }));
        sendJson(res, 200, contributionsReport({ runId: run.id, rows, rounds, members: named }));
      },
    ],
  ];

  return async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (!path.startsWith('/api/')) return false;
    try {
      checkOrigin(req, security);
      for (const [method, pattern, handler] of routes) {
        const match = pattern.exec(path);
        if (!match) continue;
        if (req.method !== method) continue;
        await handler({ req, res, params: match.slice(1) });
        return true;
      }
      throw new AppError('not_found', `No API route ${req.method} ${path}.`);
    } catch (error) {
      if (error instanceof AppError) sendError(res, error);
      else if (isDbUnavailable(error)) {
        deps.log.warn({ path }, 'API request failed: the database cannot be reached');
        sendError(res, new AppError('db_unavailable'));
      } else {
        deps.log.error({ err: error, path }, 'API request failed');
        sendError(res, new AppError('internal'));
      }
      return true;
    }
  };
}
