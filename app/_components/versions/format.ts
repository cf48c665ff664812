'use client';

import { useCallback } from 'react';
import { useFormatter } from 'use-intl';

/** Held-out loss (3 decimals) and accuracy (percent) as text in the current language. */
export function useMetricFormat(): { loss: (value: number) => string; accuracy: (value: number) => string; time: (iso: string) => string } {
  const format = useFormatter();
  const loss = useCallback((value: number) => format.number(value, { minimumFractionDigits: 3, maximumFractionDigits: 3 }), [format]);
  const accuracy = useCallback((value: number) => format.number(value, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }), [format]);
  const time = useCallback(
    (iso: string) => {
      const date = new Date(iso);
      return Number.isNaN(date.getTime()) ? '' : format.dateTime(date, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
    },
    [format],
  );
  return { loss, accuracy, time };
}

/** Run statuses during which a run holds the project's training room. */
export const ACTIVE_STATUSES: readonly string[] = ['waiting', 'training', 'paused'];

/** The two files of a checkpoint in TensorFlow.js layers format. */
export const MODEL_FILES = ['model.json', 'weights.bin'] as const;
