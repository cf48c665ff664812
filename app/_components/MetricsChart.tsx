'use client';

import { useEffect, useRef } from 'react';
import type uPlot from 'uplot';
import { useTranslations } from 'use-intl';
import type { RoundMetrics } from '@/server/protocol';
import { CHART_AXIS, ChartBox, useUPlot } from './chart';

const HEIGHT = 240;
const COLORS = { loss: '#e11d48', accuracy: '#2563eb' };
/** Training curves are dashed, held-out ones solid: told apart without colour. */
const DASH = [6, 4];

/** Round 0 has no training: its train values are gaps, as are rounds whose clients reported none. */
function toData(history: RoundMetrics[]): uPlot.AlignedData {
  return [
    history.map((m) => m.round),
    history.map((m) => m.loss),
    history.map((m) => m.trainLoss ?? null),
    history.map((m) => m.accuracy),
    history.map((m) => m.trainAccuracy ?? null),
  ];
}

function lastOf(history: RoundMetrics[], pick: (m: RoundMetrics) => number | null | undefined): number | null {
  for (let i = history.length - 1; i >= 0; i--) {
    const v = pick(history[i]!);
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
}

/**
 * Pins the x axis to the whole run (0 … total rounds). uPlot skips the scale's range function
 * while there is a single point (round 0), which left the axis at 0 … 100.
 */
function fitRounds(plot: uPlot, history: RoundMetrics[], totalRounds: number): void {
  const last = history[history.length - 1]?.round ?? 0;
  plot.setScale('x', { min: 0, max: Math.max(totalRounds, last, 1) });
}

/**
 * Loss (left axis) and accuracy (right axis, %) per round, held-out (solid) and training (dashed:
 * the clients' sample-weighted mean), in a fixed-height box.
 */
export function MetricsChart({ history, totalRounds }: { history: RoundMetrics[]; totalRounds: number }) {
  const t = useTranslations('explain.chart');
  // The x axis spans the whole run from the start, so the chart fills in rather than rescaling.
  const roundsRef = useRef(totalRounds);
  roundsRef.current = totalRounds;
  // uPlot draws its axis labels itself: built again when the language changes.
  const labelKey = t('round') + t('axisLoss') + t('axisAccuracy');
  const { boxRef, plotRef } = useUPlot(
    HEIGHT,
    () => ({
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: false, range: (_u, _min, max) => [0, Math.max(roundsRef.current, max ?? 1, 1)] },
        loss: { range: (_u, _min, max) => [0, Math.max(max ?? 1, 0.1) * 1.05] },
        acc: { range: [0, 1] },
      },
      axes: [
        { ...CHART_AXIS, label: t('round'), incrs: [1, 2, 5, 10, 20, 50, 100] },
        { ...CHART_AXIS, scale: 'loss', label: t('axisLoss'), stroke: COLORS.loss, size: 50 },
        { ...CHART_AXIS, scale: 'acc', side: 1, label: t('axisAccuracy'), stroke: COLORS.accuracy, grid: { show: false }, size: 50, values: (_u, ticks) => ticks.map((v) => `${Math.round(v * 100)}%`) },
      ],
      series: [
        { label: t('round') },
        { label: t('loss'), scale: 'loss', stroke: COLORS.loss, width: 2.5, points: { size: 6 } },
        { label: t('trainLoss'), scale: 'loss', stroke: COLORS.loss, width: 1.75, dash: DASH, spanGaps: true, points: { size: 4 } },
        { label: t('accuracy'), scale: 'acc', stroke: COLORS.accuracy, width: 2.5, points: { size: 6 } },
        { label: t('trainAccuracy'), scale: 'acc', stroke: COLORS.accuracy, width: 1.75, dash: DASH, spanGaps: true, points: { size: 4 } },
      ],
    }),
    () => toData(history),
    labelKey,
    (plot) => fitRounds(plot, history, roundsRef.current),
  );

  useEffect(() => {
    const plot = plotRef.current;
    if (!plot) return;
    plot.setData(toData(history));
    fitRounds(plot, history, totalRounds);
  }, [history, totalRounds, plotRef]);

  const values = {
    loss: lastOf(history, (m) => m.loss),
    trainLoss: lastOf(history, (m) => m.trainLoss),
    accuracy: lastOf(history, (m) => m.accuracy),
    trainAccuracy: lastOf(history, (m) => m.trainAccuracy),
  };
  const entries = [
    { key: 'loss', color: COLORS.loss, dashed: false, text: values.loss?.toFixed(3) },
    { key: 'trainLoss', color: COLORS.loss, dashed: true, text: values.trainLoss?.toFixed(3) },
    { key: 'accuracy', color: COLORS.accuracy, dashed: false, text: values.accuracy === null ? undefined : `${(values.accuracy * 100).toFixed(1)}%` },
    { key: 'trainAccuracy', color: COLORS.accuracy, dashed: true, text: values.trainAccuracy === null ? undefined : `${(values.trainAccuracy * 100).toFixed(1)}%` },
  ] as const;
  return (
    <figure className="m-0" aria-label={t('label')}>
      <figcaption className="mb-2 grid min-h-12 grid-cols-2 gap-x-4 gap-y-1 text-sm text-slate-600 sm:flex sm:flex-wrap sm:items-center" data-testid="chart-legend">
        {entries.map((e) => (
          <span key={e.key} className="inline-flex items-center gap-1.5" data-series={e.key}>
            <span
              aria-hidden
              className="h-0 w-4 shrink-0"
              style={{ borderTop: `${e.dashed ? 2 : 4}px ${e.dashed ? 'dashed' : 'solid'} ${e.color}` }}
            />
            {t(e.key)}
            {e.text !== undefined && <strong className="text-base text-slate-900 tabular-nums">{e.text}</strong>}
          </span>
        ))}
      </figcaption>
      <ChartBox boxRef={boxRef} height={HEIGHT} testId="metrics-chart" points={history.length} empty={{ title: t('empty'), hint: t('emptyHint') }} />
    </figure>
  );
}
