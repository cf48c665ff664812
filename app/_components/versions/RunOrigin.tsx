'use client';

import { useTranslations } from 'use-intl';
import type { RunSummary } from '@/app/_lib/api';

/** Where a run's starting weights came from: a checkpoint of another run, or an imported file. */
export function RunOrigin({ origin, runNumber }: { origin: RunSummary['origin']; runNumber: (runId: string) => number | null }) {
  const t = useTranslations('runs.origin');
  if (!origin) return null;
  let text: string;
  if (origin.kind === 'import') text = t('import', { name: origin.name });
  else {
    const number = runNumber(origin.runId);
    text = number === null ? t('checkpointUnknown', { round: origin.round }) : t('checkpoint', { number, round: origin.round });
  }
  return (
    <span className="block w-full truncate text-sm text-slate-500" data-testid="run-origin" title={text}>
      {text}
    </span>
  );
}
