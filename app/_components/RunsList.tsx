'use client';

import { useState } from 'react';
import { useTranslations } from 'use-intl';
import type { RunSummary } from '@/app/_lib/api';
import { cx, ui } from './ui';
import { CheckpointList } from './versions/CheckpointList';
import { ImportModel } from './versions/ImportModel';
import { RunOrigin } from './versions/RunOrigin';
import { ACTIVE_STATUSES, useMetricFormat } from './versions/format';

const STATUS_STYLE: Record<string, string> = {
  waiting: 'text-amber-700',
  training: 'text-brand-700',
  paused: 'text-amber-700',
  finished: 'text-emerald-700',
  stopped: 'text-slate-600',
  failed: 'text-rose-700',
};

/**
 * Every run of the project, newest first, with where it started from; the open one lists its
 * checkpoints (metrics, TensorFlow.js downloads, and for the owner "train from here"). The owner
 * can also import a model as a new run.
 */
export function RunsList({
  slug,
  runs,
  version,
  isOwner = false,
  onStarted = () => {},
}: {
  slug: string;
  runs: RunSummary[];
  version: number;
  isOwner?: boolean;
  /** A run was started or imported here: the caller refreshes the list. */
  onStarted?: () => void;
}) {
  const t = useTranslations('runs');
  const fmt = useMetricFormat();
  const sorted = [...runs].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const numbers = new Map(sorted.map((run, i) => [run.id, sorted.length - i]));
  const runNumber = (runId: string) => numbers.get(runId) ?? null;
  const runActive = runs.some((run) => ACTIVE_STATUSES.includes(run.status));
  const [openId, setOpenId] = useState<string | null>(null);
  const open = openId ?? sorted[0]?.id ?? null;
  return (
    <section className={ui.card} aria-labelledby="runs-title">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id="runs-title" className={ui.cardTitle}>
          {t('title')}
        </h2>
        {isOwner && <ImportModel slug={slug} onImported={onStarted} />}
      </div>
      {sorted.length === 0 && <p className={cx(ui.hint, 'mt-2')}>{t('empty')}</p>}
      <ul className="mt-2 divide-y divide-slate-100" data-testid="runs-list">
        {sorted.map((run) => {
          const isOpen = run.id === open;
          const imported = run.origin?.kind === 'import';
          return (
            <li key={run.id} className="py-2" data-testid="run-row" data-run-id={run.id}>
              <button
                type="button"
                className="flex w-full flex-wrap items-center justify-between gap-x-3 gap-y-1 rounded-lg px-1 py-1 text-left hover:bg-slate-50 focus-visible:ring-3 focus-visible:ring-brand-100 focus-visible:outline-none"
                aria-expanded={isOpen}
                title={isOpen ? t('hide') : t('show')}
                onClick={() => setOpenId(isOpen ? '' : run.id)}
              >
                <span className="font-semibold">
                  <span aria-hidden>{isOpen ? '▾' : '▸'}</span> {t('run', { number: runNumber(run.id) ?? 0 })}
                </span>
                <span className={cx('text-sm font-semibold', imported ? 'text-violet-700' : STATUS_STYLE[run.status])}>
                  {imported ? t('imported') : t(`status.${run.status}`)}
                </span>
                {!imported && <span className="text-sm text-slate-600 tabular-nums">{t('rounds', { done: run.lastRound ?? 0, total: run.totalRounds })}</span>}
                <span className="text-sm text-slate-500">{fmt.time(run.createdAt)}</span>
                <RunOrigin origin={run.origin} runNumber={runNumber} />
              </button>
              {isOpen && (
                <div className="mt-2 px-1">
                  <CheckpointList slug={slug} run={run} version={version} isOwner={isOwner} runActive={runActive} onStarted={onStarted} />
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
