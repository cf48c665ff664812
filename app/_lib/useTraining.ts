'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import type { Backend, ModelSpec } from '@/server/protocol';
import type { LocalTrainData } from '@/workers/ml/local-data';
import { TrainingClient, type TrainResult, type TrainTask } from '@/workers/client';
import { createTrainerBridge } from '@/workers/worker-bridge';
import { api } from './api';
import { useRoomFeed, type RoomFeed } from './useRoomFeed';

export type ComputeStatus =
  /** Testing backends; `step` of `of` (the candidate being timed now), once the worker started. */
  | { phase: 'probing'; backend?: Backend; step?: number; of?: number }
  | { phase: 'ready'; backend: Backend; probeMs: number }
  | { phase: 'unavailable'; reason: string };

export interface Training extends RoomFeed {
  compute: ComputeStatus;
  contribute: boolean;
  setContribute: (on: boolean) => void;
  /** What this browser computed: rounds trained, total compute time, samples. */
  contributed: { rounds: number; computeMs: number; samples: number; training: boolean };
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

/** Joins the project's training room: probes a backend in a Web Worker, then trains when assigned. */
export function useTraining(slug: string, enabled: boolean, localData?: LocalDataSource): Training {
  const [compute, setCompute] = useState<ComputeStatus>({ phase: 'probing' });
  const { feed, follow, disconnected } = useRoomFeed();
  const [contribute, setContributeState] = useState(true);
  const [contributed, setContributed] = useState({ rounds: 0, computeMs: 0, samples: 0, training: false });
  const [assignment, setAssignment] = useState<Assignment | null>(null);
  const localDataRef = useRef(localData);
  useEffect(() => {
    localDataRef.current = localData;
  }, [localData]);
  const clientRef = useRef<TrainingClient | null>(null);
  const contributeRef = useRef(true);

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
        // A new run (or a reset) drops this browser's last assignment along with the charts.
        ...follow(client, () => setAssignment(null)),
        client.on('assign', (e) => {
          const next: Assignment = { runId: e.runId, round: e.round, spec: e.spec, shard: e.shard, shardCounts: null };
          setAssignment(next);
          // Asked before the round's training is queued in the worker, so it answers first.
          bridge?.classCounts(e.spec, e.shard).then(
            (counts) => setAssignment((a) => (a === next ? { ...next, shardCounts: counts } : a)),
            () => undefined,
          );
        }),
        client.on('trained', (e) => {
          if (e.result.samples < 1) return;
          setContributed((c) => ({
            ...c,
            rounds: c.rounds + 1,
            computeMs: c.computeMs + e.result.computeMs,
            samples: c.samples + e.result.samples,
          }));
        }),
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
      disconnected();
    };
  }, [slug, enabled, follow, disconnected]);

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

  return { ...feed, compute, contribute, setContribute, contributed, assignment };
}
