'use client';

import { useEffect, useRef, type RefObject } from 'react';
import type uPlot from 'uplot';

export const CHART_FONT = '13px system-ui, sans-serif';
/** Axis styling shared by every chart. */
export const CHART_AXIS = { stroke: '#475569', grid: { stroke: '#e2e8f0', width: 1 }, ticks: { stroke: '#cbd5e1', width: 1 }, font: CHART_FONT, labelFont: CHART_FONT };

/**
 * A uPlot chart in `boxRef`'s element, as wide as it and `height` tall: loaded lazily, resized
 * with its box, destroyed on unmount. Built again only when `rebuildKey` changes (say, the
 * language of its axis labels); callers push new data through `plotRef`.
 */
export function useUPlot(
  height: number,
  build: (UPlot: typeof uPlot) => Omit<uPlot.Options, 'width' | 'height'>,
  data: () => uPlot.AlignedData,
  rebuildKey: string,
  onCreate?: (plot: uPlot) => void,
): { boxRef: RefObject<HTMLDivElement | null>; plotRef: RefObject<uPlot | null> } {
  const boxRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<uPlot | null>(null);
  // The latest callbacks, read when the chart is (re)built.
  const latest = useRef({ build, data, onCreate });
  latest.current = { build, data, onCreate };

  useEffect(() => {
    const box = boxRef.current;
    if (!box) return;
    let disposed = false;
    let observer: ResizeObserver | null = null;
    void import('uplot').then(({ default: UPlot }) => {
      if (disposed) return;
      const { build, data, onCreate } = latest.current;
      const plot = new UPlot({ ...build(UPlot), width: Math.max(box.clientWidth, 200), height }, data(), box);
      plotRef.current = plot;
      onCreate?.(plot);
      observer = new ResizeObserver(() => {
        const width = box.clientWidth;
        if (width > 0 && Math.abs(width - plot.width) > 1) plot.setSize({ width, height });
      });
      observer.observe(box);
    });
    return () => {
      disposed = true;
      observer?.disconnect();
      plotRef.current?.destroy();
      plotRef.current = null;
    };
  }, [height, rebuildKey]);

  return { boxRef, plotRef };
}

/** The chart's fixed-height box, with an empty state over it until there is data: no layout shift. */
export function ChartBox({
  boxRef,
  height,
  testId,
  points,
  empty,
}: {
  boxRef: RefObject<HTMLDivElement | null>;
  height: number;
  testId: string;
  points: number;
  empty: { title: string; hint: string };
}) {
  return (
    <div className="relative w-full overflow-hidden" style={{ height }} data-testid={testId} data-rounds={points}>
      <div ref={boxRef} className="absolute inset-0" />
      {points === 0 && (
        <div className="absolute inset-0 flex flex-col items-center justify-center rounded-lg border border-dashed border-slate-300 bg-slate-50/90 text-center">
          <p className="font-semibold text-slate-700">{empty.title}</p>
          <p className="mt-1 max-w-xs px-4 text-sm text-slate-500">{empty.hint}</p>
        </div>
      )}
    </div>
  );
}
