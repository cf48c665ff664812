'use client';

import { useEffect } from 'react';
import { useFormatter, useTranslations } from 'use-intl';
import type uPlot from 'uplot';
import type { ContributionsReport } from '@/server/protocol';
import { CHART_AXIS, ChartBox, useUPlot } from './chart';
import { ui } from './ui';

type Point = ContributionsReport['rounds'][number];

const HEIGHT = 220;
const COLORS = { throughput: '#2563eb', participants: '#d97706', accuracy: '#059669' };

function toData(points: readonly Point[]): uPlot.AlignedData {
  return [points.map((p) => p.round), points.map((p) => p.samplesPerSecond), points.map((p) => p.participants), points.map((p) => p.accuracy)];
}

/** At most `max` groups, evenly spread from the most participants to the fewest (both always kept). */
function spread<T>(groups: readonly T[], max: number): T[] {
  if (groups.length <= max) return [...groups];
  return Array.from({ length: max }, (_, i) => groups[Math.round((i * (groups.length - 1)) / (max - 1))]!);
}

/** At a glance: what going from fewest to most participants bought, and throughput per participant count. */
function Summary({ scale }: { scale: ContributionsReport['scale'] }) {
  const t = useTranslations('contributions.scale');
  const format = useFormatter();
  if (scale.length === 0) return null;
  const speed = (v: number) => format.number(v, { maximumFractionDigits: v < 10 ? 1 : 0 });
  const most = scale[0]!;
  const fewest = scale[scale.length - 1]!;
  const factor = fewest.samplesPerSecond > 0 && scale.length > 1 ? most.samplesPerSecond / fewest.samplesPerSecond : null;
  const top = Math.max(...scale.map((s) => s.samplesPerSecond), 1);
  return (
    <div className="mt-3" data-testid="scale-summary">
      {factor !== null && (
        <p className="mb-2 font-semibold text-slate-800 tabular-nums" data-testid="scale-gain">
          {t('gain', { from: fewest.participants, to: most.participants, factor: format.number(factor, { maximumFractionDigits: 1 }) })}
        </p>
      )}
      {/* One bar per participant count: how many samples per second such rounds processed. */}
      <ul className="space-y-1 text-sm">
        {spread(scale, 6).map((s) => (
          <li
            key={s.participants}
            className="grid grid-cols-[6.5rem_minmax(0,1fr)_auto] items-center gap-2 tabular-nums"
            data-testid="scale-group"
            data-participants={s.participants}
          >
            <span className="text-slate-600">{t('groupLabel', { participants: s.participants })}</span>
            <span className="h-3 rounded-sm bg-slate-100">
              <span className="block h-3 rounded-sm" style={{ width: `${Math.max(2, (100 * s.samplesPerSecond) / top)}%`, backgroundColor: COLORS.throughput }} />
            </span>
            <span className="font-semibold text-slate-900">{t('groupSpeed', { speed: speed(s.samplesPerSecond) })}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * Over a run: participants (right axis, steps), throughput in samples per second (left axis)
 * and held-out accuracy (0–100 %, no axis: its value is in the legend), per round, in a
 * fixed-height box, with the summary of what more participants bought below it.
 */
export function ScalePanel({ report }: { report: ContributionsReport | null }) {
  const t = useTranslations('contributions.scale');
  const format = useFormatter();
  const points = report?.rounds ?? [];
  // uPlot draws its axis labels itself: built again when the language changes.
  const labelKey = [t('round'), t('throughput'), t('participants'), t('accuracy')].join('|');
  const { boxRef, plotRef } = useUPlot(
    HEIGHT,
    (UPlot) => ({
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: false, range: (_u, min, max) => [Math.min(min ?? 1, 1) - 0.5, Math.max(max ?? 1, 1) + 0.5] },
        speed: { range: (_u, _min, max) => [0, Math.max(max ?? 1, 1) * 1.1] },
        people: { range: (_u, _min, max) => [0, Math.max(max ?? 1, 1) + 1] },
        acc: { range: [0, 1] },
      },
      axes: [
        { ...CHART_AXIS, label: t('round'), space: 28, incrs: [1, 2, 5, 10, 20, 50, 100], values: (_u, ticks) => ticks.map((v) => (Number.isInteger(v) ? String(v) : '')) },
        { ...CHART_AXIS, scale: 'speed', label: t('throughput'), stroke: COLORS.throughput, size: 56, values: (_u, ticks) => ticks.map((v) => format.number(v, { notation: 'compact' })) },
        { ...CHART_AXIS, scale: 'people', side: 1, label: t('participants'), stroke: COLORS.participants, grid: { show: false }, size: 44, incrs: [1, 2, 5, 10, 20, 50] },
      ],
      series: [
        { label: t('round') },
        { label: t('throughput'), scale: 'speed', stroke: COLORS.throughput, width: 2.5, points: { size: 6 } },
        { label: t('participants'), scale: 'people', stroke: COLORS.participants, width: 2, fill: 'rgba(217,119,6,0.08)', paths: UPlot.paths.stepped!({ align: 1 }), points: { show: false } },
        { label: t('accuracy'), scale: 'acc', stroke: COLORS.accuracy, width: 2, dash: [6, 4], points: { size: 4 } },
      ],
    }),
    () => toData(points),
    labelKey,
  );

  useEffect(() => {
    plotRef.current?.setData(toData(points));
  }, [points, plotRef]);

  const last = points[points.length - 1];
  const legend = [
    { key: 'throughput', color: COLORS.throughput, text: t('throughput'), value: last?.samplesPerSecond != null ? format.number(last.samplesPerSecond, { maximumFractionDigits: 0 }) : null },
    { key: 'participants', color: COLORS.participants, text: t('participants'), value: last ? format.number(last.participants) : null },
    { key: 'accuracy', color: COLORS.accuracy, text: t('accuracy'), value: last ? format.number(last.accuracy, { style: 'percent', maximumFractionDigits: 1 }) : null },
  ];
  return (
    <section aria-labelledby="scale-title" data-testid="scale-panel">
      <h3 id="scale-title" className="text-base font-semibold text-slate-900">
        {t('title')}
      </h3>
      <figure className="m-0 mt-2" aria-label={t('label')}>
        <figcaption className="mb-2 flex min-h-7 flex-wrap items-center gap-x-4 gap-y-1 text-sm text-slate-600">
          {legend.map((item) => (
            <span key={item.key} className="inline-flex items-center gap-1.5">
              <span aria-hidden className="h-1 w-4 rounded" style={{ backgroundColor: item.color }} />
              {item.text}
              {item.value !== null && <strong className="text-slate-900 tabular-nums">{item.value}</strong>}
            </span>
          ))}
        </figcaption>
        <ChartBox boxRef={boxRef} height={HEIGHT} testId="scale-chart" points={points.length} empty={{ title: t('empty'), hint: t('emptyHint') }} />
      </figure>
      {/* Below the chart, so the chart never moves as groups appear. */}
      <Summary scale={report?.scale ?? []} />
      {(report?.scale.length ?? 0) > 0 && <p className={`${ui.hint} mt-2`}>{t('median')}</p>}
    </section>
  );
}
