'use client';

import { useCallback, useEffect, useRef, useState, type PointerEvent } from 'react';
import { useTranslations } from 'use-intl';
import type { GlobalModelView } from '@/app/_lib/useGlobalModel';
import type { ExplainWorker } from '@/app/_lib/explain-worker';
import { downsampleDigit } from '@/workers/ml/local-data';
import { cx, ui } from '../ui';
import { CSS } from './colors';
import { DigitCanvas } from './SamplePredictions';
import { drawInk, padPoint } from '@/app/_lib/ink-pad';

const PAD = 224;
const STROKE = 18;

/**
 * A 28×28 draw pad for MNIST models: draw a digit with mouse, pen or finger; it is prepared as
 * MNIST's digits were (bounding box into 20×20, centre of mass at the centre) and the current
 * global model's answer updates while you draw, and again with every new model.
 */
export function TryModel({ model, worker }: { model: GlobalModelView | null; worker: ExplainWorker | null }) {
  const t = useTranslations('explain.tryModel');
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const drawing = useRef<{ x: number; y: number } | null>(null);
  const [digit, setDigit] = useState<Uint8Array | null>(null);
  const [probabilities, setProbabilities] = useState<Float32Array | null>(null);
  const busy = useRef(false);
  const dirty = useRef(false);
  const modelRef = useRef(model);
  modelRef.current = model;
  const digitRef = useRef(digit);
  digitRef.current = digit;

  const clear = useCallback(() => {
    const ctx = canvasRef.current?.getContext('2d');
    if (ctx) {
      ctx.fillStyle = 'black';
      ctx.fillRect(0, 0, PAD, PAD);
    }
    setDigit(null);
    setProbabilities(null);
  }, []);
  useEffect(clear, [clear]);

  /** Asks the worker about the current drawing; drawings made meanwhile are coalesced. */
  const predict = useCallback(() => {
    const m = modelRef.current;
    const d = digitRef.current;
    if (!worker || !m || !d) return;
    if (busy.current) {
      dirty.current = true;
      return;
    }
    busy.current = true;
    dirty.current = false;
    const image = Float32Array.from(d, (v) => v / 255);
    worker.digit(m, image).then(
      ({ probabilities: p }) => {
        busy.current = false;
        if (digitRef.current) setProbabilities(p);
        if (dirty.current) predict();
      },
      () => {
        busy.current = false;
      },
    );
  }, [worker]);

  useEffect(() => {
    predict();
  }, [digit, model, predict]);

  const readInk = () => {
    const ctx = canvasRef.current?.getContext('2d', { willReadFrequently: true });
    if (!ctx) return;
    const { data } = ctx.getImageData(0, 0, PAD, PAD);
    const ink = new Uint8Array(PAD * PAD);
    for (let i = 0; i < ink.length; i++) ink[i] = data[4 * i]!;
    setDigit(downsampleDigit(ink, PAD, PAD));
  };

  const point = (event: PointerEvent<HTMLCanvasElement>) => padPoint(event, PAD);
  const stroke = (from: { x: number; y: number }, to: { x: number; y: number }) => {
    const ctx = canvasRef.current?.getContext('2d');
    if (ctx) drawInk(ctx, from, to, STROKE);
  };
  const frame = useRef(0);
  const scheduleRead = () => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      readInk();
    });
  };

  const best = probabilities ? probabilities.indexOf(Math.max(...probabilities)) : -1;
  return (
    <div data-testid="try-model" className="flex flex-wrap items-start gap-4">
      <div>
        <canvas
          ref={canvasRef}
          width={PAD}
          height={PAD}
          data-testid="draw-pad"
          aria-label={t('padLabel')}
          className={cx('block touch-none rounded-lg border border-slate-300 bg-black', model ? 'cursor-crosshair' : 'cursor-not-allowed opacity-60')}
          style={{ width: PAD, height: PAD }}
          onPointerDown={(e) => {
            if (!model) return;
            e.currentTarget.setPointerCapture(e.pointerId);
            const p = point(e);
            drawing.current = p;
            stroke(p, p);
            scheduleRead();
          }}
          onPointerMove={(e) => {
            if (!drawing.current) return;
            const p = point(e);
            stroke(drawing.current, p);
            drawing.current = p;
            scheduleRead();
          }}
          onPointerUp={() => {
            drawing.current = null;
            scheduleRead();
          }}
          onPointerCancel={() => (drawing.current = null)}
        />
        <div className="mt-2 flex items-center justify-between gap-2" style={{ width: PAD }}>
          <p className="text-xs text-slate-500">{t('hint')}</p>
          <button type="button" className={cx(ui.button, ui.secondary, 'px-3 py-1 text-sm')} onClick={clear} data-testid="draw-clear">
            {t('clear')}
          </button>
        </div>
      </div>
      <div className="min-w-0 flex-1 basis-48">
        <div className="flex items-center gap-3">
          <div className="h-14 w-14 shrink-0 overflow-hidden rounded border border-slate-300 bg-black">
            {digit && <DigitCanvas pixels={digit} className="h-full w-full" label={t('previewLabel')} />}
          </div>
          <p className="text-sm text-slate-600" aria-live="polite" data-testid="try-answer">
            {!model ? t('noModel') : probabilities && best >= 0 ? t('answer', { digit: best, confidence: Math.round(probabilities[best]! * 100) }) : t('drawPrompt')}
          </p>
        </div>
        <ol className="mt-3 space-y-1" aria-label={t('barsLabel')}>
          {Array.from({ length: 10 }, (_, d) => {
            const p = probabilities?.[d] ?? 0;
            return (
              <li key={d} className="flex items-center gap-2 text-xs tabular-nums">
                <span className={cx('w-3 font-semibold', d === best ? 'text-slate-900' : 'text-slate-500')}>{d}</span>
                <span className="h-2.5 flex-1 overflow-hidden rounded bg-slate-100">
                  <span className="block h-full rounded" style={{ width: `${p * 100}%`, background: d === best ? CSS.blue : 'rgb(148 163 184)' }} />
                </span>
                <span className="w-9 text-right text-slate-500">{probabilities ? `${Math.round(p * 100)}%` : ''}</span>
              </li>
            );
          })}
        </ol>
      </div>
    </div>
  );
}
