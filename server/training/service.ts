import type { Server as SocketServer, Socket } from 'socket.io';
import {
  AppError,
  MESSAGE_EVENT,
  PROTOCOL_VERSION,
  clientMessageSchema,
  socketAuthSchema,
  type RoundMetrics,
  type ServerMessage,
  type WeightsManifest,
  type CheckpointRef,
  validateSpec,
  manifestSize,
  viewFloat32,
  canonicalJson,
  applyLive,
} from '../protocol';
import type { Principal, ProjectService } from '../projects';
import type { MemberRow, ProjectRow, Repository, RoundRow, RunRow } from '../db/repository';
import type { CollabService } from '../collab/collab';
import type { Logger } from '../log';
import { TrainingRoom, thinCheckpoints } from './room';
import { createInitialWeights, evaluateWeights, specHash } from './run-model';
import { importModel, restoreStart } from './export-service';
import type { RetentionPolicy } from './retention';
import { readRetention } from '../env';

export interface TrainingDeps {
  io: SocketServer;
  repo: Repository;
  projects: ProjectService;
  collab: CollabService;
  log: Logger;
  roundDeadlineMs?: number;
  /** Database outages: checkpoints kept in memory, save retry backoff (see persist-queue.ts). */
  maxPendingCheckpoints?: number;
  saveRetry?: { initialMs: number; maxMs: number };
  /** How long shutdown waits for queued round saves before giving up on them (default 3 s). */
  shutdownSaveWaitMs?: number;
  /** Checkpoint retention; CHECKPOINT_KEEP_LATEST / CHECKPOINT_KEEP_EVERY from the environment when absent. */
  retention?: RetentionPolicy;
}

const roomName = (projectId: string) => `project:${projectId}`;

/** The socket.io side of training: authenticates sockets, routes messages, starts and resumes runs. */
export class TrainingService {
  private readonly rooms = new Map<string, TrainingRoom>();
  /** Projects deleted while this server runs: no room is ever made for them again. */
  private readonly deleted = new Set<string>();
  private readonly retention: RetentionPolicy;

  constructor(private readonly deps: TrainingDeps) {
    this.retention = deps.retention ?? readRetention();
    deps.io.use((socket, next) => {
      const auth = socketAuthSchema.safeParse(socket.handshake.auth);
      if (!auth.success) return next(new Error('unauthorized'));
      deps.projects.authenticateSocket(auth.data).then(
        (principal) => {
          socket.data.principal = principal;
          next();
        },
        () => next(new Error('unauthorized')),
      );
    });
    deps.io.on('connection', (socket) => this.onConnection(socket));
    // Live fields (learning rate, deadline, sampling) edited during a run apply from its next round.
    deps.collab.onSpecEdit((projectId, spec) => this.rooms.get(projectId)?.applySpecEdit(spec));
  }

  private room(project: ProjectRow): TrainingRoom {
    let room = this.rooms.get(project.id);
    if (!room && this.deleted.has(project.id)) throw new AppError('not_found');
    if (!room) {
      room = new TrainingRoom(project, {
        repo: this.deps.repo,
        log: this.deps.log.child({ project: project.slug }),
        broadcast: (message) => this.deps.io.to(roomName(project.id)).emit(MESSAGE_EVENT, message),
        roundDeadlineMs: this.deps.roundDeadlineMs,
        maxPendingCheckpoints: this.deps.maxPendingCheckpoints,
        saveRetry: this.deps.saveRetry,
        retention: this.retention,
      });
      this.rooms.set(project.id, room);
    }
    return room;
  }

  private onConnection(socket: Socket): void {
    const principal = socket.data.principal as Principal;
    // The owner may change this member's role or name while connected (memberChanged).
    const member = () => (socket.data.principal as Principal).member;
    if (this.deleted.has(principal.project.id)) {
      socket.disconnect(true);
      return;
    }
    const room = this.room(principal.project);
    const clientId = `${principal.member.id}:${socket.id}`;
    const sendError = (code: AppError['code'], message?: string) =>
      socket.emit(MESSAGE_EVENT, { type: 'error', code, message: message ?? new AppError(code).message } satisfies ServerMessage);
    void socket.join(roomName(principal.project.id));

    socket.on(MESSAGE_EVENT, (raw: unknown) => {
      const parsed = clientMessageSchema.safeParse(raw);
      if (!parsed.success) return sendError('invalid_message', `Invalid message: ${parsed.error.issues[0]?.message ?? 'unknown shape'}`);
      const message = parsed.data;
      switch (message.type) {
        case 'hello':
          if (message.protocolVersion !== PROTOCOL_VERSION) {
            sendError('protocol_version');
            socket.disconnect(true);
            return;
          }
          socket.emit(MESSAGE_EVENT, {
            type: 'welcome',
            clientId,
            memberId: member().id,
            name: member().name,
            role: member().role,
          } satisfies ServerMessage);
          // Viewers watch: they join the room (state, models) but are never given training work.
          if (member().role === 'viewer' && message.contribute) sendError('forbidden', 'Viewers watch only: this client is given no training work.');
          room.addClient({ clientId, socket, member: member(), backend: message.backend, contribute: message.contribute && member().role !== 'viewer' });
          return;
        case 'update':
          if (member().role === 'viewer') return sendError('forbidden', 'Viewers watch only: updates from them are refused.');
          if (!room.hasClient(clientId)) return sendError('not_assigned', 'Say hello first: this connection has not joined the training room.');
          room.receiveUpdate(clientId, message);
          return;
        case 'secagg_key':
        case 'secagg_masked':
        case 'secagg_reveal':
          if (member().role === 'viewer') return sendError('forbidden', 'Viewers watch only: they take no part in secure aggregation.');
          if (!room.hasClient(clientId)) return sendError('not_assigned', 'Say hello first: this connection has not joined the training room.');
          room.receiveSecAgg(clientId, message);
          return;
        default: {
          const unexpected: never = message;
          sendError('invalid_message', `Unknown message ${JSON.stringify(unexpected)}`);
        }
      }
    });
    // Every message travels on MESSAGE_EVENT; anything else is answered, not silently dropped.
    socket.onAny((event: unknown) => {
      if (event !== MESSAGE_EVENT) sendError('invalid_message', `Unknown event ${JSON.stringify(String(event).slice(0, 40))}: every message goes on "${MESSAGE_EVENT}".`);
    });
    socket.on('disconnect', () => room.removeClient(clientId));
  }

  /**
   * Starts a run with the project's current shared spec (owner checked by the caller). With
   * `restart`, a valid spec first stops the active run, so "restart with the new spec" is one call.
   * With `from`, the run starts from that checkpoint's weights (checked to fit the spec before
   * anything is stopped) instead of fresh ones.
   */
  async startRun(principal: Principal, options: { restart?: boolean; from?: CheckpointRef } = {}): Promise<{ runId: string }> {
    const project = principal.project;
    const room = this.room(project);
    const { spec, problems } = await this.deps.collab.currentSpec(project.id);
    if (!spec) throw new AppError('invalid_spec', `The model spec is not valid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
    const restored = options.from ? await restoreStart(this.deps.repo, project.id, spec, options.from) : null;
    const active = room.activeRunId;
    if (active && options.restart) {
      await room.control('stop');
      this.deps.log.info({ runId: active, project: project.slug }, 'run stopped for a restart with the new spec');
    }
    if (room.activeRunId || (await this.deps.repo.findActiveRun(project.id))) throw new AppError('run_active');
    const { manifest, weights } = restored ?? (await createInitialWeights(spec));
    const initial = await evaluateWeights(spec, manifest, weights);
    const row = await this.deps.repo.createRun({
      projectId: project.id,
      spec: canonicalJson(spec),
      specHash: specHash(spec),
      totalRounds: spec.rounds,
      status: 'waiting',
      origin: restored ? JSON.stringify(restored.origin) : null,
    });
    const metrics: RoundMetrics = { round: 0, loss: initial.loss, accuracy: initial.accuracy, trainLoss: null, participants: 0, samples: 0 };
    await this.deps.repo.saveRound(
      null,
      {
        runId: row.id,
        round: 0,
        weights: new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength),
        manifest: JSON.stringify(manifest),
        metrics: JSON.stringify(metrics),
        optimizerState: null,
        loopState: null,
        createdAt: new Date(),
      },
      [],
    );
    this.deps.log.info({ runId: row.id, project: project.slug, rounds: spec.rounds, params: weights.length, from: options.from }, 'run started');
    room.attachRun({ row, spec, manifest, weights, history: [metrics] });
    return { runId: row.id };
  }

  /**
   * Stores an uploaded TensorFlow.js model (the import body, unparsed) as a finished run of the
   * current spec with one checkpoint (owner checked by the caller); see export-service.ts.
   */
  async importModel(principal: Principal, body: unknown): Promise<{ runId: string; loss: number; accuracy: number }> {
    const { spec, problems } = await this.deps.collab.currentSpec(principal.project.id);
    if (!spec) throw new AppError('invalid_spec', `The model spec is not valid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
    const imported = await importModel(this.deps.repo, principal.project.id, spec, body);
    this.deps.log.info({ runId: imported.runId, project: principal.project.slug, loss: imported.loss, accuracy: imported.accuracy }, 'model imported');
    return imported;
  }

  /** After a restart: every run that was waiting or training continues from its last checkpoint. */
  async resumeInterrupted(projects: ProjectRow[]): Promise<number> {
    let resumed = 0;
    for (const project of projects) {
      const row = await this.deps.repo.findActiveRun(project.id);
      if (!row) continue;
      try {
        await this.resume(project, row);
        resumed++;
      } catch (error) {
        this.deps.log.error({ err: error, runId: row.id }, 'could not resume run');
        await this.deps.repo.updateRun(row.id, { status: 'failed', error: `Could not resume: ${String(error)}`, finishedAt: new Date() });
      }
    }
    // Ended runs stored before the policy (or under another one) are thinned now.
    for (const project of projects) {
      for (const run of await this.deps.repo.listRuns(project.id)) {
        if (['waiting', 'training', 'paused'].includes(run.status)) continue;
        await thinCheckpoints(this.deps.repo, run.id, this.retention, run.lastRound).catch((error: unknown) => this.deps.log.warn({ err: error, runId: run.id }, 'could not thin checkpoints'));
      }
    }
    return resumed;
  }

  private async resume(project: ProjectRow, row: RunRow): Promise<void> {
    const checked = validateSpec(JSON.parse(row.spec));
    if (!checked.ok) throw new Error('stored spec is no longer valid');
    const checkpoint = await this.deps.repo.getCheckpoint(row.id, row.lastRound);
    if (!checkpoint) throw new Error(`checkpoint for round ${row.lastRound} is missing`);
    const manifest = JSON.parse(checkpoint.manifest) as WeightsManifest;
    const view = viewFloat32(checkpoint.weights, manifestSize(manifest));
    if (!view) throw new Error('checkpoint weights do not match their manifest');
    // Retention thins checkpoints, never round rows: the history is rebuilt from both.
    const [checkpoints, rounds] = await Promise.all([this.deps.repo.listCheckpoints(row.id), this.deps.repo.listRounds(row.id)]);
    const history = runHistory(checkpoints, rounds, row.lastRound);
    const loop = checkpoint.loopState ? (JSON.parse(checkpoint.loopState) as { samplerState?: number; privacy?: unknown }) : {};
    this.deps.log.info({ runId: row.id, fromRound: row.lastRound, status: row.status }, 'resuming run');
    // Live fields edited before the restart still apply.
    const current = await this.deps.collab.currentSpec(project.id).catch(() => null);
    this.room(project).attachRun({
      row,
      spec: current?.spec ? applyLive(checked.spec, current.spec) : checked.spec,
      manifest,
      weights: view.slice(),
      history,
      optimizerState: checkpoint.optimizerState,
      samplerState: loop.samplerState,
      privacyLedger: loop.privacy,
      status: row.status === 'paused' ? 'paused' : 'waiting',
    });
  }

  /** Pauses, resumes or stops the project's active run (owner checked by the caller). */
  async controlRun(principal: Principal, runId: string, action: 'pause' | 'resume' | 'stop'): Promise<void> {
    const room = this.rooms.get(principal.project.id);
    if (!room || room.activeRunId !== runId || !(await room.control(action))) throw new AppError('not_found', 'That run is not active in this project.');
  }

  /**
   * Reset (owner checked by the caller): stops the active run and clears the live run from every
   * screen; the next Train starts from fresh weights. Resolves with the stopped run's id, if any.
   */
  async reset(principal: Principal): Promise<string | null> {
    return this.room(principal.project).reset();
  }

  /** The owner changed a member: their live sockets carry the new name and role from now on. */
  async memberChanged(projectId: string, member: MemberRow): Promise<void> {
    for (const socket of await this.deps.io.in(roomName(projectId)).fetchSockets()) {
      const principal = socket.data.principal as Principal | undefined;
      if (principal?.member.id === member.id) socket.data.principal = { ...principal, member };
    }
    this.rooms.get(projectId)?.updateMember(member);
  }

  /**
   * Drops a revoked (or departed) member's training sockets, telling them why first; their
   * updates in the open round count as dropped.
   */
  async disconnectMember(projectId: string, memberId: string, why = 'Your access to this project was revoked.'): Promise<void> {
    for (const socket of await this.deps.io.in(roomName(projectId)).fetchSockets()) {
      if ((socket.data.principal as Principal | undefined)?.member.id !== memberId) continue;
      socket.emit(MESSAGE_EVENT, { type: 'error', code: 'unauthorized', message: why } satisfies ServerMessage);
      socket.disconnect(true);
    }
  }

  /**
   * The project is being deleted: its active run is stopped, queued saves are written (briefly),
   * every socket is told and closed, and the room is dropped for good (never made again).
   */
  async closeProject(projectId: string): Promise<void> {
    this.deleted.add(projectId);
    const room = this.rooms.get(projectId);
    if (room) {
      if (room.activeRunId) await room.control('stop');
      await room.close(this.deps.shutdownSaveWaitMs ?? 3000);
      this.rooms.delete(projectId);
    }
    const sockets = await this.deps.io.in(roomName(projectId)).fetchSockets();
    for (const socket of sockets) {
      socket.emit(MESSAGE_EVENT, { type: 'error', code: 'not_found', message: 'This project was deleted by its owner.' } satisfies ServerMessage);
      socket.disconnect(true);
    }
  }

  /** Rounds trained but not yet stored, over every room (they wait for the database). */
  pendingRounds(): number {
    let pending = 0;
    for (const room of this.rooms.values()) pending += room.pendingRounds;
    return pending;
  }

  /**
   * Stops every room, waiting a bounded time (server/index.ts exits after 5 s) for round saves
   * that a database outage holds; whatever is still unsaved then is lost, and said so loudly.
   */
  async close(): Promise<void> {
    const waitMs = this.deps.shutdownSaveWaitMs ?? 3000;
    const results = await Promise.all([...this.rooms.values()].map(async (room) => ({ project: room.project.slug, unsaved: await room.close(waitMs) })));
    for (const { project, unsaved } of results) {
      for (const run of unsaved) {
        this.deps.log.error(
          { project, runId: run.runId, rounds: run.rounds, checkpoints: run.checkpoints, statuses: run.statuses, waitedMs: waitMs },
          `shutdown with unsaved work: ${run.rounds.length} trained round(s) of run ${run.runId} could not be stored (database unreachable) and are lost; the run resumes from its last stored checkpoint`,
        );
      }
    }
  }
}

/** A run's metrics history, round 0 to `lastRound`: from its checkpoints, and from round rows where retention dropped the checkpoint. */
export function runHistory(checkpoints: readonly { round: number; metrics: string }[], rounds: readonly RoundRow[], lastRound: number): RoundMetrics[] {
  const byRound = new Map<number, RoundMetrics>();
  for (const r of rounds) {
    if (r.number > lastRound) continue;
    byRound.set(r.number, { round: r.number, loss: r.loss, accuracy: r.accuracy, trainLoss: r.trainLoss, trainAccuracy: r.trainAccuracy, participants: r.accepted, samples: r.samples, durationMs: r.finishedAt.getTime() - r.startedAt.getTime() });
  }
  for (const c of checkpoints) if (c.round <= lastRound) byRound.set(c.round, JSON.parse(c.metrics) as RoundMetrics);
  return [...byRound.values()].sort((a, b) => a.round - b.round);
}
