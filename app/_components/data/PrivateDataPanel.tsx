'use client';

import { useId } from 'react';
import { useTranslations } from 'use-intl';
import type { DatasetName, ModelSpec } from '@/server/protocol/spec';
import type { LocalData } from '@/app/_lib/useLocalData';
import type { Training } from '@/app/_lib/useTraining';
import { PRIVATE_MODES, localKind, type PrivateMode } from '@/workers/ml/local-data';
import { isActive } from '../TrainingPanel';
import { cx, ui } from '../ui';
import { CsvImport } from './CsvImport';
import { DigitPad } from './DigitPad';
import { PointCanvas } from './PointCanvas';

const MODE_KEYS = {
  off: ['mode.off', 'mode.offHint'],
  'with-shard': ['mode.withShard', 'mode.withShardHint'],
  only: ['mode.only', 'mode.onlyHint'],
} as const satisfies Record<PrivateMode, readonly [string, string]>;

/** What leaves this device and what does not, in plain words. */
function PrivacyNote() {
  const t = useTranslations('data');
  return (
    <div className="mt-3 grid gap-3 text-sm sm:grid-cols-2" data-testid="privacy-note">
      <div className="rounded-lg bg-slate-50 p-3">
        <p className="font-semibold text-slate-800">{t('leaves.title')}</p>
        <ul className="mt-1 list-disc space-y-0.5 pl-5 text-slate-700">
          <li>{t('leaves.updates')}</li>
          <li>{t('leaves.samples')}</li>
          <li>{t('leaves.compute')}</li>
          <li>{t('leaves.metrics')}</li>
        </ul>
      </div>
      <div className="rounded-lg bg-emerald-50 p-3">
        <p className="font-semibold text-emerald-900">{t('stays.title')}</p>
        <ul className="mt-1 list-disc pl-5 text-emerald-900">
          <li>{t('stays.samples')}</li>
        </ul>
      </div>
      <p className="rounded-lg border border-amber-300 bg-amber-50 p-3 text-amber-900 sm:col-span-2">{t('risk')}</p>
    </div>
  );
}

/**
 * This browser's private samples for the task at hand (points for 2-D tasks, digits for MNIST),
 * how to train with them, and what that reveals.
 */
export function PrivateDataPanel({ local, training, spec }: { local: LocalData; training: Training; spec: ModelSpec | null }) {
  const t = useTranslations('data');
  const tSpec = useTranslations('spec');
  const id = useId();
  const mode = local.data.mode;
  // The task this browser trains next: the live run's, else the shared spec's.
  const dataset: DatasetName | null = isActive(training.run) ? training.run!.spec.dataset.name : (spec?.dataset.name ?? null);
  const kind = dataset ? localKind(dataset) : null;
  const count = !dataset ? 0 : kind === 'digits' ? local.data.digits.length : (local.data.points[dataset as Exclude<DatasetName, 'mnist'>]?.length ?? 0);

  return (
    <section className={ui.card} aria-labelledby={`${id}-title`} data-testid="private-data">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id={`${id}-title`} className={ui.cardTitle}>
          {t('title')}
        </h2>
        <span className="rounded-full bg-emerald-100 px-2.5 py-0.5 text-xs font-semibold text-emerald-800">{t('badge')}</span>
      </div>
      <p className={cx(ui.hint, 'mt-1')}>{t('intro')}</p>
      <PrivacyNote />

      {local.problem && (
        <p className={cx(ui.error, 'mt-3')} role="alert">
          {t(`storage.${local.problem}`)}
        </p>
      )}

      <fieldset className="mt-4" disabled={!local.loaded}>
        <legend className="text-sm font-semibold text-slate-800">{t('mode.legend')}</legend>
        <div className="mt-2 space-y-1.5" data-testid="private-mode">
          {PRIVATE_MODES.map((m) => (
            <label
              key={m}
              className={cx('flex cursor-pointer items-start gap-3 rounded-lg border p-2.5 has-focus-visible:outline-3 has-focus-visible:outline-brand-500', mode === m ? 'border-brand-500 bg-brand-50' : 'border-slate-200')}
            >
              <input type="radio" name={`${id}-mode`} value={m} checked={mode === m} onChange={() => local.setMode(m)} className="mt-1 h-4 w-4 accent-brand-600" />
              <span>
                <span className="block font-medium text-slate-900">{t(MODE_KEYS[m][0])}</span>
                <span className={ui.hint}>{t(MODE_KEYS[m][1])}</span>
              </span>
            </label>
          ))}
        </div>
        <p className={cx(ui.hint, 'mt-2')}>{t('mode.applies')}</p>
        {mode !== 'off' && dataset && count === 0 && <p className="mt-1 text-sm text-amber-800">{t('mode.noData')}</p>}
        {mode !== 'off' && training.compute.phase === 'ready' && !training.contribute && <p className="mt-1 text-sm text-amber-800">{t('mode.notContributing')}</p>}
      </fieldset>

      <div className="mt-5 border-t border-slate-100 pt-4">
        {!dataset ? (
          <p className={ui.hint}>{t('task.none')}</p>
        ) : (
          <>
            <h3 className="mb-3 text-sm font-bold tracking-wide text-slate-500 uppercase">{kind === 'digits' ? t('task.digits') : t('task.points', { task: tSpec(`options.${dataset}`) })}</h3>
            {kind === 'digits' ? <DigitPad local={local} /> : <PointCanvas task={dataset as Exclude<DatasetName, 'mnist'>} local={local} />}
            <div className="mt-4 border-t border-slate-100 pt-4">
              <CsvImport key={dataset} task={dataset} local={local} />
            </div>
          </>
        )}
      </div>
    </section>
  );
}
