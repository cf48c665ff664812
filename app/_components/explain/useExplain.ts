'use client';

import { useEffect, useRef, useState } from 'react';
import { acquireExplainWorker, type ExplainWorker } from '@/app/_lib/explain-worker';
import type { GlobalModelView } from '@/app/_lib/useGlobalModel';

/** The shared explain worker while the calling view is mounted. */
export function useExplainWorker(enabled: boolean): ExplainWorker | null {
  const [worker, setWorker] = useState<ExplainWorker | null>(null);
  useEffect(() => {
    if (!enabled) return;
    let handle: ReturnType<typeof acquireExplainWorker> | null = null;
    try {
      handle = acquireExplainWorker();
      setWorker(handle.worker);
    } catch {
      setWorker(null); // no Web Workers here: the views keep their empty state
    }
    return () => {
      handle?.release();
      setWorker(null);
    };
  }, [enabled]);
  return worker;
}

export interface Evaluated<T> {
  value: T | null;
  /** Key of the model `value` was computed from. */
  key: string | null;
  /** Worker compute time and request-to-result time of the last evaluation (ms). */
  computeMs: number | null;
  totalMs: number | null;
  error: string | null;
}

/**
 * Evaluates the latest model with `run` in the worker, one request at a time: models arriving
 * while one is computed are coalesced into the newest, so a burst of rounds never queues work.
 * The previous result stays shown until the next one is ready (no flashing).
 */
export function useLatestEvaluation<T>(
  model: GlobalModelView | null,
  worker: ExplainWorker | null,
  run: (worker: ExplainWorker, model: GlobalModelView) => Promise<{ value: T; ms: number }>,
): Evaluated<T> {
  const [state, setState] = useState<Evaluated<T>>({ value: null, key: null, computeMs: null, totalMs: null, error: null });
  const latest = useRef(model);
  latest.current = model;
  const busy = useRef(false);
  const runRef = useRef(run);
  runRef.current = run;

  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  useEffect(() => {
    if (!model) {
      setState({ value: null, key: null, computeMs: null, totalMs: null, error: null });
      return;
    }
    // While busy, the finishing request picks up `latest` itself.
    if (!worker || busy.current) return;
    const go = (target: GlobalModelView) => {
      busy.current = true;
      const started = performance.now();
      const settle = () => {
        busy.current = false;
        const next = latest.current;
        if (mounted.current && next && next.key !== target.key) go(next);
      };
      runRef.current(worker, target).then(
        ({ value, ms }) => {
          if (mounted.current && latest.current) setState({ value, key: target.key, computeMs: ms, totalMs: performance.now() - started, error: null });
          settle();
        },
        (error: unknown) => {
          if (mounted.current) setState((s) => ({ ...s, error: error instanceof Error ? error.message : String(error) }));
          settle();
        },
      );
    };
    go(model);
  }, [model, worker]);
  return state;
}

/** The evaluated value if it belongs to `model`'s run (a late answer for the previous run is not shown). */
export function ofRun<T>(model: GlobalModelView | null, evaluated: Evaluated<T>): T | null {
  return model && evaluated.key?.startsWith(`${model.runId}:`) ? evaluated.value : null;
}
