'use client';

import { useId, useState, type ChangeEvent } from 'react';
import { useTranslations } from 'use-intl';
import type { LocalData } from '@/app/_lib/useLocalData';
import { MAX_CSV_BYTES, parseDigitsCsv, parsePointsCsv, type CsvLineError, type CsvResult, type PointsTask, type PrivateDigit, type PrivatePoint } from '@/workers/ml/local-data';
import { cx, ui } from '../ui';

const SHOWN_ERRORS = 200;
const MB = 1024 * 1024;

type Parsed = { kind: 'points'; result: CsvResult<PrivatePoint> } | { kind: 'digits'; result: CsvResult<PrivateDigit> };
type Status = { phase: 'idle' } | { phase: 'reading' } | { phase: 'failed'; message: string } | { phase: 'done'; message: string } | { phase: 'review'; parsed: Parsed };

/** Imports private samples from a CSV file read in this browser (never uploaded). */
export function CsvImport({ task, local }: { task: PointsTask | 'mnist'; local: LocalData }) {
  const t = useTranslations('data');
  const id = useId();
  const [status, setStatus] = useState<Status>({ phase: 'idle' });

  const describe = ({ line, problem }: CsvLineError): string => {
    switch (problem.code) {
      case 'fields':
        return t('csv.errors.fields', { line, expected: problem.expected, found: problem.found });
      case 'label':
        return t('csv.errors.label', { line, max: problem.max });
      case 'limit':
        return t('csv.errors.limit', { line, max: problem.max });
      case 'number':
        return problem.field === 'pixel' ? t('csv.errors.numberPixel', { line, index: problem.index ?? 0 }) : t(problem.field === 'x' ? 'csv.errors.numberX' : 'csv.errors.numberY', { line });
      case 'range':
        return problem.field === 'pixel'
          ? t('csv.errors.rangePixel', { line, index: problem.index ?? 0, max: problem.max })
          : t(problem.field === 'x' ? 'csv.errors.rangeX' : 'csv.errors.rangeY', { line, max: problem.max });
    }
  };

  const commit = (parsed: Parsed) => {
    const wanted = parsed.result.samples.length;
    const added = parsed.kind === 'points' ? local.addPoints(task as PointsTask, parsed.result.samples) : local.addDigits(parsed.result.samples);
    const messages = [t('csv.imported', { count: added })];
    if (added < wanted) messages.push(t('csv.truncated', { count: wanted - added }));
    setStatus({ phase: 'done', message: messages.join(' ') });
  };

  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const input = e.currentTarget;
    const file = input.files?.[0];
    input.value = ''; // the same file can be chosen again after fixing it
    if (!file) return;
    if (file.size > MAX_CSV_BYTES) {
      setStatus({ phase: 'failed', message: t('csv.tooBig', { size: (file.size / MB).toFixed(1), max: MAX_CSV_BYTES / MB }) });
      return;
    }
    setStatus({ phase: 'reading' });
    let text: string;
    try {
      text = await file.text();
    } catch {
      setStatus({ phase: 'failed', message: t('csv.unreadable') });
      return;
    }
    const parsed: Parsed = task === 'mnist' ? { kind: 'digits', result: parseDigitsCsv(text) } : { kind: 'points', result: parsePointsCsv(text, task) };
    if (parsed.result.errors.length > 0) setStatus({ phase: 'review', parsed });
    else if (parsed.result.samples.length === 0) setStatus({ phase: 'failed', message: t('csv.empty') });
    else commit(parsed);
  };

  const format = task === 'mnist' ? t('csv.digitsFormat') : task === 'sign' ? t('csv.signFormat') : t('csv.pointsFormat');
  return (
    <div className="space-y-2">
      <p className="text-sm font-medium text-slate-700">{t('csv.title')}</p>
      <p className={ui.hint} id={`${id}-format`}>
        {format} {t('csv.limit', { size: MAX_CSV_BYTES / MB })}
      </p>
      <label className={cx(ui.button, ui.secondary, 'cursor-pointer has-focus-visible:outline-3 has-focus-visible:outline-brand-500')}>
        {t('csv.choose')}
        <input type="file" accept=".csv,text/csv,text/plain" className="sr-only" aria-describedby={`${id}-format`} onChange={onFile} data-testid="csv-input" />
      </label>
      <div aria-live="polite" data-testid="csv-status">
        {status.phase === 'reading' && (
          <p className={ui.hint}>
            {t('csv.reading')} <progress className="ml-2 h-2 w-24 align-middle" aria-label={t('csv.reading')} />
          </p>
        )}
        {status.phase === 'failed' && <p className={ui.error}>{status.message}</p>}
        {status.phase === 'done' && <p className="text-sm font-medium text-emerald-700">{status.message}</p>}
        {status.phase === 'review' && (
          <div className="rounded-lg border border-rose-200 bg-rose-50 p-3">
            <p className="text-sm font-semibold text-rose-800">{t('csv.problems', { count: status.parsed.result.errors.length })}</p>
            <ul className="mt-1 max-h-40 list-disc overflow-y-auto pl-5 text-sm text-rose-800" data-testid="csv-errors">
              {status.parsed.result.errors.slice(0, SHOWN_ERRORS).map((err) => (
                <li key={err.line}>{describe(err)}</li>
              ))}
            </ul>
            {status.parsed.result.errors.length > SHOWN_ERRORS && <p className="mt-1 text-sm text-rose-800">{t('csv.more', { count: status.parsed.result.errors.length - SHOWN_ERRORS })}</p>}
            <div className="mt-2 flex flex-wrap gap-2">
              {status.parsed.result.samples.length > 0 && (
                <button type="button" className={cx(ui.button, ui.secondary, 'h-9 text-sm')} onClick={() => commit(status.parsed)}>
                  {t('csv.importGood', { count: status.parsed.result.samples.length })}
                </button>
              )}
              <button type="button" className={cx(ui.button, ui.ghost, 'h-9 text-sm')} onClick={() => setStatus({ phase: 'idle' })}>
                {t('csv.dismiss')}
              </button>
            </div>
          </div>
        )}
      </div>
    </div>
  );
}
