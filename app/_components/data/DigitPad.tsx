'use client';

import { useEffect, useId, useRef, useState, type PointerEvent } from 'react';
import { useTranslations } from 'use-intl';
import type { LocalData } from '@/app/_lib/useLocalData';
import { DIGIT_SIDE, MAX_PRIVATE_DIGITS, downsampleDigit } from '@/workers/ml/local-data';
import { cx, ui } from '../ui';
import { drawInk, padPoint } from '@/app/_lib/ink-pad';

/** Backing pixels of the drawing canvas; the stroke is thick like MNIST's pen at this scale. */
const PAD = 280;
const PEN = 20;
const SHOWN_DIGITS = 24;

/** Paints 28×28 pixels (0..255, white ink on black, as MNIST) into a small canvas. */
function paintDigit(canvas: HTMLCanvasElement | null, pixels: Uint8Array | null): void {
  const ctx = canvas?.getContext('2d');
  if (!canvas || !ctx) return;
  const image = ctx.createImageData(DIGIT_SIDE, DIGIT_SIDE);
  for (let i = 0; i < DIGIT_SIDE * DIGIT_SIDE; i++) {
    const v = pixels?.[i] ?? 0;
    image.data.set([v, v, v, 255], i * 4);
  }
  ctx.putImageData(image, 0, 0);
}

function DigitThumb({ pixels, className }: { pixels: Uint8Array | null; className?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => paintDigit(ref.current, pixels), [pixels]);
  return <canvas ref={ref} width={DIGIT_SIDE} height={DIGIT_SIDE} aria-hidden className={cx('[image-rendering:pixelated]', className)} />;
}

/** Draw a digit, pick its label, add it: downsampled to 28×28 the way MNIST's digits were. */
export function DigitPad({ local }: { local: LocalData }) {
  const t = useTranslations('data');
  const id = useId();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const drawing = useRef<{ x: number; y: number } | null>(null);
  const [label, setLabel] = useState(0);
  const [preview, setPreview] = useState<Uint8Array | null>(null);
  const [error, setError] = useState<string | null>(null);
  const digits = local.data.digits;

  const context = () => canvasRef.current?.getContext('2d', { willReadFrequently: true }) ?? null;
  const clearPad = () => {
    const ctx = context();
    if (ctx) {
      ctx.fillStyle = '#000';
      ctx.fillRect(0, 0, PAD, PAD);
    }
    setPreview(null);
  };
  useEffect(clearPad, []);

  const at = (e: PointerEvent<HTMLCanvasElement>) => padPoint(e, PAD);
  const stroke = (from: { x: number; y: number }, to: { x: number; y: number }) => {
    const ctx = context();
    if (ctx) drawInk(ctx, from, to, PEN);
  };
  /** The drawing as MNIST pixels (red channel = ink), or null when nothing is drawn. */
  const sample = (): Uint8Array | null => {
    const ctx = context();
    if (!ctx) return null;
    const rgba = ctx.getImageData(0, 0, PAD, PAD).data;
    const ink = new Uint8Array(PAD * PAD);
    for (let i = 0; i < ink.length; i++) ink[i] = rgba[i * 4]!;
    return downsampleDigit(ink, PAD, PAD);
  };

  const onDown = (e: PointerEvent<HTMLCanvasElement>) => {
    e.currentTarget.setPointerCapture(e.pointerId);
    const p = at(e);
    drawing.current = p;
    stroke(p, p);
  };
  const onMove = (e: PointerEvent<HTMLCanvasElement>) => {
    if (!drawing.current) return;
    const p = at(e);
    stroke(drawing.current, p);
    drawing.current = p;
  };
  const onUp = () => {
    if (!drawing.current) return;
    drawing.current = null;
    setPreview(sample());
    setError(null);
  };

  const add = () => {
    const pixels = sample();
    if (!pixels) {
      setError(t('digits.empty'));
      return;
    }
    if (local.addDigits([{ label, pixels }]) === 0) {
      setError(t('digits.full', { max: MAX_PRIVATE_DIGITS }));
      return;
    }
    clearPad();
    setError(null);
  };

  const shown = digits.slice(-SHOWN_DIGITS).map((d, k) => ({ digit: d, index: digits.length - Math.min(SHOWN_DIGITS, digits.length) + k }));
  return (
    <div className="space-y-3">
      <fieldset>
        <legend className={ui.label}>{t('digits.labelLegend')}</legend>
        <div className="mt-1 grid grid-cols-5 gap-1.5 sm:grid-cols-10" role="radiogroup">
          {Array.from({ length: 10 }, (_, d) => (
            <label
              key={d}
              className={cx(
                'flex h-10 cursor-pointer items-center justify-center rounded-lg border font-mono text-base font-semibold has-focus-visible:outline-3 has-focus-visible:outline-brand-500',
                label === d ? 'border-brand-600 bg-brand-600 text-white' : 'border-slate-300 bg-white text-slate-800',
              )}
            >
              <input type="radio" name={`${id}-label`} className="sr-only" checked={label === d} onChange={() => setLabel(d)} />
              {d}
            </label>
          ))}
        </div>
      </fieldset>

      <div className="flex flex-wrap items-start gap-4">
        <canvas
          ref={canvasRef}
          width={PAD}
          height={PAD}
          role="img"
          aria-label={t('digits.padLabel')}
          data-testid="digit-pad"
          onPointerDown={onDown}
          onPointerMove={onMove}
          onPointerUp={onUp}
          onPointerCancel={onUp}
          className="aspect-square w-full max-w-[240px] cursor-crosshair touch-none rounded-lg border border-slate-300 bg-black"
        />
        <div className="space-y-2">
          <p className="text-sm text-slate-600">{t('digits.preview')}</p>
          <DigitThumb pixels={preview} className="h-28 w-28 rounded border border-slate-300" />
        </div>
      </div>

      <div className="flex flex-wrap gap-2">
        <button type="button" className={cx(ui.button, ui.primary)} onClick={add} data-testid="add-digit">
          {t('digits.add', { label })}
        </button>
        <button type="button" className={cx(ui.button, ui.secondary)} onClick={clearPad}>
          {t('digits.clearPad')}
        </button>
      </div>
      <p className={cx(ui.error, 'min-h-5')} role="alert">
        {error ?? ''}
      </p>

      <div className="flex flex-wrap items-center gap-2">
        <p className="mr-auto text-sm text-slate-600 tabular-nums" data-testid="private-count">
          {t('digits.count', { count: digits.length, max: MAX_PRIVATE_DIGITS })}
        </p>
        <button
          type="button"
          className={cx(ui.button, ui.ghost, 'h-9 px-3 text-sm')}
          disabled={digits.length === 0}
          onClick={() => {
            if (window.confirm(t('digits.confirmClear', { count: digits.length }))) local.clearDigits();
          }}
        >
          {t('digits.clear')}
        </button>
      </div>
      {shown.length > 0 && (
        <div>
          <p className="text-sm text-slate-600">{t('digits.saved')}</p>
          <ul className="mt-1 flex flex-wrap gap-1.5">
            {shown.map(({ digit, index }) => (
              <li key={index}>
                <button
                  type="button"
                  title={t('digits.remove', { label: digit.label })}
                  aria-label={t('digits.remove', { label: digit.label })}
                  onClick={() => local.removeDigit(index)}
                  className="relative block rounded border border-slate-300 hover:border-rose-500 focus-visible:outline-3 focus-visible:outline-brand-500"
                >
                  <DigitThumb pixels={digit.pixels} className="block h-10 w-10 rounded" />
                  <span className="absolute right-0.5 bottom-0 font-mono text-xs font-bold text-amber-300">{digit.label}</span>
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
