import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import {
  MESSAGE_EVENT,
  PROTOCOL_VERSION,
  serverMessageSchema,
  decodeVector,
  encodeVector,
  type AssignMessage,
  type Backend,
  type ClientMessage,
  type ModelMessage,
  type ServerMessage,
  type SocketAuth,
} from '../server/protocol';

import { privatizeUpdate } from './ml/dp';
import { secureAggregationSupported } from './secagg-keys';
import { SecAggClientRound } from './secagg-session';

// Type-only: the protocol client never loads TensorFlow.js itself; `train` is injected.
import type { TrainResult, TrainTask } from './ml/train';
export type { TrainResult, TrainTask };

export interface TrainingClientOptions {
  /** Server origin ("" or undefined in a browser = same origin). */
  url?: string;
  /** Called on every (re)connect, so browsers can fetch a fresh ticket. */
  auth: () => Promise<SocketAuth>;
  agent: 'browser' | 'headless';
  backend: Backend;
  probeMs: number;
  contribute: boolean;
  train: (task: TrainTask) => Promise<TrainResult>;
  ioOptions?: Partial<ManagerOptions & SocketOptions>;
}

type Events = {
  welcome: Extract<ServerMessage, { type: 'welcome' }>;
  state: Extract<ServerMessage, { type: 'state' }>;
  model: ModelMessage & { weightsF32: Float32Array };
  assign: AssignMessage;
  trained: { runId: string; round: number; result: TrainResult };
  /** Secure aggregation steps this client took: key sent, masked update sent, seeds revealed for dropped peers. */
  secagg: { runId: string; round: number; step: 'key' | 'masked' | 'revealed'; dropped?: string[] };
  /** The global model as of a round (from `model`, or from an assignment: the weights before `round`), for views. */
  global: GlobalModel;
  error: Extract<ServerMessage, { type: 'error' }>;
  connection: { connected: boolean; reason?: string };
};
/** Global weights the server published: after round `round` (0 = initial) of run `runId`. */
export interface GlobalModel {
  runId: string;
  round: number;
  manifest: ModelMessage['manifest'];
  weights: Float32Array;
}

/** After a refused handshake: first retry, and the longest wait between retries. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

type Listener<K extends keyof Events> = (event: Events[K]) => void;

/**
 * One training participant, in a browser or in Node: joins a project's training room over
 * socket.io, trains each assignment with the injected `train`, and sends the binary delta back.
 */
export class TrainingClient {
  readonly socket: Socket;
  private readonly listeners = new Map<keyof Events, Set<(e: never) => void>>();
  private contribute: boolean;
  private readonly options: TrainingClientOptions;
  /** This connection's id in the room (from welcome); secure aggregation orders masks by it. */
  private clientId: string | null = null;
  /** The secure aggregation round attempt this client takes part in (one at a time). */
  private secagg: SecAggClientRound | null = null;
  /** Handshakes refused in a row, and the timer of the next try. */
  private refusals = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(options: TrainingClientOptions) {
    this.options = { ...options }; // a copy: setBackend changes it
    this.contribute = options.contribute;
    const uri = options.url ?? '';
    this.socket = io(uri, {
      transports: ['websocket'],
      reconnectionDelay: 250,
      reconnectionDelayMax: 3000,
      ...options.ioOptions,
      auth: (cb: (data: object) => void) => {
        options.auth().then(cb, (error: unknown) => {
          this.emit('connection', { connected: false, reason: String(error) });
          cb({});
        });
      },
    });
    this.socket.on('connect', () => {
      this.refusals = 0;
      this.emit('connection', { connected: true });
      this.hello();
    });
    this.socket.on('disconnect', (reason) => this.emit('connection', { connected: false, reason }));
    this.socket.on('connect_error', (error) => {
      this.emit('connection', { connected: false, reason: error.message });
      // socket.io gives up after the server refused the handshake (a ticket that expired while
      // the laptop slept, a database hiccup): try again, more slowly each time.
      if (!this.socket.active) this.retryLater();
    });
    this.socket.on(MESSAGE_EVENT, (raw: unknown) => this.receive(raw));
  }

  on<K extends keyof Events>(type: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener as (e: never) => void);
    return () => set.delete(listener as (e: never) => void);
  }

  /** Offers or withdraws this client's compute; applies from the next round. */
  setContribute(on: boolean): void {
    this.contribute = on;
    if (this.socket.connected) this.hello();
  }

  /**
   * The backend chosen after connecting (a browser joins the room at once, watching, while its
   * worker still probes backends) and whether to offer compute now.
   */
  setBackend(backend: Backend, probeMs: number, contribute: boolean): void {
    this.options.backend = backend;
    this.options.probeMs = probeMs;
    this.setContribute(contribute);
  }

  /** Introduces this client (again): protocol version, backend and whether it contributes. */
  private hello(): void {
    this.send({
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      backend: this.options.backend,
      probeMs: this.options.probeMs,
      agent: this.options.agent,
      contribute: this.contribute,
    });
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket.close();
  }

  private retryLater(): void {
    if (this.closed || this.retryTimer) return;
    const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.refusals++);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.closed && !this.socket.connected) this.socket.connect();
    }, delay);
  }

  private emit<K extends keyof Events>(type: K, event: Events[K]): void {
    for (const listener of this.listeners.get(type) ?? []) (listener as Listener<K>)(event);
  }

  private send(message: ClientMessage): void {
    this.socket.emit(MESSAGE_EVENT, message);
  }

  private receive(raw: unknown): void {
    const parsed = serverMessageSchema.safeParse(raw);
    if (!parsed.success) {
      this.emit('error', { type: 'error', code: 'invalid_message', message: `Unreadable server message: ${parsed.error.message}` });
      return;
    }
    const message = parsed.data;
    switch (message.type) {
      case 'welcome':
        this.clientId = message.clientId;
        this.emit('welcome', message);
        return;
      case 'secagg_roster':
        void this.maskForRoster(message);
        return;
      case 'secagg_reveal_request':
        void this.revealSeeds(message);
        return;
      case 'state':
      case 'error':
        this.emit(message.type, message as never);
        return;
      case 'model': {
        const decoded = decodeVector(message.weights, message.manifest, message.encoding);
        if (decoded.ok) {
          this.emit('model', { ...message, weightsF32: decoded.values });
          this.emit('global', { runId: message.runId, round: message.metrics.round, manifest: message.manifest, weights: decoded.values });
        }
        return;
      }
      case 'assign':
        this.emit('assign', message);
        void this.runAssignment(message);
        return;
      default: {
        const unexpected: never = message;
        throw new Error(`Unhandled server message ${JSON.stringify(unexpected)}`);
      }
    }
  }

  private async runAssignment(message: AssignMessage): Promise<void> {
    const decoded = decodeVector(message.weights, message.manifest, message.encoding);
    if (!decoded.ok) {
      this.emit('error', { type: 'error', code: 'invalid_message', message: `Assigned weights: ${decoded.reason}` });
      return;
    }
    const weights = decoded.values;
    this.emit('global', { runId: message.runId, round: message.round - 1, manifest: message.manifest, weights });
    try {
      // Copy: the training side may transfer or keep the buffer; the socket's buffer is not ours.
      const result = await this.options.train({
        spec: message.spec,
        manifest: message.manifest,
        weights: weights.slice(),
        shard: message.shard,
      });
      this.emit('trained', { runId: message.runId, round: message.round, result });
      if (result.samples < 1 || !this.socket.connected) return;
      // Differential privacy: the update is clipped and noised here, before it leaves this device
      // (workers/ml/dp.ts); training loss and accuracy are not privatised, so they stay home.
      const dp = message.spec.privacy.differentialPrivacy === 'on';
      const delta = dp ? privatizeUpdate(result.delta, message.spec.privacy) : result.delta;
      if (message.secureAggregation) {
        await this.joinSecAgg(message, message.secureAggregation.session, result, delta, dp);
        return;
      }
      this.send({
        type: 'update',
        runId: message.runId,
        round: message.round,
        samples: result.samples,
        computeMs: result.computeMs,
        trainLoss: dp ? null : result.trainLoss,
        ...(!dp && typeof result.trainAccuracy === 'number' ? { trainAccuracy: result.trainAccuracy } : {}),
        encoding: message.encoding,
        delta: encodeVector(delta, message.manifest, message.encoding),
      });
    } catch (error) {
      this.emit('error', { type: 'error', code: 'internal', message: `Local training failed: ${String(error)}` });
    }
  }

  /**
   * Secure aggregation, after training: a fresh ECDH key pair per round; the public key goes to
   * the server with the sample count, the contribution (DP noise already in it) waits for the
   * roster. Without WebCrypto (plain http on a LAN address) this client cannot take part.
   */
  private async joinSecAgg(message: AssignMessage, session: string, result: TrainResult, delta: Float32Array, dp: boolean): Promise<void> {
    if (!secureAggregationSupported()) {
      this.emit('error', { type: 'error', code: 'internal', message: 'Secure aggregation needs WebCrypto, which browsers offer only over HTTPS or on localhost: this device cannot take part.' });
      return;
    }
    if (!this.clientId) return;
    if (!delta.every(Number.isFinite)) {
      this.emit('error', { type: 'error', code: 'internal', message: 'Local training diverged (non-finite update): this round is skipped.' });
      return;
    }
    const contribution = {
      delta,
      samples: result.samples,
      computeMs: result.computeMs,
      trainLoss: dp ? null : result.trainLoss,
      trainAccuracy: !dp && typeof result.trainAccuracy === 'number' ? result.trainAccuracy : null,
    };
    const round = await SecAggClientRound.start({ runId: message.runId, round: message.round, session, self: this.clientId }, contribution);
    if (!this.socket.connected) return;
    this.secagg = round;
    this.send({ type: 'secagg_key', runId: message.runId, round: message.round, session, publicKey: round.publicKey, samples: result.samples });
    this.emit('secagg', { runId: message.runId, round: message.round, step: 'key' });
  }

  private async maskForRoster(message: Extract<ServerMessage, { type: 'secagg_roster' }>): Promise<void> {
    const round = this.secagg;
    if (!round?.matches(message)) return;
    try {
      const { masked, shares } = await round.mask(message);
      if (!this.socket.connected) return;
      this.send({ type: 'secagg_masked', runId: round.runId, round: round.round, session: round.session, samples: round.samples, computeMs: round.computeMs, masked, shares });
      this.emit('secagg', { runId: round.runId, round: round.round, step: 'masked' });
    } catch (error) {
      this.emit('error', { type: 'error', code: 'internal', message: `Secure aggregation: ${String(error instanceof Error ? error.message : error)}` });
    }
  }

  private async revealSeeds(message: Extract<ServerMessage, { type: 'secagg_reveal_request' }>): Promise<void> {
    const round = this.secagg;
    if (!round?.matches(message)) return;
    try {
      const { seeds, shares } = await round.reveal(message);
      this.send({ type: 'secagg_reveal', runId: round.runId, round: round.round, session: round.session, seeds, shares });
      this.emit('secagg', { runId: round.runId, round: round.round, step: 'revealed', dropped: message.dropped });
    } catch (error) {
      this.emit('error', { type: 'error', code: 'internal', message: `Secure aggregation: refused to reveal seeds: ${String(error instanceof Error ? error.message : error)}` });
    }
  }
}
