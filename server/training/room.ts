import type { Socket } from 'socket.io';
import {
  AppError,
  MESSAGE_EVENT,
  allFinite,
  manifestSize,
  toWire,
  viewFloat32,
  type Backend,
  type ModelSpec,
  type RoundMetrics,
  type RunState,
  type RunStatus,
  type ServerMessage,
  type WeightsManifest,
} from '../protocol';
import { applyDelta } from '../../workers/ml/aggregate';
import type { MemberRow, ProjectRow, Repository, RunRow } from '../db/repository';
import type { Logger } from '../log';
import { Coordinator, type Decision } from './coordinator';
import { evaluateWeights } from './run-model';

/** How long a round waits for its participants before closing with whatever arrived. */
export const DEFAULT_ROUND_DEADLINE_MS = 120_000;

export interface TrainingClientInfo {
  clientId: string;
  socket: Socket;
  member: MemberRow;
  backend: Backend;
  contribute: boolean;
}

interface ActiveRun {
  row: RunRow;
  spec: ModelSpec;
  manifest: WeightsManifest;
  weights: Float32Array;
  coordinator: Coordinator;
  history: RoundMetrics[];
  roundStartedAt: Date;
  deadline: NodeJS.Timeout | null;
  status: RunStatus;
}

export interface RoomDeps {
  repo: Repository;
  log: Logger;
  /** Sends to every socket of the project. */
  broadcast(message: ServerMessage): void;
  roundDeadlineMs: number;
}

/**
 * One project's training room: the connected training clients and the active run. It is the
 * thin shell around the pure Coordinator: it turns socket messages into events and carries out
 * the coordinator's decisions (send assignments, aggregate + evaluate + save, broadcast).
 */
export class TrainingRoom {
  readonly clients = new Map<string, TrainingClientInfo>();
  private run: ActiveRun | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly project: ProjectRow,
    private readonly deps: RoomDeps,
  ) {}

  get activeRunId(): string | null {
    return this.run && (this.run.status === 'waiting' || this.run.status === 'training') ? this.run.row.id : null;
  }

  /** Takes over a run (new, or resumed from its last checkpoint) and starts its loop. */
  attachRun(input: { row: RunRow; spec: ModelSpec; manifest: WeightsManifest; weights: Float32Array; history: RoundMetrics[] }): void {
    const coordinator = new Coordinator({
      runId: input.row.id,
      totalRounds: input.row.totalRounds,
      paramCount: manifestSize(input.manifest),
      lastRound: input.row.lastRound,
      minClients: 1,
    });
    this.run = { ...input, coordinator, roundStartedAt: new Date(), deadline: null, status: 'waiting' };
    for (const client of this.clients.values()) if (client.contribute) coordinator.handle({ type: 'client_available', clientId: client.clientId });
    void this.execute(coordinator.start());
    this.broadcastState();
  }

  addClient(client: TrainingClientInfo): void {
    const previous = this.clients.get(client.clientId);
    this.clients.set(client.clientId, client);
    const coordinator = this.run?.coordinator;
    if (coordinator) {
      if (client.contribute) void this.execute(coordinator.handle({ type: 'client_available', clientId: client.clientId }));
      else if (previous?.contribute) void this.execute(coordinator.handle({ type: 'client_gone', clientId: client.clientId }));
    }
    this.sendState(client.socket);
    this.broadcastState();
  }

  removeClient(clientId: string): void {
    if (!this.clients.delete(clientId)) return;
    if (this.run) void this.execute(this.run.coordinator.handle({ type: 'client_gone', clientId }));
    this.broadcastState();
  }

  /** An update frame from a client: decoded and checked here, judged by the coordinator. */
  receiveUpdate(clientId: string, message: { runId: string; round: number; samples: number; computeMs: number; trainLoss: number | null; delta: ArrayBuffer | Uint8Array }): void {
    const run = this.run;
    const client = this.clients.get(clientId);
    if (!client) return;
    if (!run || run.row.id !== message.runId) return this.reject(client, 'stale_update', 'That run is not active.');
    const delta = viewFloat32(message.delta, manifestSize(run.manifest));
    if (!delta) return this.reject(client, 'bad_update', `The update must be ${manifestSize(run.manifest)} float32 values.`);
    if (!allFinite(delta)) return this.reject(client, 'bad_update', 'The update holds NaN or infinite values.');
    void this.execute(
      run.coordinator.handle({
        type: 'update',
        clientId,
        round: message.round,
        samples: message.samples,
        computeMs: message.computeMs,
        trainLoss: message.trainLoss !== null && Number.isFinite(message.trainLoss) ? message.trainLoss : null,
        delta,
      }),
    );
  }

  /** The state every client sees: run progress plus who is connected. */
  stateMessage(): ServerMessage {
    return {
      type: 'state',
      run: this.runState(),
      clients: [...this.clients.values()].map((c) => ({ clientId: c.clientId, name: c.member.name, backend: c.backend, contribute: c.contribute })),
    };
  }

  private runState(): RunState | null {
    const run = this.run;
    if (!run) return null;
    const snap = run.coordinator.snapshot();
    return {
      runId: run.row.id,
      status: run.status,
      round: snap.round,
      totalRounds: run.row.totalRounds,
      participants: snap.participants,
      received: snap.received,
      waitingReason: snap.waitingReason,
      history: run.history,
    };
  }

  private sendState(socket: Socket): void {
    socket.emit(MESSAGE_EVENT, this.stateMessage());
  }

  broadcastState(): void {
    this.deps.broadcast(this.stateMessage());
  }

  private reject(client: TrainingClientInfo, code: AppError['code'], message: string): void {
    this.deps.log.warn({ clientId: client.clientId, code, message }, 'update rejected');
    client.socket.emit(MESSAGE_EVENT, { type: 'error', code, message } satisfies ServerMessage);
  }

  /** Carries out decisions strictly in order, one batch after another. */
  private execute(decisions: Decision[]): Promise<void> {
    if (decisions.length === 0) return this.chain;
    this.chain = this.chain.then(() => this.executeNow(decisions));
    return this.chain;
  }

  private async executeNow(decisions: Decision[]): Promise<void> {
    for (const decision of decisions) {
      try {
        await this.carryOut(decision);
      } catch (error) {
        await this.fail(error);
        return;
      }
    }
  }

  private async carryOut(decision: Decision): Promise<void> {
    const run = this.run;
    if (!run) return;
    switch (decision.type) {
      case 'start_round':
        return this.startRound(run, decision.round, decision.participants);
      case 'reject_update': {
        const client = this.clients.get(decision.clientId);
        if (client) this.reject(client, decision.code, decision.message);
        return;
      }
      case 'close_round':
        return this.closeRound(run, decision);
      case 'waiting':
        if (run.status !== 'waiting') await this.setStatus(run, 'waiting');
        this.deps.log.info({ runId: run.row.id, reason: decision.reason }, 'run waiting');
        this.broadcastState();
        return;
      case 'finished':
        await this.setStatus(run, 'finished');
        this.deps.log.info({ runId: run.row.id }, 'run finished');
        this.broadcastState();
        return;
      case 'progress':
        this.broadcastState();
        return;
      default: {
        const unexpected: never = decision;
        throw new Error(`Unknown decision ${JSON.stringify(unexpected)}`);
      }
    }
  }

  private async startRound(run: ActiveRun, round: number, participants: string[]): Promise<void> {
    if (run.status !== 'training') await this.setStatus(run, 'training');
    run.roundStartedAt = new Date();
    const weights = toWire(run.weights);
    participants.forEach((clientId, part) => {
      this.clients.get(clientId)?.socket.emit(MESSAGE_EVENT, {
        type: 'assign',
        runId: run.row.id,
        round,
        spec: run.spec,
        manifest: run.manifest,
        weights,
        shard: { part, parts: participants.length },
        deadlineMs: this.deps.roundDeadlineMs,
      } satisfies ServerMessage);
    });
    if (run.deadline) clearTimeout(run.deadline);
    run.deadline = setTimeout(() => void this.execute(run.coordinator.handle({ type: 'deadline', round })), this.deps.roundDeadlineMs);
    this.deps.log.info({ runId: run.row.id, round, participants: participants.length }, 'round started');
    this.broadcastState();
  }

  private async closeRound(run: ActiveRun, decision: Extract<Decision, { type: 'close_round' }>): Promise<void> {
    if (run.deadline) clearTimeout(run.deadline);
    run.deadline = null;
    const weights = applyDelta(run.weights, decision.meanDelta);
    const { loss, accuracy } = await evaluateWeights(run.spec, run.manifest, weights);
    const withLoss = decision.contributions.filter((c) => c.trainLoss !== null);
    const trainSamples = withLoss.reduce((s, c) => s + c.samples, 0);
    const trainLoss = trainSamples > 0 ? withLoss.reduce((s, c) => s + c.trainLoss! * c.samples, 0) / trainSamples : null;
    const metrics: RoundMetrics = { round: decision.round, loss, accuracy, trainLoss, participants: decision.contributions.length, samples: decision.samples };
    await this.deps.repo.saveRound(
      {
        runId: run.row.id,
        number: decision.round,
        participants: metrics.participants,
        samples: metrics.samples,
        loss,
        accuracy,
        trainLoss,
        startedAt: run.roundStartedAt,
        finishedAt: new Date(),
      },
      { runId: run.row.id, round: decision.round, weights: toWire(weights), manifest: JSON.stringify(run.manifest), metrics: JSON.stringify(metrics), createdAt: new Date() },
      decision.contributions.map((c) => {
        const client = this.clients.get(c.clientId);
        return {
          runId: run.row.id,
          round: decision.round,
          memberId: client?.member.id ?? memberIdOf(c.clientId),
          samples: c.samples,
          computeMs: Math.round(c.computeMs),
          backend: client?.backend ?? 'unknown',
        };
      }),
    );
    await this.deps.repo.updateRun(run.row.id, { lastRound: decision.round });
    run.row = { ...run.row, lastRound: decision.round };
    run.weights = weights;
    run.history = [...run.history, metrics];
    this.deps.log.info({ runId: run.row.id, round: decision.round, loss, accuracy, participants: metrics.participants }, 'round saved');
    this.deps.broadcast({ type: 'model', runId: run.row.id, metrics, manifest: run.manifest, weights: toWire(weights) });
    void this.execute(run.coordinator.handle({ type: 'round_saved', round: decision.round }));
  }

  private async setStatus(run: ActiveRun, status: RunStatus, error?: string): Promise<void> {
    run.status = status;
    const ended = status === 'finished' || status === 'failed' || status === 'stopped';
    await this.deps.repo.updateRun(run.row.id, { status, ...(ended ? { finishedAt: new Date() } : {}), ...(error ? { error } : {}) });
  }

  private async fail(error: unknown): Promise<void> {
    const run = this.run;
    this.deps.log.error({ err: error, runId: run?.row.id }, 'run failed');
    if (!run) return;
    if (run.deadline) clearTimeout(run.deadline);
    await this.setStatus(run, 'failed', String(error instanceof Error ? error.message : error)).catch(() => undefined);
    this.broadcastState();
  }

  /** Stops timers (server shutdown); the run stays active in the database and resumes on start. */
  dispose(): void {
    if (this.run?.deadline) clearTimeout(this.run.deadline);
  }
}

/** Client ids are `<memberId>:<socketId>`, so a contribution is attributable after a disconnect. */
function memberIdOf(clientId: string): string {
  return clientId.split(':')[0] ?? clientId;
}
