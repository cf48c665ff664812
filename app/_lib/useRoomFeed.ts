'use client';

import { useCallback, useState } from 'react';
import type { RoundMetrics, RunState, ServerMessage } from '@/server/protocol';
import type { GlobalModel, TrainingClient } from '@/workers/client';

export type TrainingClientInfo = Extract<ServerMessage, { type: 'state' }>['clients'][number];

/** What a browser following the training room sees: connection, run, clients, charts, latest model. */
export interface RoomFeed {
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
  lastError: string | null;
}

/** Round metrics by round number, newer reports replacing older ones; sorted by round. */
export function mergeHistory(prev: RoundMetrics[], incoming: RoundMetrics[]): RoundMetrics[] {
  const byRound = new Map(prev.map((m) => [m.round, m]));
  for (const m of incoming) byRound.set(m.round, m);
  return [...byRound.values()].sort((a, b) => a.round - b.round);
}

/**
 * The room's state as React state, shared by the training and the watch-only hooks: `follow`
 * wires a TrainingClient's events into it and returns the unsubscribe functions. A new run (or a
 * reset: no run) starts the charts and the model view afresh; `onRunChange` hears of it too.
 */
export function useRoomFeed(): { feed: RoomFeed; follow: (client: TrainingClient, onRunChange?: () => void) => (() => void)[]; disconnected: () => void } {
  const [connected, setConnected] = useState(false);
  const [connectionReason, setConnectionReason] = useState<string | null>(null);
  const [clientId, setClientId] = useState<string | null>(null);
  const [run, setRun] = useState<RunState | null>(null);
  const [clients, setClients] = useState<TrainingClientInfo[]>([]);
  const [history, setHistory] = useState<RoundMetrics[]>([]);
  const [modelVersion, setModelVersion] = useState(0);
  const [globalModel, setGlobalModel] = useState<GlobalModel | null>(null);
  const [lastError, setLastError] = useState<string | null>(null);

  const follow = useCallback((client: TrainingClient, onRunChange?: () => void) => {
    let runId: string | null = null;
    const resetRun = (next: string | null) => {
      if (runId === next) return;
      runId = next;
      setHistory([]);
      setGlobalModel((g) => (g && g.runId === next ? g : null));
      onRunChange?.();
    };
    return [
      client.on('connection', (e) => {
        setConnected(e.connected);
        setConnectionReason(e.connected ? null : (e.reason ?? null));
      }),
      client.on('welcome', (e) => setClientId(e.clientId)),
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
      client.on('error', (e) => setLastError(e.message)),
    ];
  }, []);

  const disconnected = useCallback(() => setConnected(false), []);
  return { feed: { connected, connectionReason, clientId, run, clients, history, modelVersion, globalModel, lastError }, follow, disconnected };
}
