'use client';

import { useMemo, type ReactNode } from 'react';
import { useFormatter, useTranslations } from 'use-intl';
import type { ScalarField } from '@/server/protocol/spec';
import { projectedEpsilon } from '@/server/protocol/privacy-accountant';
import type { SpecSnapshot } from '@/app/_lib/useSpec';
import { LEVEL_STYLE, privacyLevel } from './privacy-level';
import { SecureAggregationNote } from './SecureAggregationNote';
import { cx, ui } from './ui';

const DP_FIELDS: ScalarField[] = ['privacy.clipNorm', 'privacy.noiseMultiplier', 'privacy.delta'];

interface Props {
  snap: SpecSnapshot;
  /** Renders one bound spec field (the editor's own inputs, presence and problems). */
  field: (path: ScalarField) => ReactNode;
}

/**
 * The spec's Privacy fieldset: the differential-privacy switch, and when it is on its clip norm,
 * noise multiplier and δ with what each does, the accuracy trade-off, and the ε these settings
 * will have spent by the last round (the same accountant the server runs).
 */
export function PrivacyFields({ snap, field }: Props) {
  const t = useTranslations('privacy.fields');
  const tLevel = useTranslations('privacy.level');
  const format = useFormatter();
  const on = snap.scalars['privacy.differentialPrivacy'] === 'on';
  const spec = snap.spec;

  // Tens of ms of series math at q < 1: only when the four numbers it depends on change, not on every edit.
  const active = spec?.privacy.differentialPrivacy === 'on';
  const sampleRate = spec?.sampling.fraction ?? 1;
  const noiseMultiplier = spec?.privacy.noiseMultiplier ?? 0;
  const delta = spec?.privacy.delta ?? 0;
  const rounds = spec?.rounds ?? 0;
  const preview = useMemo(
    () => (active ? { epsilon: projectedEpsilon({ sampleRate, noiseMultiplier, rounds, delta }), sampleRate, delta, rounds } : null),
    [active, sampleRate, noiseMultiplier, delta, rounds],
  );

  return (
    <fieldset className="min-w-0" data-testid="privacy-fields">
      <legend className="mb-1 text-sm font-bold tracking-wide text-slate-500 uppercase">{t('legend')}</legend>
      <p className={cx(ui.hint, 'mb-3')}>{t(on ? 'introOn' : 'introOff')}</p>
      <div className="grid grid-cols-2 gap-x-4 gap-y-3 sm:grid-cols-3">
        {field('privacy.differentialPrivacy')}
        {on && DP_FIELDS.map(field)}
      </div>

      {on && (
        <>
          <dl className="mt-3 grid gap-2 text-sm text-slate-600 sm:grid-cols-3">
            {(['clipNorm', 'noiseMultiplier', 'delta'] as const).map((key) => (
              <div key={key} className="min-w-0 rounded-lg bg-slate-50 p-2.5">
                <dt className="font-semibold text-slate-700">{t(`${key}.title`)}</dt>
                <dd className="mt-0.5">{t(`${key}.body`)}</dd>
              </div>
            ))}
          </dl>
          <p className={cx(ui.hint, 'mt-2')}>{t('tradeoff')}</p>
          <div className="mt-3 min-h-16 rounded-lg border border-slate-200 p-3 text-sm" role="status" aria-live="polite" data-testid="privacy-preview">
            {preview ? (
              <>
                <p className="text-slate-700">
                  {t('preview', {
                    rounds: preview.rounds,
                    rate: format.number(preview.sampleRate, { style: 'percent', maximumFractionDigits: 0 }),
                    epsilon: format.number(preview.epsilon, { maximumFractionDigits: 2 }),
                    delta: format.number(preview.delta, { notation: 'scientific' }),
                  })}{' '}
                  <span className={cx('inline-block rounded-full px-2 py-px text-xs font-semibold', LEVEL_STYLE[privacyLevel(preview.epsilon)])}>
                    {tLevel(privacyLevel(preview.epsilon))}
                  </span>
                </p>
                <p className={cx(ui.hint, 'mt-1')}>{t('previewNote')}</p>
              </>
            ) : (
              <p className="text-slate-500">{t('previewInvalid')}</p>
            )}
          </div>
        </>
      )}

      <div className="mt-3 grid grid-cols-2 gap-x-4 gap-y-3 sm:grid-cols-3">{field('privacy.secureAggregation')}</div>
      <p className={cx(ui.hint, 'mt-1')}>{t('secureAggregation')}</p>
      <SecureAggregationNote on={snap.scalars['privacy.secureAggregation'] === 'on'} />
    </fieldset>
  );
}
