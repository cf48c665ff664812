/**
 * Helpers for integration tests that drive the training engine with in-process clients:
 * projects with a shaped spec, headless participants sharing one TensorFlow.js engine, an
 * observer of the training state, and a raw socket.io client for protocol abuse.
 */
import Database from 'better-sqlite3';
import { io, type Socket } from 'socket.io-client';
import { readSpec, setScalar } from '../../server/protocol/spec-doc';
import { MESSAGE_EVENT, PROTOCOL_VERSION, type AssignMessage, type RunState, type ScalarField, type ServerMessage } from '../../server/protocol';
import { connectHeadless, serialize } from '../../workers/headless';
import type { TrainingClient, TrainResult, TrainTask } from '../../workers/client';
import { loadNodeTf } from '../../workers/ml/node-tf';
import { trainRound } from '../../workers/ml/train';
import { ensureMnistRegistered } from '../../server/data/mnist';
import { api, waitFor } from './server';
import { connectDoc } from './yjs';

type SpecValues = Partial<Record<ScalarField, string | number>>;

/**
 * Creates a project and shapes its shared spec over Yjs; resolves once a second Yjs client
 * sees every value, i.e. once the server holds them (POST /train reads the server's copy).
 */
export async function createShapedProject(url: string, values: SpecValues, name = 'Engine') {
  const created = await api(url, 'POST', '/api/projects', { name });
  if (created.status !== 201) throw new Error(`create project: ${created.status} ${JSON.stringify(created.body)}`);
  const { slug, joinCode, ownerToken } = created.body as { slug: string; joinCode: string; ownerToken: string };
  const editor = await connectDoc(url, slug, ownerToken);
  for (const [path, value] of Object.entries(values)) setScalar(editor.doc, path as ScalarField, value!);
  const witness = await connectDoc(url, slug, ownerToken);
  try {
    await waitFor(
      () => {
        const spec = readSpec(witness.doc).spec as unknown as Record<string, unknown> | null;
        if (!spec) return false;
        return Object.entries(values).every(([path, value]) => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], spec) === value);
      },
      10_000,
      'spec edits to reach the server',
    );
  } finally {
    witness.close();
    editor.close();
  }
  return { slug, joinCode, ownerToken };
}

/** Joins the project as a member over HTTP. */
export async function joinMember(url: string, joinCode: string, name: string): Promise<string> {
  const joined = await api(url, 'POST', '/api/join', { code: joinCode, name });
  if (joined.status !== 200) throw new Error(`join: ${joined.status} ${JSON.stringify(joined.body)}`);
  return joined.body.memberToken as string;
}

/** Waits `ms` after each local training, so a round stays open long enough to act on it. */
export const slowly =
  (ms: number) =>
  (train: (task: TrainTask) => Promise<TrainResult>) =>
  async (task: TrainTask): Promise<TrainResult> => {
    const result = await train(task);
    await new Promise((resolve) => setTimeout(resolve, ms));
    return result;
  };

let sharedTrain: ((task: TrainTask) => Promise<TrainResult>) | null = null;

/** trainRound on the cpu backend, one job at a time (every client of this process shares one tf engine). */
export async function sharedTrainer(): Promise<(task: TrainTask) => Promise<TrainResult>> {
  if (!sharedTrain) {
    const tf = await loadNodeTf('cpu');
    sharedTrain = serialize(async (task: TrainTask) => {
      if (task.spec.dataset.name === 'mnist') await ensureMnistRegistered();
      return trainRound(tf, task);
    });
  }
  return sharedTrain;
}

export interface Participant {
  name: string;
  client: TrainingClient;
  assigns: AssignMessage[];
  errors: Extract<ServerMessage, { type: 'error' }>[];
  lastState: () => { run: RunState | null; clients: unknown[] } | null;
  closed: boolean;
  close(): void;
}

/**
 * A contributing headless participant that trains for real. `wrap` may replace the training
 * function (delays, refusals); a closed participant skips training so it does not hold up the
 * shared engine.
 */
export async function participant(
  url: string,
  slug: string,
  token: string,
  name: string,
  options: { wrap?: (train: (task: TrainTask) => Promise<TrainResult>, self: Participant) => (task: TrainTask) => Promise<TrainResult> } = {},
): Promise<Participant> {
  const base = await sharedTrainer();
  let state: { run: RunState | null; clients: unknown[] } | null = null;
  const self: Participant = {
    name,
    client: null as unknown as TrainingClient,
    assigns: [],
    errors: [],
    lastState: () => state,
    closed: false,
    close() {
      self.closed = true;
      self.client.close();
    },
  };
  const guarded = (task: TrainTask): Promise<TrainResult> =>
    self.closed ? Promise.resolve({ delta: new Float32Array(task.weights.length), samples: 0, trainLoss: null, computeMs: 0 }) : base(task);
  const train = options.wrap ? options.wrap(guarded, self) : guarded;
  self.client = connectHeadless({ url, slug, token, backend: 'cpu', train });
  self.client.on('assign', (a) => self.assigns.push(a));
  self.client.on('error', (e) => self.errors.push(e));
  self.client.on('state', (s) => (state = s));
  return self;
}

/** Joins `count` members and connects them as participants; resolves once all are in the room. */
export async function participants(url: string, slug: string, joinCode: string, count: number, prefix = 'p', options: Parameters<typeof participant>[4] = {}) {
  const list: Participant[] = [];
  for (let i = 1; i <= count; i++) {
    const token = await joinMember(url, joinCode, `${prefix}${i}`);
    list.push(await participant(url, slug, token, `${prefix}${i}`, options));
  }
  return list;
}

/** Watches the project's training state without contributing compute. */
export function observe(url: string, slug: string, token: string) {
  let last: { run: RunState | null; clients: { clientId: string; contribute: boolean }[] } = { run: null, clients: [] };
  const statuses: string[] = [];
  const client = connectHeadless({ url, slug, token, backend: 'cpu', train: () => Promise.reject(new Error('observer does not train')) });
  client.setContribute(false);
  client.on('state', (state) => {
    last = state;
    const status = state.run?.status;
    if (status && statuses[statuses.length - 1] !== status) statuses.push(status);
  });
  return {
    state: () => last,
    /** Distinct run statuses seen, in order (consecutive repeats collapsed). */
    statuses: () => statuses,
    contributors: () => last.clients.filter((c) => c.contribute).length,
    close: () => client.close(),
  };
}

/** A raw socket.io client speaking the wire protocol by hand (for malformed traffic). */
export function rawClient(url: string, auth: { slug: string; token: string }) {
  const socket: Socket = io(url, { transports: ['websocket'], auth, reconnection: false, forceNew: true });
  const messages: ServerMessage[] = [];
  const waiters: { match: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  socket.on(MESSAGE_EVENT, (message: ServerMessage) => {
    messages.push(message);
    for (const w of [...waiters]) {
      if (w.match(message)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(message);
      }
    }
  });
  return {
    socket,
    messages,
    hello(contribute = true) {
      socket.emit(MESSAGE_EVENT, { type: 'hello', protocolVersion: PROTOCOL_VERSION, backend: 'cpu', probeMs: 0, agent: 'headless', contribute });
    },
    send(message: Record<string, unknown>) {
      socket.emit(MESSAGE_EVENT, message);
    },
    /** The next message (from now on) for which `match` holds. */
    next<T extends ServerMessage>(match: (m: ServerMessage) => boolean, timeoutMs = 10_000): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`raw client: no matching message within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          match,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m as T);
          },
        });
      });
    },
    close: () => socket.close(),
  };
}

/**
 * A run's stored row read straight from the SQLite file (read-only, bypassing the repository),
 * for checks that must not depend on the repository's own mapping of the row.
 */
export function storedRun(dbUrl: string, runId: string): { status: string; lastRound: number; finishedAt: unknown } | null {
  const file = dbUrl.replace(/^file:/, '');
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return (db.prepare('SELECT status, lastRound, finishedAt FROM "Run" WHERE id = ?').get(runId) as { status: string; lastRound: number; finishedAt: unknown } | undefined) ?? null;
  } finally {
    db.close();
  }
}
