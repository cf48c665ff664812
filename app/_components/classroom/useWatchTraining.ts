'use client';

import { useEffect } from 'react';
import { api } from '@/app/_lib/api';
import type { Training } from '@/app/_lib/useTraining';
import { useRoomFeed } from '@/app/_lib/useRoomFeed';
import { TrainingClient } from '@/workers/client';

const noop = () => undefined;
const IDLE = { rounds: 0, computeMs: 0, samples: 0, training: false };

/**
 * Follows the project's training room without ever training: no Web Worker, no TensorFlow.js,
 * and `contribute: false` in every hello (the server refuses compute from viewers anyway). For
 * viewers and the projector; shaped like useTraining so the same panels can show it.
 */
export function useWatchTraining(slug: string, enabled: boolean): Training {
  const { feed, follow, disconnected } = useRoomFeed();

  useEffect(() => {
    if (!enabled) return;
    const client = new TrainingClient({
      auth: async () => ({ slug, ticket: (await api.ticket(slug)).ticket }),
      agent: 'browser',
      backend: 'cpu',
      probeMs: 0,
      contribute: false,
      train: () => Promise.reject(new Error('watch-only clients do not train')),
    });
    const offs = follow(client);
    return () => {
      for (const off of offs) off();
      client.close();
      disconnected();
    };
  }, [slug, enabled, follow, disconnected]);

  return {
    ...feed,
    compute: { phase: 'unavailable', reason: 'watch only' },
    contribute: false,
    setContribute: noop,
    contributed: IDLE,
    assignment: null,
  };
}
