'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import type { Backend, ModelSpec, RoundMetrics, RunState, ServerMessage } from '@/server/protocol';
import type { LocalTrainData } from '@/workers/ml/local-data';
import { TrainingClient, type GlobalModel, type TrainResult, type TrainTask } from '@/workers/client';
import { createTrainerBridge } from '@/workers/worker-bridge';
import { api } from './api';

type StateMessage = Extract<ServerMessage, { type: 'state' }>;
export type TrainingClientInfo = StateMessage['clients'][number];

export type ComputeStatus =
  /** Testing backends; `step` of `of` (the candidate being timed now), once the worker started. */
  | { phase: 'probing'; backend?: Backend; step?: number; of?: number }
  | { phase: 'ready'; backend: Backend; probeMs: number }
  | { phase: 'unavailable'; reason: string };

export interface Training {
  compute: ComputeStatus;
  connected: boolean;
  connectionReason: string | null;
  /** This browser's id among the training clients (from `welcome`). */
  clientId: string | null;
  run: RunState | null;
  clients: TrainingClientInfo[];
  /** Held-out metrics per round of the current run (state history merged with model messages). */
  history: RoundMetrics[];
  /** Bumped on every new global model, so views can refetch run details. */
  modelVersion: number;
  /** The latest global weights this browser saw (model broadcast or assignment), for the explain views. */
  globalModel: GlobalModel | null;
  contribute: boolean;
  setContribute: (on: boolean) => void;
  /** What this browser computed: rounds trained, total compute time, samples. */
  contributed: { rounds: number; computeMs: number; samples: number; training: boolean };
  lastError: string | null;
  /** This browser's latest assignment and its shard's rows per class (null until the worker counted them). */
  assignment: Assignment | null;
}

export interface Assignment {
  runId: string;
  round: number;
  spec: ModelSpec;
  shard: { part: number; parts: number };
  shardCounts: number[] | null;
}

/** This browser's private rows for a task's spec (looked up at every round), or null. */
export type LocalDataSource = (spec: ModelSpec) => LocalTrainData | null;

const WASM_BASE = '/vendor/tfjs-wasm/';
const CONTRIBUTE_KEY = 'cotrain.contribute';

function initialContribute(): boolean {
  try {
    return localStorage.getItem(CONTRIBUTE_KEY) !== 'false';
  } catch {
    return true;
  }
}

/** Round metrics by round number, newer reports replacing older ones; sorted by round. */
export function mergeHistory(prev: RoundMetrics[], incoming: RoundMetrics[]): RoundMetrics[] {
  const byRound = new Map(prev.map((m) => [m.round, m]));
  for (const m of incoming) byRound.set(m.round, m);
  return [...byRound.values()].sort((a, b) => a.round - b.round);
}

/** Joins the project's training room: probes a backend in a Web Worker, then trains when assigned. */
export function useTraining(slug: string, enabled: boolean, localData?: LocalDataSource): Training {
  const [compute, setCompute] = useState<ComputeStatus>({ phase: 'probing' });
  const [connected, setConnected] = useState(false);
  const [connectionReason, setConnectionReason] = useState<string | null>(null);
  const [clientId, setClientId] = useState<string | null>(null);
  const [run, setRun] = useState<RunState | null>(null);
  const [clients, setClients] = useState<TrainingClientInfo[]>([]);
  const [history, setHistory] = useState<RoundMetrics[]>([]);
  const [modelVersion, setModelVersion] = useState(0);
  const [globalModel, setGlobalModel] = useState<GlobalModel | null>(null);
  const [contribute, setContributeState] = useState(true);
  const [contributed, setContributed] = useState({ rounds: 0, computeMs: 0, samples: 0, training: false });
  const [lastError, setLastError] = useState<string | null>(null);
  const [assignment, setAssignment] = useState<Assignment | null>(null);
  const localDataRef = useRef(localData);
  useEffect(() => {
    localDataRef.current = localData;
  }, [localData]);
  const clientRef = useRef<TrainingClient | null>(null);
  const contributeRef = useRef(true);
  const runIdRef = useRef<string | null>(null);

  useEffect(() => {
    const on = initialContribute();
    contributeRef.current = on;
    setContributeState(on);
  }, []);

  useEffect(() => {
    if (!enabled) return;
    let disposed = false;
    let client: TrainingClient | null = null;
    let bridge: ReturnType<typeof createTrainerBridge> | null = null;
    const offs: (() => void)[] = [];

    const resetRun = (runId: string | null) => {
      if (runIdRef.current === runId) return;
      runIdRef.current = runId;
      setHistory([]);
      setAssignment(null);
    };

    const connect = (backend: Backend, probeMs: number, canTrain: boolean) => {
      if (disposed) return;
      const train = async (task: TrainTask): Promise<TrainResult> => {
        if (!bridge) throw new Error('No training backend in this browser.');
        setContributed((c) => ({ ...c, training: true }));
        try {
          // Private rows join the task here, inside this browser: they go to the worker, never to the socket.
          const local = localDataRef.current?.(task.spec);
          return await bridge.train(local ? { ...task, local } : task);
        } finally {
          setContributed((c) => ({ ...c, training: false }));
        }
      };
      client = new TrainingClient({
        auth: async () => ({ slug, ticket: (await api.ticket(slug)).ticket }),
        agent: 'browser',
        backend,
        probeMs,
        contribute: canTrain && contributeRef.current,
        train,
      });
      clientRef.current = client;
      offs.push(
        client.on('connection', (e) => {
          setConnected(e.connected);
          setConnectionReason(e.connected ? null : (e.reason ?? null));
        }),
        client.on('welcome', (e) => setClientId(e.clientId)),
        client.on('assign', (e) => {
          const next: Assignment = { runId: e.runId, round: e.round, spec: e.spec, shard: e.shard, shardCounts: null };
          setAssignment(next);
          // Asked before the round's training is queued in the worker, so it answers first.
          bridge?.classCounts(e.spec, e.shard).then(
            (counts) => setAssignment((a) => (a === next ? { ...next, shardCounts: counts } : a)),
            () => undefined,
          );
        }),
        client.on('state', (e) => {
          resetRun(e.run?.runId ?? null);
          setRun(e.run);
          setClients(e.clients);
          if (e.run) setHistory((prev) => mergeHistory(prev, e.run!.history));
        }),
        client.on('model', (e) => {
          resetRun(e.runId);
          setHistory((prev) => mergeHistory(prev, [e.metrics]));
          setModelVersion((v) => v + 1);
        }),
        client.on('global', (e) => setGlobalModel((prev) => (prev && prev.runId === e.runId && prev.round > e.round ? prev : e))),
        client.on('trained', (e) => {
          if (e.result.samples < 1) return;
          setContributed((c) => ({
            ...c,
            rounds: c.rounds + 1,
            computeMs: c.computeMs + e.result.computeMs,
            samples: c.samples + e.result.samples,
          }));
        }),
        client.on('error', (e) => setLastError(e.message)),
      );
    };

    // Join the room at once, watching: the run's state shows while the worker still probes
    // backends (seconds on a slow GPU); compute is offered once a backend is ready.
    connect('cpu', 0, false);
    try {
      const worker = new Worker(new URL('../../workers/train.worker.ts', import.meta.url), { type: 'module' });
      bridge = createTrainerBridge(worker);
      const onProbe = ({ backend, step, of }: { backend: Backend; step: number; of: number }) => {
        if (!disposed) setCompute({ phase: 'probing', backend, step, of });
      };
      bridge.init({ wasmBase: WASM_BASE, onProbe }).then(
        ({ backend, probeMs }) => {
          if (disposed) return;
          setCompute({ phase: 'ready', backend, probeMs });
          client?.setBackend(backend, probeMs, contributeRef.current);
        },
        (error: unknown) => {
          if (disposed) return;
          bridge?.terminate();
          bridge = null;
          setCompute({ phase: 'unavailable', reason: String(error instanceof Error ? error.message : error) });
        },
      );
    } catch (error) {
      setCompute({ phase: 'unavailable', reason: String(error instanceof Error ? error.message : error) });
    }

    return () => {
      disposed = true;
      for (const off of offs) off();
      client?.close();
      bridge?.terminate();
      if (clientRef.current === client) clientRef.current = null;
      setConnected(false);
    };
  }, [slug, enabled]);

  const setContribute = useCallback(
    (on: boolean) => {
      if (compute.phase !== 'ready') return;
      contributeRef.current = on;
      setContributeState(on);
      try {
        localStorage.setItem(CONTRIBUTE_KEY, String(on));
      } catch {
        // not important
      }
      clientRef.current?.setContribute(on);
    },
    [compute.phase],
  );

  return { compute, connected, connectionReason, clientId, run, clients, history, modelVersion, globalModel, contribute, setContribute, contributed, lastError, assignment };
}
