'use client';

import { useId, useState, type FormEvent, type MouseEvent } from 'react';
import { useTranslations } from 'use-intl';
import type { LocalData } from '@/app/_lib/useLocalData';
import { MAX_PRIVATE_POINTS, isProblem, makePoint, pointDomain, type PointsTask } from '@/workers/ml/local-data';
import { cx, ui } from '../ui';
import { CLASS_FILL, CLASS_SWATCH } from './colors';

/** Pixels of the SVG's coordinate system (it scales with its box). */
const SIZE = 300;

/**
 * Private points of a 2-D task: pick a class, click the plane to add a point, click a point to
 * remove it; the same by typed coordinates for keyboards.
 */
export function PointCanvas({ task, local }: { task: PointsTask; local: LocalData }) {
  const t = useTranslations('data');
  const [label, setLabel] = useState(1);
  const [typed, setTyped] = useState({ x: '', y: '' });
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const points = local.data.points[task] ?? [];
  const domain = pointDomain(task);
  const line = task === 'sign';
  const height = line ? SIZE / 4 : SIZE;
  const full = points.length >= MAX_PRIVATE_POINTS;
  const toX = (x: number) => ((x + domain) / (2 * domain)) * SIZE;
  const toY = (y: number) => (line ? height / 2 : ((domain - y) / (2 * domain)) * SIZE);

  const add = (x: number, y: number): boolean => {
    const point = makePoint(task, x, y, label, domain);
    if (isProblem(point)) {
      setError(point.code === 'range' ? t('typed.range', { field: point.field, max: point.max }) : t('typed.number', { field: point.code === 'number' ? point.field : 'x' }));
      return false;
    }
    if (local.addPoints(task, [point]) === 0) {
      setError(t('points.full', { max: MAX_PRIVATE_POINTS }));
      return false;
    }
    setError(null);
    return true;
  };

  const onPlaneClick = (e: MouseEvent<SVGSVGElement>) => {
    const box = e.currentTarget.getBoundingClientRect();
    const x = ((e.clientX - box.left) / box.width) * 2 * domain - domain;
    const y = domain - ((e.clientY - box.top) / box.height) * 2 * domain;
    add(Math.round(x * 1000) / 1000, line ? 0 : Math.round(y * 1000) / 1000);
  };

  const onTyped = (e: FormEvent) => {
    e.preventDefault();
    const parse = (s: string) => (s.trim() === '' ? NaN : Number(s));
    if (add(parse(typed.x), line ? 0 : parse(typed.y))) setTyped({ x: '', y: '' });
  };

  return (
    <div className="space-y-3">
      <fieldset>
        <legend className={ui.label}>{t('points.classLegend')}</legend>
        <div className="mt-1 flex gap-2" role="radiogroup">
          {[0, 1].map((c) => (
            <label key={c} className={cx('flex h-10 cursor-pointer items-center gap-2 rounded-lg border px-3 text-sm font-medium has-focus-visible:outline-3 has-focus-visible:outline-brand-500', label === c ? 'border-slate-700 bg-slate-50' : 'border-slate-300')}>
              <input type="radio" name={`${id}-class`} className="sr-only" checked={label === c} onChange={() => setLabel(c)} />
              <span aria-hidden className={cx('h-3.5 w-3.5 rounded-full', CLASS_SWATCH[c])} />
              {t('points.class', { label: c })}
            </label>
          ))}
        </div>
      </fieldset>

      <svg
        viewBox={`0 0 ${SIZE} ${height}`}
        role="img"
        aria-label={t(line ? 'points.lineLabel' : 'points.canvasLabel', { domain })}
        data-testid="point-canvas"
        onClick={onPlaneClick}
        className={cx('w-full max-w-[360px] cursor-crosshair touch-manipulation rounded-lg border border-slate-300 bg-slate-50 select-none', line ? 'aspect-[4/1]' : 'aspect-square')}
      >
        {/* Axes through the origin. */}
        <line x1={0} x2={SIZE} y1={toY(0)} y2={toY(0)} className="stroke-slate-300" strokeWidth={1} />
        {!line && <line x1={toX(0)} x2={toX(0)} y1={0} y2={height} className="stroke-slate-300" strokeWidth={1} />}
        {points.map((p, i) => (
          <circle
            key={i}
            cx={toX(p.x)}
            cy={toY(p.y)}
            r={5}
            className={cx(CLASS_FILL[p.label], 'cursor-pointer stroke-white hover:stroke-slate-900')}
            strokeWidth={1.5}
            onClick={(e) => {
              e.stopPropagation();
              local.removePoint(task, i);
            }}
          />
        ))}
      </svg>

      <form onSubmit={onTyped} className="flex flex-wrap items-end gap-2" aria-labelledby={`${id}-typed`}>
        <p id={`${id}-typed`} className="w-full text-sm font-medium text-slate-700">
          {t('points.typeTitle')}
        </p>
        <label className="w-24">
          <span className={ui.label}>{t('points.x')}</span>
          <input className={ui.input} inputMode="decimal" value={typed.x} onChange={(e) => setTyped({ ...typed, x: e.target.value })} data-testid="point-x" />
        </label>
        {!line && (
          <label className="w-24">
            <span className={ui.label}>{t('points.y')}</span>
            <input className={ui.input} inputMode="decimal" value={typed.y} onChange={(e) => setTyped({ ...typed, y: e.target.value })} data-testid="point-y" />
          </label>
        )}
        <button type="submit" className={cx(ui.button, ui.secondary, 'h-11')} disabled={full}>
          {t('points.add')}
        </button>
      </form>
      <p className={cx(ui.error, 'min-h-5')} role="alert">
        {error ?? ''}
      </p>

      <div className="flex flex-wrap items-center gap-2">
        <p className="mr-auto text-sm text-slate-600 tabular-nums" data-testid="private-count">
          {t('points.count', { count: points.length, max: MAX_PRIVATE_POINTS })}
        </p>
        <button type="button" className={cx(ui.button, ui.ghost, 'h-9 px-3 text-sm')} disabled={points.length === 0} onClick={() => local.removePoint(task, points.length - 1)}>
          {t('points.removeLast')}
        </button>
        <button
          type="button"
          className={cx(ui.button, ui.ghost, 'h-9 px-3 text-sm')}
          disabled={points.length === 0}
          onClick={() => {
            if (window.confirm(t('points.confirmClear', { count: points.length }))) local.clearPoints(task);
          }}
        >
          {t('points.clear')}
        </button>
      </div>
    </div>
  );
}
