'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import type { ModelSpec } from '@/server/protocol/spec';
import {
  EMPTY_PRIVATE_DATA,
  MAX_PRIVATE_DIGITS,
  MAX_PRIVATE_POINTS,
  localTrainData,
  parsePrivateData,
  serializePrivateData,
  type LocalTrainData,
  type PointsTask,
  type PrivateData,
  type PrivateDigit,
  type PrivateMode,
  type PrivatePoint,
} from '@/workers/ml/local-data';

/** Why this browser's stored private data could not be read or written. */
export type StorageProblem = 'unreadable' | 'corrupt' | 'full' | null;

export interface LocalData {
  data: PrivateData;
  /** False until this browser's storage was read (after mount). */
  loaded: boolean;
  problem: StorageProblem;
  setMode: (mode: PrivateMode) => void;
  /** Adds points for a task up to the limit; returns how many were added. */
  addPoints: (task: PointsTask, points: PrivatePoint[]) => number;
  removePoint: (task: PointsTask, index: number) => void;
  clearPoints: (task: PointsTask) => void;
  addDigits: (digits: PrivateDigit[]) => number;
  removeDigit: (index: number) => void;
  clearDigits: () => void;
  /** The private rows for a task's spec in the chosen mode (stable function, reads the latest data). */
  forTask: (spec: ModelSpec) => LocalTrainData | null;
}

const storageKey = (slug: string) => `cotrain.private.v1.${slug}`;

/**
 * This browser's private samples for one project, kept in localStorage only: they are never
 * uploaded. Training reads them through `forTask`, at every round.
 */
export function useLocalData(slug: string): LocalData {
  const [data, setData] = useState<PrivateData>(EMPTY_PRIVATE_DATA);
  const [loaded, setLoaded] = useState(false);
  const [problem, setProblem] = useState<StorageProblem>(null);
  const dataRef = useRef(data);

  useEffect(() => {
    let text: string | null = null;
    try {
      text = localStorage.getItem(storageKey(slug));
    } catch {
      setProblem('unreadable');
    }
    const parsed = parsePrivateData(text);
    if (!parsed) setProblem('corrupt');
    dataRef.current = parsed ?? EMPTY_PRIVATE_DATA;
    setData(dataRef.current);
    setLoaded(true);
  }, [slug]);

  const update = useCallback(
    (change: (d: PrivateData) => PrivateData) => {
      const next = change(dataRef.current);
      dataRef.current = next;
      setData(next);
      try {
        localStorage.setItem(storageKey(slug), serializePrivateData(next));
        setProblem(null);
      } catch {
        // Kept in memory for this visit; the panel says it will not survive a reload.
        setProblem('full');
      }
    },
    [slug],
  );

  const setMode = useCallback((mode: PrivateMode) => update((d) => ({ ...d, mode })), [update]);

  const addPoints = useCallback(
    (task: PointsTask, points: PrivatePoint[]) => {
      const have = dataRef.current.points[task]?.length ?? 0;
      const take = points.slice(0, Math.max(0, MAX_PRIVATE_POINTS - have));
      if (take.length > 0) update((d) => ({ ...d, points: { ...d.points, [task]: [...(d.points[task] ?? []), ...take] } }));
      return take.length;
    },
    [update],
  );
  const removePoint = useCallback(
    (task: PointsTask, index: number) => update((d) => ({ ...d, points: { ...d.points, [task]: (d.points[task] ?? []).filter((_, i) => i !== index) } })),
    [update],
  );
  const clearPoints = useCallback((task: PointsTask) => update((d) => ({ ...d, points: { ...d.points, [task]: [] } })), [update]);

  const addDigits = useCallback(
    (digits: PrivateDigit[]) => {
      const take = digits.slice(0, Math.max(0, MAX_PRIVATE_DIGITS - dataRef.current.digits.length));
      if (take.length > 0) update((d) => ({ ...d, digits: [...d.digits, ...take] }));
      return take.length;
    },
    [update],
  );
  const removeDigit = useCallback((index: number) => update((d) => ({ ...d, digits: d.digits.filter((_, i) => i !== index) })), [update]);
  const clearDigits = useCallback(() => update((d) => ({ ...d, digits: [] })), [update]);

  const forTask = useCallback((spec: ModelSpec) => localTrainData(spec, dataRef.current, dataRef.current.mode), []);

  return { data, loaded, problem, setMode, addPoints, removePoint, clearPoints, addDigits, removeDigit, clearDigits, forTask };
}
