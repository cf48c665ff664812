'use client';

import { useEffect, useState } from 'react';
import { useTranslations } from 'use-intl';
import { roundMetricsSchema, type RoundMetrics } from '@/server/protocol';
import { api, errorMessage, type RunDetail } from '@/app/_lib/api';
import { MetricsChart } from '../MetricsChart';
import { ui } from '../ui';

/** A stored run's curves: each checkpoint's metrics (round 0 included), as the room saved them. */
export function historyOf(detail: RunDetail): RoundMetrics[] {
  const history: RoundMetrics[] = [];
  for (const c of detail.checkpoints) {
    const parsed = roundMetricsSchema.safeParse({ trainLoss: null, participants: 0, samples: 0, ...(c.metrics ?? {}), round: c.round });
    if (parsed.success) history.push(parsed.data);
  }
  return history.sort((a, b) => a.round - b.round);
}

/** Train and held-out curves of one run, from GET /api/projects/:slug/runs/:runId. */
export function RunCurves({ slug, runId, version = 0 }: { slug: string; runId: string; version?: number }) {
  const t = useTranslations('explain.curves');
  const [state, setState] = useState<{ runId: string; history: RoundMetrics[]; total: number } | { error: string } | null>(null);
  useEffect(() => {
    let stale = false;
    api.run(slug, runId).then(
      (detail) => !stale && setState({ runId, history: historyOf(detail), total: detail.run.totalRounds }),
      (error: unknown) => !stale && setState({ error: errorMessage(error) }),
    );
    return () => {
      stale = true;
    };
  }, [slug, runId, version]);
  if (state && 'error' in state) return <p className={ui.error}>{t('error', { message: state.error })}</p>;
  const loaded = state && state.runId === runId ? state : null;
  return (
    <div data-testid="run-curves" data-run-id={runId} aria-busy={!loaded}>
      <MetricsChart history={loaded?.history ?? []} totalRounds={loaded?.total ?? 0} />
    </div>
  );
}
