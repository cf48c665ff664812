'use client';

import { useEffect, useRef } from 'react';
import { useTranslations } from 'use-intl';
import type { DigitSample } from '@/workers/explain-messages';
import { cx } from '../ui';

/** A 28×28 digit (0..255) drawn white on black, as the model sees it, scaled up crisply. */
export function DigitCanvas({ pixels, className, label }: { pixels: ArrayLike<number>; className?: string; label?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const image = ctx.createImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      const v = pixels[i] ?? 0;
      image.data.set([v, v, v, 255], 4 * i);
    }
    ctx.putImageData(image, 0, 0);
  }, [pixels]);
  return <canvas ref={ref} width={28} height={28} role={label ? 'img' : undefined} aria-label={label} aria-hidden={label ? undefined : true} className={cx('[image-rendering:pixelated]', className)} />;
}

/** A fixed strip of held-out digits with the model's answer; wrong answers stand out. */
export function SamplePredictions({ samples, count }: { samples: DigitSample[] | null; count: number }) {
  const t = useTranslations('explain.samples');
  return (
    <ul data-testid="sample-predictions" className="grid grid-cols-4 gap-2 sm:grid-cols-8" aria-label={t('label')}>
      {Array.from({ length: count }, (_, i) => {
        const s = samples?.[i];
        if (!s) return <li key={i} aria-hidden className="h-[86px] rounded-lg border border-dashed border-slate-300 bg-slate-50" />;
        const wrong = s.predicted !== s.label;
        return (
          <li
            key={i}
            data-wrong={wrong}
            className={cx('flex h-[86px] flex-col items-center justify-center rounded-lg border-2 p-1', wrong ? 'border-rose-500 bg-rose-50' : 'border-transparent bg-slate-50')}
            aria-label={t(wrong ? 'wrong' : 'right', { predicted: s.predicted, label: s.label, confidence: Math.round(s.confidence * 100) })}
          >
            <DigitCanvas pixels={s.pixels} className="h-10 w-10 rounded" />
            <span aria-hidden className={cx('mt-0.5 text-base leading-tight font-bold', wrong ? 'text-rose-700' : 'text-slate-900')}>
              {wrong ? '✗ ' : ''}
              {s.predicted}
            </span>
            <span aria-hidden className="text-[11px] leading-tight text-slate-500">
              {t('true', { label: s.label })}
            </span>
          </li>
        );
      })}
    </ul>
  );
}
