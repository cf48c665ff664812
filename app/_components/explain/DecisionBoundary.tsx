'use client';

import { useCallback, useEffect, useId, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import { useTranslations } from 'use-intl';
import type { GlobalModelView } from '@/app/_lib/useGlobalModel';
import { datasetKey, datasetSplit } from '@/workers/ml/datasets';
import { planeView, predictPoint, type PlaneEvaluation, type PlaneView } from '@/workers/ml/explain';
import { cx } from '../ui';
import { CSS, paintGrid } from './colors';
import { ofRun, useExplainWorker, useLatestEvaluation, type Evaluated } from './useExplain';

export interface DecisionBoundaryProps {
  /** The latest global model (useGlobalModel); null shows the empty state. */
  model: GlobalModelView | null;
  /** A plane evaluation shared with other views (usePlaneEvaluation); computed here when absent. */
  plane?: Evaluated<PlaneEvaluation>;
  /** Largest side in CSS pixels; the square shrinks to fit narrower containers. */
  maxSize?: number;
  /** Training and held-out points on top of the colours (default on). */
  showPoints?: boolean;
  /** Try the model under the pointer or the arrow keys (default on; off on the projector, which nobody points at). */
  interactive?: boolean;
  className?: string;
}

/** The model's plane evaluation, computed in the shared explain worker (newest model first). */
export function usePlaneEvaluation(model: GlobalModelView | null, enabled = true): Evaluated<PlaneEvaluation> {
  const worker = useExplainWorker(enabled);
  return useLatestEvaluation(enabled ? model : null, worker, async (w, m) => {
    const { plane, ms } = await w.plane(m);
    return { value: plane, ms };
  });
}

function toCanvas(view: PlaneView, size: number) {
  return {
    x: (x: number) => ((x - view.xMin) / (view.xMax - view.xMin)) * size,
    y: (y: number) => ((view.yMax - y) / (view.yMax - view.yMin)) * size,
  };
}

/**
 * The decision boundary of a 2-D task: the model's probability of label 1 over the plane
 * (orange = 0, blue = 1), the dataset's points (filled: training, rings: held-out), and the
 * model's answer under the pointer or the keyboard probe, computed live in the browser.
 * Self-contained: give it `model` (from useGlobalModel) and it evaluates in a worker.
 */
export function DecisionBoundary({ model, plane: shared, maxSize = 360, showPoints = true, interactive = true, className }: DecisionBoundaryProps) {
  const t = useTranslations('explain.boundary');
  const own = usePlaneEvaluation(model, !shared);
  const evaluated = shared ?? own;
  const spec = model?.spec ?? null;
  // Only a plane of this run's network is drawn (a late answer for the previous run is not).
  const plane = ofRun(model, evaluated);

  const boxRef = useRef<HTMLDivElement>(null);
  const heatRef = useRef<HTMLCanvasElement>(null);
  const pointsRef = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState(0);
  const [probe, setProbe] = useState<{ x: number; y: number } | null>(null);
  const [drawMs, setDrawMs] = useState<number | null>(null);
  const readoutId = useId();

  useEffect(() => {
    const box = boxRef.current;
    if (!box) return;
    const observer = new ResizeObserver(() => setSize(box.clientWidth));
    observer.observe(box);
    setSize(box.clientWidth);
    return () => observer.disconnect();
  }, []);

  const dataKey = spec ? datasetKey(spec.dataset) : '';
  const split = useMemo(() => (spec && spec.dataset.name !== 'mnist' ? datasetSplit(spec.dataset) : null), [dataKey]); // eslint-disable-line react-hooks/exhaustive-deps
  const view = useMemo(() => (spec ? planeView(spec) : null), [spec?.dataset.name]); // eslint-disable-line react-hooks/exhaustive-deps

  // The colours: a res × res canvas the browser scales up smoothly.
  useEffect(() => {
    const canvas = heatRef.current;
    if (!canvas || !plane) return;
    const start = performance.now();
    paintGrid(canvas, plane.output, plane.res, (p) => 2 * p - 1, 0.75);
    setDrawMs(performance.now() - start);
  }, [plane]);

  // The points, at device resolution.
  useEffect(() => {
    const canvas = pointsRef.current;
    if (!canvas || size === 0) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(size * dpr);
    canvas.height = Math.round(size * dpr);
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, size, size);
    if (!split || !view || !showPoints) return;
    const at = toCanvas(view, size);
    const r = size < 260 ? 2.5 : 3.2;
    const draw = (rows: { x: Float32Array; y: Float32Array }, heldOut: boolean) => {
      for (let i = 0; i < rows.y.length; i++) {
        const px = at.x(rows.x[2 * i]!);
        const py = at.y(rows.x[2 * i + 1]!);
        const color = rows.y[i] === 1 ? CSS.blue : CSS.orange;
        ctx.beginPath();
        ctx.arc(px, py, heldOut ? r + 0.6 : r, 0, 2 * Math.PI);
        if (heldOut) {
          ctx.fillStyle = 'white';
          ctx.fill();
          ctx.lineWidth = 2;
          ctx.strokeStyle = color;
          ctx.stroke();
        } else {
          ctx.fillStyle = color;
          ctx.fill();
          ctx.lineWidth = 1;
          ctx.strokeStyle = 'white';
          ctx.stroke();
        }
      }
    };
    draw(split.train, false);
    draw(split.test, true);
  }, [split, view, size, showPoints]);

  const probability = model && probe ? predictPoint(model.spec, model.net, probe.x, probe.y) : null;

  const probeFromPointer = useCallback(
    (event: PointerEvent<HTMLDivElement>) => {
      if (!view || size === 0) return;
      const rect = event.currentTarget.getBoundingClientRect();
      const fx = (event.clientX - rect.left) / rect.width;
      const fy = (event.clientY - rect.top) / rect.height;
      if (fx < 0 || fx > 1 || fy < 0 || fy > 1) return setProbe(null);
      setProbe({ x: view.xMin + fx * (view.xMax - view.xMin), y: view.yMax - fy * (view.yMax - view.yMin) });
    },
    [view, size],
  );

  const onKey = (event: KeyboardEvent<HTMLDivElement>) => {
    if (!view) return;
    const step = (event.shiftKey ? 2 : 0.5) * ((view.xMax - view.xMin) / 12);
    const moves: Record<string, [number, number]> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    if (event.key === 'Escape') return setProbe(null);
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));
    setProbe((p) => ({ x: clamp((p?.x ?? 0) + move[0], view.xMin, view.xMax), y: clamp((p?.y ?? 0) + move[1], view.yMin, view.yMax) }));
  };

  const probeAt = view && probe && size > 0 ? toCanvas(view, 100) : null;
  const outputSum = plane ? plane.output.reduce((s, v) => s + v, 0) : null;
  const fmt = (v: number) => (Math.abs(v) < 0.005 ? '0.00' : v.toFixed(2));
  const readout =
    probe && probability !== null
      ? t('readout', { x: fmt(probe.x), y: fmt(probe.y), blue: Math.round(probability * 100), orange: 100 - Math.round(probability * 100) })
      : plane && interactive
        ? t('hint')
        : '\u00a0';

  return (
    <figure className={cx('m-0 min-w-0', className)} style={{ maxWidth: maxSize }}>
      <div
        ref={boxRef}
        data-testid="decision-boundary"
        data-model-key={plane ? evaluated.key : ''}
        data-res={plane?.res ?? ''}
        data-eval-ms={evaluated.computeMs?.toFixed(2) ?? ''}
        data-total-ms={evaluated.totalMs?.toFixed(2) ?? ''}
        data-draw-ms={drawMs?.toFixed(2) ?? ''}
        data-output-sum={outputSum?.toFixed(4) ?? ''}
        role="img"
        aria-label={model ? t('label', { round: model.round }) : t('emptyTitle')}
        aria-describedby={interactive ? readoutId : undefined}
        tabIndex={model && interactive ? 0 : -1}
        {...(interactive && {
          onKeyDown: onKey,
          onPointerMove: probeFromPointer,
          onPointerDown: probeFromPointer,
          onPointerLeave: (e: PointerEvent) => e.pointerType === 'mouse' && setProbe(null),
          onBlur: () => setProbe(null),
        })}
        className="relative aspect-square w-full touch-none overflow-hidden rounded-lg border border-slate-300 bg-white focus:outline-none focus-visible:ring-3 focus-visible:ring-brand-300"
      >
        <canvas ref={heatRef} aria-hidden className={cx('absolute inset-0 h-full w-full', !plane && 'invisible')} />
        <canvas ref={pointsRef} aria-hidden className="absolute inset-0 h-full w-full" />
        {/* Axes through the origin, faint. */}
        <div aria-hidden className="pointer-events-none absolute top-0 bottom-0 left-1/2 w-px bg-slate-900/10" />
        <div aria-hidden className="pointer-events-none absolute top-1/2 right-0 left-0 h-px bg-slate-900/10" />
        {probeAt && probe && (
          <div
            aria-hidden
            className="pointer-events-none absolute h-4 w-4 -translate-x-1/2 -translate-y-1/2 rounded-full border-2 border-slate-900 bg-white/40 shadow"
            style={{ left: `${probeAt.x(probe.x)}%`, top: `${probeAt.y(probe.y)}%` }}
          />
        )}
        {!model && (
          <div className="absolute inset-0 flex flex-col items-center justify-center border border-dashed border-slate-300 bg-slate-50/95 p-4 text-center">
            <p className="font-semibold text-slate-700">{t('emptyTitle')}</p>
            <p className="mt-1 max-w-xs text-sm text-slate-500">{t('emptyHint')}</p>
          </div>
        )}
      </div>
      <figcaption className="mt-2 space-y-1 text-sm text-slate-600">
        {interactive && (
          <p id={readoutId} aria-live="polite" className="line-clamp-2 min-h-10 tabular-nums" data-testid="boundary-readout">
            {readout}
          </p>
        )}
        <p className="flex flex-wrap gap-x-3 gap-y-1">
          <span className="inline-flex items-center gap-1.5">
            <span aria-hidden className="inline-block h-2.5 w-2.5 rounded-full" style={{ background: CSS.blue }} />
            {t('label1')}
          </span>
          <span className="inline-flex items-center gap-1.5">
            <span aria-hidden className="inline-block h-2.5 w-2.5 rounded-full" style={{ background: CSS.orange }} />
            {t('label0')}
          </span>
          <span className="inline-flex items-center gap-1.5">
            <span aria-hidden className="inline-block h-2.5 w-2.5 rounded-full bg-slate-500" />
            {t('train')}
          </span>
          <span className="inline-flex items-center gap-1.5">
            <span aria-hidden className="inline-block h-2.5 w-2.5 rounded-full border-2 border-slate-500 bg-white" />
            {t('heldOut')}
          </span>
        </p>
      </figcaption>
    </figure>
  );
}
