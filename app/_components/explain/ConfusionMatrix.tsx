'use client';

import { useTranslations } from 'use-intl';
import type { DigitsEvaluation } from '@/workers/explain-messages';
import { diverging } from './colors';

const CLASSES = 10;

/**
 * Held-out digits by true class (rows) and predicted class (columns). Right answers (the
 * diagonal) are shaded blue, mistakes orange, by their share of the row.
 */
export function ConfusionMatrix({ digits }: { digits: DigitsEvaluation | null }) {
  const t = useTranslations('explain.confusion');
  const counts = digits?.confusion ?? new Uint32Array(CLASSES * CLASSES);
  const rowTotals = Array.from({ length: CLASSES }, (_, r) => counts.subarray(r * CLASSES, (r + 1) * CLASSES).reduce((a, b) => a + b, 0));
  const cell = (r: number, c: number) => {
    const n = counts[r * CLASSES + c]!;
    const share = rowTotals[r]! > 0 ? n / rowTotals[r]! : 0;
    const [red, green, blue] = diverging(r === c ? share : -Math.min(1, share * 3), 0.9);
    const dark = (r === c ? share : share * 3) > 0.55;
    return { n, style: { backgroundColor: `rgb(${red} ${green} ${blue})`, color: dark ? 'white' : 'rgb(15 23 42)' } };
  };
  return (
    <div data-testid="confusion-matrix" className="overflow-x-auto">
      <table className="border-collapse text-center text-xs tabular-nums">
        <caption className="mb-1 text-left text-sm text-slate-600">
          {digits ? t('caption', { accuracy: (digits.accuracy * 100).toFixed(1), evaluated: digits.evaluated, total: digits.total }) : t('pending')}
        </caption>
        <thead>
          <tr>
            <th scope="col" className="h-6 w-9 text-[10px] font-normal text-slate-500">
              {t('corner')}
            </th>
            {Array.from({ length: CLASSES }, (_, c) => (
              <th key={c} scope="col" className="h-6 w-7 font-semibold text-slate-700" aria-label={t('predictedAs', { digit: c })}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {Array.from({ length: CLASSES }, (_, r) => (
            <tr key={r}>
              <th scope="row" className="h-7 w-9 font-semibold text-slate-700" aria-label={t('trueDigit', { digit: r })}>
                {r}
              </th>
              {Array.from({ length: CLASSES }, (_, c) => {
                const { n, style } = cell(r, c);
                return (
                  <td key={c} className="h-7 w-7 border border-white" style={style} data-true={r} data-predicted={c}>
                    {n > 0 ? n : ''}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
