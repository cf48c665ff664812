'use client';

import { useEffect, useRef } from 'react';
import type uPlot from 'uplot';
import { useTranslations } from 'use-intl';
import type { RoundMetrics } from '@/server/protocol';

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
  const tRef = useRef(t);
  tRef.current = t;
  const boxRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<uPlot | null>(null);
  const historyRef = useRef(history);
  historyRef.current = history;
  // The x axis spans the whole run from the start, so the chart fills in rather than rescaling.
  const roundsRef = useRef(totalRounds);
  roundsRef.current = totalRounds;

  useEffect(() => {
    const box = boxRef.current;
    if (!box) return;
    let disposed = false;
    let observer: ResizeObserver | null = null;
    void import('uplot').then(({ default: UPlot }) => {
      if (disposed) return;
      const T = { round: tRef.current('round'), loss: tRef.current('loss'), accuracy: tRef.current('accuracy'), trainLoss: tRef.current('trainLoss'), trainAccuracy: tRef.current('trainAccuracy'), axisLoss: tRef.current('axisLoss'), axisAccuracy: tRef.current('axisAccuracy') };
      const axis = { stroke: '#475569', grid: { stroke: '#e2e8f0', width: 1 }, ticks: { stroke: '#cbd5e1', width: 1 }, font: '13px system-ui, sans-serif' };
      const plot = new UPlot(
        {
          width: Math.max(box.clientWidth, 200),
          height: HEIGHT,
          legend: { show: false },
          cursor: { drag: { x: false, y: false } },
          scales: {
            x: { time: false, range: (_u, _min, max) => [0, Math.max(roundsRef.current, max ?? 1, 1)] },
            loss: { range: (_u, _min, max) => [0, Math.max(max ?? 1, 0.1) * 1.05] }, acc: { range: [0, 1] } },
          axes: [
            { ...axis, label: T.round, labelFont: '13px system-ui, sans-serif', incrs: [1, 2, 5, 10, 20, 50, 100] },
            { ...axis, scale: 'loss', label: T.axisLoss, labelFont: '13px system-ui, sans-serif', stroke: COLORS.loss, size: 50 },
            {
              ...axis,
              scale: 'acc',
              side: 1,
              label: T.axisAccuracy,
              labelFont: '13px system-ui, sans-serif',
              stroke: COLORS.accuracy,
              grid: { show: false },
              size: 50,
              values: (_u, ticks) => ticks.map((t) => `${Math.round(t * 100)}%`),
            },
          ],
          series: [
            { label: T.round },
            { label: T.loss, scale: 'loss', stroke: COLORS.loss, width: 2.5, points: { size: 6 } },
            { label: T.trainLoss, scale: 'loss', stroke: COLORS.loss, width: 1.75, dash: DASH, spanGaps: true, points: { size: 4 } },
            { label: T.accuracy, scale: 'acc', stroke: COLORS.accuracy, width: 2.5, points: { size: 6 } },
            { label: T.trainAccuracy, scale: 'acc', stroke: COLORS.accuracy, width: 1.75, dash: DASH, spanGaps: true, points: { size: 4 } },
          ],
        },
        toData(historyRef.current),
        box,
      );
      plotRef.current = plot;
      fitRounds(plot, historyRef.current, roundsRef.current);
      observer = new ResizeObserver(() => {
        const width = box.clientWidth;
        if (width > 0 && Math.abs(width - plot.width) > 1) plot.setSize({ width, height: HEIGHT });
      });
      observer.observe(box);
    });
    return () => {
      disposed = true;
      observer?.disconnect();
      plotRef.current?.destroy();
      plotRef.current = null;
    };
  }, []);

  useEffect(() => {
    const plot = plotRef.current;
    if (!plot) return;
    plot.setData(toData(history));
    fitRounds(plot, history, totalRounds);
  }, [history, totalRounds]);

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
      <div className="relative w-full overflow-hidden" style={{ height: HEIGHT }} data-testid="metrics-chart" data-rounds={history.length}>
        <div ref={boxRef} className="absolute inset-0" />
        {history.length === 0 && (
          <div className="absolute inset-0 flex flex-col items-center justify-center rounded-lg border border-dashed border-slate-300 bg-slate-50/90 text-center">
            <p className="font-semibold text-slate-700">{t('empty')}</p>
            <p className="mt-1 max-w-xs px-4 text-sm text-slate-500">{t('emptyHint')}</p>
          </div>
        )}
      </div>
    </figure>
  );
}
