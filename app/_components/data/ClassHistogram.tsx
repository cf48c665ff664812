'use client';

import { useTranslations } from 'use-intl';
import type { ModelSpec } from '@/server/protocol/spec';
import { classCount } from '@/server/protocol/shapes';
import type { LocalData } from '@/app/_lib/useLocalData';
import type { Training } from '@/app/_lib/useTraining';
import { labelCounts } from '@/workers/ml/local-data';
import { cx, ui } from '../ui';

interface Bars {
  shard: number[];
  private: number[];
}

/** Stacked bars per class (share below, private above), in a box of fixed height. */
function BarChart({ bars, labels }: { bars: Bars; labels: string[] }) {
  const t = useTranslations('data');
  const totals = bars.shard.map((s, c) => s + bars.private[c]!);
  const max = Math.max(1, ...totals);
  return (
    <div>
      <div className="flex h-32 items-end gap-1 border-b border-slate-300" aria-hidden data-testid="class-bars">
        {totals.map((total, c) => (
          <div key={c} className="flex h-full min-w-0 flex-1 flex-col items-center justify-end" title={`${labels[c]}: ${total}`}>
            <span className="max-w-full truncate text-center text-xs text-slate-500 tabular-nums">{total > 0 ? total : ''}</span>
            <div className="w-full max-w-14 rounded-t bg-amber-400" style={{ height: `${(bars.private[c]! / max) * 85}%` }} />
            <div className="w-full max-w-14 bg-brand-500" style={{ height: `${(bars.shard[c]! / max) * 85}%` }} />
          </div>
        ))}
      </div>
      <div className="mt-1 flex gap-1" aria-hidden>
        {labels.map((label, c) => (
          <span key={c} className="min-w-0 flex-1 truncate text-center font-mono text-xs text-slate-600">
            {label}
          </span>
        ))}
      </div>
      <table className="sr-only">
        <caption>{t('histogram.tableCaption')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('histogram.class')}</th>
            <th scope="col">{t('histogram.shard')}</th>
            <th scope="col">{t('histogram.private')}</th>
            <th scope="col">{t('histogram.total')}</th>
          </tr>
        </thead>
        <tbody>
          {labels.map((label, c) => (
            <tr key={c}>
              <th scope="row">{label}</th>
              <td>{bars.shard[c]}</td>
              <td>{bars.private[c]}</td>
              <td>{totals[c]}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * The class distribution of what this browser trains on in the current round: its share of the
 * shared dataset under the spec's partition, plus its private samples (in the chosen mode).
 */
export function ClassHistogram({ training, local, spec }: { training: Training; local: LocalData; spec: ModelSpec | null }) {
  const t = useTranslations('data');
  const { assignment, run } = training;
  const shown = assignment?.spec ?? spec;
  const classes = shown ? classCount(shown) : 2;
  const labels = Array.from({ length: classes }, (_, c) => String(c));
  const privateRows = shown ? local.forTask(shown) : null;
  const privateCounts = privateRows ? labelCounts(privateRows.rows.y, classes) : new Array<number>(classes).fill(0);
  const skipShard = local.data.mode === 'only' && privateRows !== null;
  const shardCounts = assignment?.shardCounts && !skipShard ? assignment.shardCounts : new Array<number>(classes).fill(0);
  const total = [...shardCounts, ...privateCounts].reduce((a, b) => a + b, 0);
  const current = assignment !== null && run?.runId === assignment.runId && run.round === assignment.round;

  let caption: string;
  if (!assignment) caption = privateRows ? t('histogram.noneWithPrivate') : t('histogram.none');
  else if (!assignment.shardCounts && !skipShard) caption = t('histogram.counting');
  else caption = t(current ? 'histogram.round' : 'histogram.lastRound', { round: assignment.round, count: total });

  return (
    <section className={ui.card} aria-labelledby="histogram-title" data-testid="class-histogram">
      <h2 id="histogram-title" className={ui.cardTitle}>
        {t('histogram.title')}
      </h2>
      <p className={cx(ui.hint, 'mt-1')}>{t('histogram.hint')}</p>
      <p className="mt-3 min-h-5 text-sm font-medium text-slate-700 tabular-nums" aria-live="polite" data-testid="histogram-caption">
        {caption}
      </p>
      <div className="mt-2">
        <BarChart bars={{ shard: shardCounts, private: privateCounts }} labels={labels} />
      </div>
      <div className="mt-2 flex flex-wrap gap-4 text-sm text-slate-600">
        <span className="flex items-center gap-1.5">
          <span aria-hidden className="h-3 w-3 rounded-sm bg-brand-500" />
          {t('histogram.shard')}
        </span>
        <span className="flex items-center gap-1.5">
          <span aria-hidden className="h-3 w-3 rounded-sm bg-amber-400" />
          {t('histogram.private')}
        </span>
      </div>
    </section>
  );
}
