import type { Socket } from 'socket.io';
import {
  AppError,
  LIVE_FIELDS,
  MESSAGE_EVENT,
  applyLive,
  checkUpdate,
  decodeVector,
  encodeVector,
  manifestSize,
  scalarValue,
  type Backend,
  type ClientMessage,
  type ModelSpec,
  type RoundMetrics,
  type RunState,
  type RunStatus,
  type ServerMessage,
  type VectorEncoding,
  type WeightsManifest,
} from '../protocol';
import type { MemberRow, ProjectRow, Repository, RunRow } from '../db/repository';
import type { Logger } from '../log';
import { ServerOptimizer } from './aggregation/server-optimizer';
import { Coordinator, type Decision } from './coordinator';
import { roundRecord, type CloseRound } from './round-record';
import { evaluateWeights } from './run-model';
import { RunPrivacy } from './run-privacy';
import { PersistQueue, type SaveJob, type Unsaved } from './persist-queue';
import { isAlreadyStored, isDbUnavailable } from '../db/db-health';
import { unmask } from './secagg';
import { roundsToDrop, type RetentionPolicy } from './retention';

export interface TrainingClientInfo {
  clientId: string;
  socket: Socket;
  member: MemberRow;
  backend: Backend;
  contribute: boolean;
}

interface ActiveRun {
  row: RunRow;
  /** The spec frozen at Train, with the live fields as edited since (see LIVE_FIELDS). */
  spec: ModelSpec;
  /** What the open (or last) round was started with. */
  roundSpec: ModelSpec;
  manifest: WeightsManifest;
  weights: Float32Array;
  coordinator: Coordinator;
  optimizer: ServerOptimizer;
  history: RoundMetrics[];
  roundStartedAt: Date;
  deadline: NodeJS.Timeout | null;
  /** Secure aggregation: the timer of the open step (masked vectors, revealed seeds). */
  secaggTimer: NodeJS.Timeout | null;
  status: RunStatus;
  /** Bytes of updates received and assignments sent in the open round. */
  bytesIn: number;
  bytesOut: number;
  /** Member and backend of each client the open round was assigned to (remembered after they leave). */
  assigned: Map<string, { memberId: string; backend: string }>;
  /** Norm checks and the privacy accountant of a differentially private run; null without DP. */
  privacy: RunPrivacy | null;
}

/** Where a run continues from: a new run's round 0, or a checkpoint after a restart. */
export interface RunStart {
  row: RunRow;
  spec: ModelSpec;
  manifest: WeightsManifest;
  weights: Float32Array;
  history: RoundMetrics[];
  optimizerState?: Uint8Array | null;
  samplerState?: number;
  /** The privacy ledger stored with the checkpoint (loopState.privacy), unparsed. */
  privacyLedger?: unknown;
  /** Status to come back in (a paused run stays paused after a restart). */
  status?: RunStatus;
}

export interface RoomDeps {
  repo: Repository;
  log: Logger;
  /** Sends to every socket of the project. */
  broadcast(message: ServerMessage): void;
  /** Overrides the spec's round deadline (tests). */
  roundDeadlineMs?: number;
  /** Waiting checkpoints kept in memory during a database outage (see persist-queue.ts). */
  maxPendingCheckpoints?: number;
  /** Backoff of save retries during an outage (tests shorten it). */
  saveRetry?: { initialMs: number; maxMs: number };
  /** Which per-round checkpoints are kept as rounds are saved and when the run ends; all when absent. */
  retention?: RetentionPolicy;
}

/**
 * One project's training room: the connected training clients and the active run. It is the
 * thin shell around the pure Coordinator: it turns socket messages into events and carries out
 * the coordinator's decisions (send assignments, aggregate + evaluate + save, broadcast).
 */

/** Updates whose root-mean-square per weight exceeds this are refused as absurd (see receiveUpdate). */
export const MAX_UPDATE_RMS = 100;
/** Shortest interval between two state broadcasts of one room. */
const STATE_COALESCE_MS = 100;

export class TrainingRoom {
  readonly clients = new Map<string, TrainingClientInfo>();
  /** State broadcasts are coalesced (see broadcastState). */
  private stateTimer: NodeJS.Timeout | null = null;
  private statePending = false;
  private run: ActiveRun | null = null;
  private chain: Promise<void> = Promise.resolve();
  /** Round saves and status changes, in order; they wait here while the database is unreachable. */
  private readonly persist: PersistQueue;
  private closing = false;

  constructor(
    readonly project: ProjectRow,
    private readonly deps: RoomDeps,
  ) {
    this.persist = new PersistQueue({
      write: (job) => (job.kind === 'round' ? deps.repo.saveRound(job.row, job.checkpoint, job.contributions) : deps.repo.updateRun(job.runId, job.patch)),
      isTransient: isDbUnavailable,
      isAlreadyStored,
      onRefused: (job, error) => this.refused(job, error),
      onChange: () => this.broadcastState(),
      log: deps.log,
      maxPendingCheckpoints: deps.maxPendingCheckpoints,
      retry: deps.saveRetry,
    });
  }

  get activeRunId(): string | null {
    return this.run && ['waiting', 'training', 'paused'].includes(this.run.status) ? this.run.row.id : null;
  }

  /** Takes over a run (new, or resumed from its last checkpoint) and starts its loop. */
  attachRun(input: RunStart): void {
    const { spec } = input;
    const size = manifestSize(input.manifest);
    const coordinator = new Coordinator({
      runId: input.row.id,
      totalRounds: input.row.totalRounds,
      paramCount: size,
      lastRound: input.row.lastRound,
      minClients: spec.sampling.minClients,
      fraction: spec.sampling.fraction,
      maxClients: spec.sampling.maxClients,
      minCompletion: spec.minCompletion,
      aggregator: {
        kind: spec.strategy.aggregator,
        trimBeta: spec.strategy.trimBeta,
        clipNorm: spec.strategy.clipNorm > 0 ? spec.strategy.clipNorm : null,
      },
      samplerState: input.samplerState ?? RunPrivacy.samplerSeed(spec),
      secureAggregation: spec.privacy.secureAggregation === 'on',
    });
    const optimizer = input.optimizerState
      ? ServerOptimizer.loadState(input.optimizerState)
      : new ServerOptimizer({ kind: spec.strategy.serverOptimizer, lr: spec.strategy.serverLearningRate }, size);
    const status = input.status ?? 'waiting';
    const privacy = RunPrivacy.forRun(spec, input.row, input.privacyLedger);
    this.run = { ...input, roundSpec: spec, coordinator, optimizer, roundStartedAt: new Date(), deadline: null, secaggTimer: null, status, bytesIn: 0, bytesOut: 0, assigned: new Map(), privacy };
    for (const client of this.clients.values()) if (client.contribute) coordinator.handle({ type: 'client_available', clientId: client.clientId });
    if (status === 'paused') {
      // Pause before starting, so no round is sampled (the sampler state stays as saved).
      const decisions = coordinator.handle({ type: 'pause' });
      coordinator.start();
      void this.execute(decisions);
    } else void this.execute(coordinator.start());
    this.broadcastState();
  }

  /** Owner controls for the active run: resolves once carried out; false when there is none to control. */
  async control(action: 'pause' | 'resume' | 'stop'): Promise<boolean> {
    const run = this.run;
    if (!run || !['waiting', 'training', 'paused'].includes(run.status)) return false;
    await this.execute(run.coordinator.handle({ type: action }));
    return true;
  }

  /**
   * Reset (owner): stops the active run, if any, then forgets the live run, so every screen's
   * charts clear and the next Train starts from fresh weights. Stored runs stay as they are.
   * Resolves with the id of the run it stopped (null when none was active).
   */
  async reset(): Promise<string | null> {
    const stopped = this.activeRunId;
    if (stopped) await this.control('stop');
    await this.chain;
    if (this.run) clearTimers(this.run);
    this.run = null;
    this.broadcastState();
    return stopped;
  }

  /**
   * The owner changed a member (name or role): their clients carry the new name, and a member
   * who became a viewer is given no more work (their open assignment counts as dropped).
   */
  updateMember(member: MemberRow): void {
    let changed = false;
    for (const client of this.clients.values()) {
      if (client.member.id !== member.id) continue;
      client.member = member;
      if (member.role === 'viewer' && client.contribute) {
        client.contribute = false;
        if (this.run) void this.execute(this.run.coordinator.handle({ type: 'client_gone', clientId: client.clientId }));
      }
      changed = true;
    }
    if (changed) this.broadcastState();
  }

  /**
   * The shared spec was edited: its live fields (learning rate, round deadline, sampling) apply
   * to the active run from its next round; other fields only matter to the next run.
   */
  applySpecEdit(current: ModelSpec): void {
    const run = this.run;
    if (!run || !['waiting', 'training', 'paused'].includes(run.status)) return;
    const next = applyLive(run.spec, current);
    const changed = LIVE_FIELDS.filter((field) => scalarValue(next, field) !== scalarValue(run.spec, field));
    if (changed.length === 0) return;
    run.spec = next;
    this.deps.log.info({ runId: run.row.id, changed: Object.fromEntries(changed.map((f) => [f, scalarValue(next, f)])) }, 'live spec change: applies from the next round');
    const { minClients, fraction, maxClients } = next.sampling;
    void this.execute(run.coordinator.handle({ type: 'configure', minClients, fraction, maxClients }));
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
    // A newcomer (a late joiner, a watcher, a projector) sees the current global model at once.
    if (!previous) this.sendCurrentModel(client.socket);
    this.broadcastState();
  }

  private sendCurrentModel(socket: Socket): void {
    const run = this.run;
    const metrics = run?.history[run.history.length - 1];
    if (!run || !metrics) return;
    const encoding = run.spec.encoding ?? 'float32';
    socket.emit(MESSAGE_EVENT, { type: 'model', runId: run.row.id, metrics, manifest: run.manifest, encoding, weights: encodeVector(run.weights, run.manifest, encoding) } satisfies ServerMessage);
  }

  /** Whether this connection said hello (joined the room). */
  hasClient(clientId: string): boolean {
    return this.clients.has(clientId);
  }

  removeClient(clientId: string): void {
    if (!this.clients.delete(clientId)) return;
    if (this.run) void this.execute(this.run.coordinator.handle({ type: 'client_gone', clientId }));
    this.broadcastState();
  }

  /** An update frame from a client: decoded and checked here, judged by the coordinator. */
  receiveUpdate(
    clientId: string,
    message: { runId: string; round: number; samples: number; computeMs: number; trainLoss: number | null; trainAccuracy?: number | null; encoding: VectorEncoding; delta: ArrayBuffer | Uint8Array },
  ): void {
    const run = this.run;
    const client = this.clients.get(clientId);
    if (!client) return;
    if (!run || run.row.id !== message.runId) return this.reject(client, 'stale_update', 'That run is not active.');
    const encoding = run.spec.encoding ?? 'float32';
    run.bytesIn += message.delta.byteLength;
    const refuse = (reason: string) => {
      void this.execute(run.coordinator.handle({ type: 'update_refused', clientId, round: message.round }));
      this.reject(client, 'bad_update', reason);
    };
    if (run.spec.privacy.secureAggregation === 'on') return refuse('This run uses secure aggregation: updates travel masked (secagg_key, then secagg_masked), never in the clear.');
    if (message.encoding !== encoding) return refuse(`This run takes ${encoding} updates, not ${message.encoding}.`);
    const decoded = decodeVector(message.delta, run.manifest, encoding);
    if (!decoded.ok) return refuse(decoded.reason);
    const delta = decoded.values;
    // No training step moves weights by an RMS of 100 per weight: far beyond any honest update,
    // well above a boosted attack (×10) that the robust aggregators are there to handle.
    const sane = checkUpdate(delta, { maxNorm: MAX_UPDATE_RMS * Math.sqrt(delta.length) });
    if (!sane.ok) return refuse(sane.reason);
    // One pass over the values: the DP check reuses the norm just computed.
    const implausible = run.privacy?.checkNorm(sane.norm, delta.length, encoding);
    if (implausible) return refuse(implausible);
    void this.execute(
      run.coordinator.handle({
        type: 'update',
        clientId,
        round: message.round,
        samples: message.samples,
        computeMs: message.computeMs,
        trainLoss: message.trainLoss !== null && Number.isFinite(message.trainLoss) ? message.trainLoss : null,
        trainAccuracy: message.trainAccuracy ?? null,
        delta,
      }),
    );
  }

  /**
   * Secure aggregation messages of a client: its public key, masked vector or revealed seeds.
   * Binary fields become typed arrays here (a masked vector must be whole u32s); the coordinator
   * judges the rest.
   */
  receiveSecAgg(clientId: string, message: SecAggClientMessage): void {
    const run = this.run;
    const client = this.clients.get(clientId);
    if (!client) return;
    if (!run || run.row.id !== message.runId) return this.reject(client, 'stale_update', 'That run is not active.');
    if (run.spec.privacy.secureAggregation !== 'on') return this.reject(client, 'bad_update', 'This run does not use secure aggregation.');
    const { round, session } = message;
    switch (message.type) {
      case 'secagg_key':
        void this.execute(run.coordinator.handle({ type: 'secagg_key', clientId, round, session, publicKey: bytesOf(message.publicKey), samples: message.samples }));
        return;
      case 'secagg_masked': {
        const bytes = bytesOf(message.masked);
        run.bytesIn += bytes.byteLength;
        if (bytes.byteLength % 4 !== 0) return this.reject(client, 'bad_update', 'A masked vector is a whole number of u32 values.');
        const masked = new Uint32Array(bytes.byteLength / 4);
        new Uint8Array(masked.buffer).set(bytes); // little-endian hosts (every platform Node and browsers run on)
        const shares = message.shares.map((s) => ({ clientId: s.clientId, box: bytesOf(s.box) }));
        void this.execute(run.coordinator.handle({ type: 'secagg_masked', clientId, round, session, samples: message.samples, computeMs: message.computeMs, masked, shares }));
        return;
      }
      case 'secagg_reveal':
        const seeds = message.seeds.map((s) => ({ clientId: s.clientId, seed: bytesOf(s.seed) }));
        const shares = message.shares.map((s) => ({ clientId: s.clientId, share: bytesOf(s.share) }));
        void this.execute(run.coordinator.handle({ type: 'secagg_reveal', clientId, round, session, seeds, shares }));
        return;
      default: {
        const unexpected: never = message;
        throw new Error(`Unknown secure aggregation message ${JSON.stringify(unexpected)}`);
      }
    }
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
      spec: run.spec,
      privacy: run.privacy?.status() ?? null,
      secureAggregation: snap.secureAggregation ?? null,
      storage: this.persist.status(),
    };
  }

  private sendState(socket: Socket): void {
    socket.emit(MESSAGE_EVENT, this.stateMessage());
  }

  /**
   * Sends the room's state to everyone, at most once per STATE_COALESCE_MS: a round with 100
   * clients changes the state hundreds of times (each update, join, live edit), and the message
   * lists every client and the round history, so one message per change grew with clients².
   * The first change in a quiet period goes out at once; changes within the window are folded
   * into one trailing message that carries the latest state.
   */
  broadcastState(): void {
    if (this.stateTimer) {
      this.statePending = true;
      return;
    }
    this.deps.broadcast(this.stateMessage());
    this.stateTimer = setTimeout(() => {
      this.stateTimer = null;
      if (!this.statePending) return;
      this.statePending = false;
      this.broadcastState();
    }, STATE_COALESCE_MS);
    this.stateTimer.unref();
  }

  private reject(client: TrainingClientInfo, code: AppError['code'], message: string): void {
    this.deps.log.warn({ clientId: client.clientId, code, message }, 'update rejected');
    client.socket.emit(MESSAGE_EVENT, { type: 'error', code, message } satisfies ServerMessage);
  }

  /** Carries out decisions strictly in order, one batch after another. */
  private execute(decisions: Decision[]): Promise<void> {
    // Once the server is closing, nothing new starts (no round, no evaluation after the model thread is gone).
    if (decisions.length === 0 || this.closing) return this.chain;
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
        return this.startRound(run, decision.round, decision.participants, decision.session);
      case 'secagg_roster':
      case 'secagg_reveal_request':
      case 'secagg_unmask':
        return this.carryOutSecAgg(run, decision);
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
      case 'paused':
      case 'stopped':
        clearTimers(run);
        await this.setStatus(run, decision.type);
        if (decision.type !== 'paused') await this.thin(run.row.id, run.row.lastRound);
        this.deps.log.info({ runId: run.row.id }, `run ${decision.type}`);
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

  /** Secure aggregation steps: roster and reveal requests go to their recipients with a step timer; the sum is opened here. */
  private async carryOutSecAgg(run: ActiveRun, decision: Extract<Decision, { type: `secagg_${string}` }>): Promise<void> {
    const { round, session } = decision;
    const stepMs = secaggStepMs(this.deps.roundDeadlineMs ?? run.roundSpec.roundDeadlineSec * 1000);
    const arm = (step: 'masking' | 'revealing') => {
      if (run.secaggTimer) clearTimeout(run.secaggTimer);
      run.secaggTimer = setTimeout(() => void this.execute(run.coordinator.handle({ type: 'secagg_timeout', round, session, step })), stepMs);
    };
    const runId = run.row.id;
    switch (decision.type) {
      case 'secagg_roster': {
        const message = { type: 'secagg_roster', runId, round, session, scaleBits: decision.scaleBits, members: decision.members, deadlineMs: stepMs } satisfies ServerMessage;
        for (const m of decision.members) this.clients.get(m.clientId)?.socket.emit(MESSAGE_EVENT, message);
        arm('masking');
        this.deps.log.info({ runId, round, session, members: decision.members.length, scaleBits: decision.scaleBits }, 'secure aggregation: roster sent');
        return;
      }
      case 'secagg_reveal_request': {
        const { survivors, dropped } = decision;
        for (const id of survivors) {
          const shares = decision.sharesFor.get(id) ?? [];
          this.clients.get(id)?.socket.emit(MESSAGE_EVENT, { type: 'secagg_reveal_request', runId, round, session, survivors, dropped, shares, deadlineMs: stepMs } satisfies ServerMessage);
        }
        arm('revealing');
        this.deps.log.info({ runId, round, session, survivors: survivors.length, dropped: dropped.length }, 'secure aggregation: reveal requested');
        return;
      }
      case 'secagg_unmask': {
        if (run.secaggTimer) clearTimeout(run.secaggTimer);
        run.secaggTimer = null;
        try {
          const opened = await unmask(decision.job);
          void this.execute(run.coordinator.handle({ type: 'secagg_unmasked', round, session, ...opened }));
        } catch (error) {
          // A client revealed a share that rebuilds no seed: this attempt's sum is lost, the round runs again.
          this.deps.log.warn({ runId, round, session, err: error }, 'secure aggregation: the sum could not be opened');
          void this.execute(run.coordinator.handle({ type: 'secagg_unmask_failed', round, session }));
        }
        return;
      }
      default: {
        const unexpected: never = decision;
        throw new Error(`Unknown decision ${JSON.stringify(unexpected)}`);
      }
    }
  }

  private async startRound(run: ActiveRun, round: number, participants: string[], session?: string): Promise<void> {
    if (run.status !== 'training') await this.setStatus(run, 'training');
    run.roundStartedAt = new Date();
    run.roundSpec = run.spec;
    run.bytesIn = 0;

    const encoding = run.spec.encoding ?? 'float32';
    const weights = encodeVector(run.weights, run.manifest, encoding);
    const deadlineMs = this.deps.roundDeadlineMs ?? run.roundSpec.roundDeadlineSec * 1000;
    run.bytesOut = weights.byteLength * participants.length;
    run.assigned = new Map(participants.map((id) => [id, this.whoIs(id)]));
    run.privacy?.roundStarted(participants.length, [...this.clients.values()].filter((c) => c.contribute).length);
    participants.forEach((clientId, part) => {
      this.clients.get(clientId)?.socket.emit(MESSAGE_EVENT, {
        type: 'assign',
        runId: run.row.id,
        round,
        spec: run.roundSpec,
        manifest: run.manifest,
        encoding,
        weights,
        shard: { part, parts: participants.length },
        deadlineMs,
        ...(session ? { secureAggregation: { session } } : {}),
      } satisfies ServerMessage);
    });
    if (run.deadline) clearTimeout(run.deadline);
    run.deadline = setTimeout(() => void this.execute(run.coordinator.handle({ type: 'deadline', round })), deadlineMs);
    this.deps.log.info({ runId: run.row.id, round, participants: participants.length }, 'round started');
    this.broadcastState();
  }

  private async closeRound(run: ActiveRun, decision: CloseRound): Promise<void> {
    clearTimers(run);
    const aggregationStart = performance.now();
    const weights = run.optimizer.step(run.weights, await decision.aggregate.delta());
    const aggregationMs = performance.now() - aggregationStart;
    const evalStart = performance.now();
    const evaluation = await evaluateWeights(run.spec, run.manifest, weights);
    const evalMs = performance.now() - evalStart;
    // A DP run counts the round's privacy cost before its checkpoint, which stores the ledger.
    const privacyLedger = run.privacy?.countRound();
    const { metrics, job } = roundRecord({
      runId: run.row.id,
      decision,
      weights,
      evaluation,
      startedAt: run.roundStartedAt,
      finishedAt: new Date(),
      aggregationMs,
      evalMs,
      bytesIn: run.bytesIn,
      bytesOut: run.bytesOut,
      roundSpec: run.roundSpec,
      deadlineOverrideMs: this.deps.roundDeadlineMs,
      manifest: run.manifest,
      optimizerState: run.optimizer.config.kind === 'plain' ? null : run.optimizer.saveState(),
      loopState: JSON.stringify({ samplerState: run.coordinator.samplerState, privacy: privacyLedger }),
      whoIs: (clientId) => run.assigned.get(clientId) ?? this.whoIs(clientId),
    });
    const { loss, accuracy } = evaluation;
    // Awaited while the database answers; during an outage the save waits in the queue instead.
    const stored = await this.persist.enqueue(job);
    // saveRound moved the stored run's lastRound with its checkpoint.
    run.row = { ...run.row, lastRound: decision.round };
    if (stored) await this.thin(run.row.id, null);
    run.weights = weights;
    run.history = [...run.history, metrics];
    this.deps.log.info({ runId: run.row.id, round: decision.round, loss, accuracy, participants: metrics.participants }, stored ? 'round saved' : 'round kept in memory until the database is back');
    const encoding = run.spec.encoding ?? 'float32';
    this.deps.broadcast({ type: 'model', runId: run.row.id, metrics, manifest: run.manifest, encoding, weights: encodeVector(weights, run.manifest, encoding) });
    void this.execute(run.coordinator.handle({ type: 'round_saved', round: decision.round }));
  }

  /**
   * Retention: drops the checkpoints the policy does not keep (the newest always stays, so a
   * resume finds it; `finalRound` is kept once the run has ended). Round rows are never touched.
   * A failure only costs disk space, so it is logged, never fatal to the run.
   */
  private async thin(runId: string, finalRound: number | null): Promise<void> {
    const policy = this.deps.retention;
    if (!policy) return;
    try {
      await thinCheckpoints(this.deps.repo, runId, policy, finalRound);
    } catch (error) {
      this.deps.log[isDbUnavailable(error) ? 'debug' : 'warn']({ err: error, runId }, 'could not thin checkpoints');
    }
  }

  /** The member behind a client id and the backend it trains with ('unknown' once it has left). */
  private whoIs(clientId: string): { memberId: string; backend: string } {
    const client = this.clients.get(clientId);
    return { memberId: client?.member.id ?? memberIdOf(clientId), backend: client?.backend ?? 'unknown' };
  }

  private async setStatus(run: ActiveRun, status: RunStatus, error?: string): Promise<void> {
    run.status = status;
    const ended = status === 'finished' || status === 'failed' || status === 'stopped';
    await this.persist.enqueue({ kind: 'run', runId: run.row.id, patch: { status, ...(ended ? { finishedAt: new Date() } : {}), ...(error ? { error } : {}) } });
  }

  /** The database refused a write (not an outage): a round that cannot be stored fails its run, as before the queue. */
  private refused(job: SaveJob, error: unknown): void {
    if (job.kind === 'run') {
      this.deps.log.error({ err: error, runId: job.runId, patch: job.patch }, 'could not store a run status change');
      return;
    }
    if (this.run?.row.id === job.runId) this.chain = this.chain.then(() => this.fail(error));
    else this.deps.log.error({ err: error, runId: job.runId, round: job.round }, 'could not store a round');
  }

  private async fail(error: unknown): Promise<void> {
    const run = this.run;
    this.deps.log.error({ err: error, runId: run?.row.id }, 'run failed');
    if (!run) return;
    clearTimers(run);
    await this.setStatus(run, 'failed', String(error instanceof Error ? error.message : error)).catch(() => undefined);
    this.broadcastState();
  }

  /** Stops timers (server shutdown); the run stays active in the database and resumes on start. */
  dispose(): void {
    if (this.stateTimer) clearTimeout(this.stateTimer);
    this.stateTimer = null;
    if (this.run) clearTimers(this.run);
  }

  /** Rounds trained and not yet stored (health report). */
  get pendingRounds(): number {
    return this.persist.status().pendingRounds;
  }

  /**
   * Server shutdown: stops timers, waits up to `waitMs` for queued saves (a database outage may
   * hold them), then gives up; resolves with what could not be stored.
   */
  async close(waitMs: number): Promise<Unsaved[]> {
    this.closing = true;
    this.dispose();
    const started = Date.now();
    // A round being closed finishes (its save joins the queue) unless it takes longer than the wait.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.chain, new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
    const unsaved = await this.persist.flush(Math.max(0, waitMs - (Date.now() - started)));
    this.persist.dispose();
    return unsaved;
  }
}

type SecAggClientMessage = Extract<ClientMessage, { type: `secagg_${string}` }>;

/** Deletes the checkpoints of a run that the retention policy drops; resolves with how many went. */
export async function thinCheckpoints(repo: Repository, runId: string, policy: RetentionPolicy, finalRound: number | null): Promise<number> {
  const stored = (await repo.listCheckpoints(runId)).map((c) => c.round);
  const drop = roundsToDrop(stored, policy, finalRound);
  return drop.length > 0 ? repo.deleteCheckpoints(runId, drop) : 0;
}

function clearTimers(run: ActiveRun): void {
  if (run.deadline) clearTimeout(run.deadline);
  if (run.secaggTimer) clearTimeout(run.secaggTimer);
  run.deadline = null;
  run.secaggTimer = null;
}

/** Time for one secure aggregation step after training (masking, revealing): a quarter of the round deadline, 2–60 s. */
function secaggStepMs(roundDeadlineMs: number): number {
  return Math.max(2000, Math.min(60_000, Math.round(roundDeadlineMs / 4)));
}

function bytesOf(data: ArrayBuffer | Uint8Array): Uint8Array {
  return data instanceof Uint8Array ? data : new Uint8Array(data);
}

/** Client ids are `<memberId>:<socketId>`, so a contribution is attributable after a disconnect. */
function memberIdOf(clientId: string): string {
  return clientId.split(':')[0] ?? clientId;
}
