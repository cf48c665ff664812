'use client';

import { useEffect, useState } from 'react';
import type { RoundMetrics, RunState } from '@/server/protocol';
import { api } from '@/app/_lib/api';
import { mergeHistory, type Training, type TrainingClientInfo } from '@/app/_lib/useTraining';
import { TrainingClient, type GlobalModel } from '@/workers/client';

const noop = () => undefined;
const IDLE = { rounds: 0, computeMs: 0, samples: 0, training: false };

/**
 * Follows the project's training room without ever training: no Web Worker, no TensorFlow.js,
 * and `contribute: false` in every hello (the server refuses compute from viewers anyway). For
 * viewers and the projector; shaped like useTraining so the same panels can show it.
 */
export function useWatchTraining(slug: string, enabled: boolean): Training {
  const [connected, setConnected] = useState(false);
  const [connectionReason, setConnectionReason] = useState<string | null>(null);
  const [clientId, setClientId] = useState<string | null>(null);
  const [run, setRun] = useState<RunState | null>(null);
  const [clients, setClients] = useState<TrainingClientInfo[]>([]);
  const [history, setHistory] = useState<RoundMetrics[]>([]);
  const [modelVersion, setModelVersion] = useState(0);
  const [globalModel, setGlobalModel] = useState<GlobalModel | null>(null);
  const [lastError, setLastError] = useState<string | null>(null);

  useEffect(() => {
    if (!enabled) return;
    let runId: string | null = null;
    // A new run (or a reset: no run) starts the charts and the model view afresh.
    const resetRun = (next: string | null) => {
      if (runId === next) return;
      runId = next;
      setHistory([]);
      setGlobalModel((g) => (g && g.runId === next ? g : null));
    };
    const client = new TrainingClient({
      auth: async () => ({ slug, ticket: (await api.ticket(slug)).ticket }),
      agent: 'browser',
      backend: 'cpu',
      probeMs: 0,
      contribute: false,
      train: () => Promise.reject(new Error('watch-only clients do not train')),
    });
    const offs = [
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
    return () => {
      for (const off of offs) off();
      client.close();
      setConnected(false);
    };
  }, [slug, enabled]);

  return {
    compute: { phase: 'unavailable', reason: 'watch only' },
    connected,
    connectionReason,
    clientId,
    run,
    clients,
    history,
    modelVersion,
    globalModel,
    contribute: false,
    setContribute: noop,
    contributed: IDLE,
    lastError,
    assignment: null,
  };
}
