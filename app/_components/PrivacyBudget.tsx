'use client';

import { useFormatter, useTranslations } from 'use-intl';
import type { RunState } from '@/server/protocol';
import { LEVEL_STYLE, privacyLevel } from './privacy-level';
import { cx, ui } from './ui';

/**
 * The live privacy budget of a differentially private run: ε spent so far for the run's δ (the
 * server's accountant, in every state message), what that means, where the run will end if
 * rounds keep their current share of clients, and the settings. Nothing without DP.
 */
export function PrivacyBudget({ run }: { run: RunState | null }) {
  const t = useTranslations('privacy.budget');
  const tLevel = useTranslations('privacy.level');
  const format = useFormatter();
  const privacy = run?.privacy ?? null;
  if (!run || !privacy) return null;
  const eps = (value: number) => format.number(value, { maximumFractionDigits: 2, minimumFractionDigits: 2 });
  const level = privacyLevel(privacy.epsilon);
  const projected = privacy.epsilonProjected;
  const ended = !['waiting', 'training', 'paused'].includes(run.status);
  const share = ended ? 1 : projected > 0 ? Math.min(1, privacy.epsilon / projected) : 0;

  return (
    <section className={ui.card} aria-labelledby="privacy-budget-title" data-testid="privacy-budget">
      <h2 id="privacy-budget-title" className={ui.cardTitle}>
        {t('title')}
      </h2>

      <div className="mt-3 flex flex-wrap items-baseline gap-x-3 gap-y-1" role="status" aria-live="polite">
        <p className="text-2xl font-bold text-slate-900 tabular-nums" data-testid="privacy-epsilon" data-epsilon={privacy.epsilon}>
          {t('epsilon', { epsilon: eps(privacy.epsilon) })}
        </p>
        <p className="text-sm text-slate-600">
          {t('spentFor', { delta: format.number(privacy.delta, { notation: 'scientific' }), rounds: privacy.rounds, total: run.totalRounds })}
        </p>
        {privacy.rounds > 0 && <span className={cx('rounded-full px-2 py-px text-xs font-semibold', LEVEL_STYLE[level])}>{tLevel(level)}</span>}
      </div>

      {/* Spent so far against where the run will end: fixed height, so rounds never shift the page. */}
      <div className="mt-3 h-2.5 overflow-hidden rounded-full bg-slate-100" aria-hidden>
        <div className="bg-brand-600 h-full rounded-full transition-[width] duration-500" style={{ width: `${(share * 100).toFixed(1)}%` }} />
      </div>
      <p className={cx(ui.hint, 'mt-1 min-h-5')}>{t(ended ? 'done' : privacy.rounds === 0 ? 'projectedStart' : 'projected', { epsilon: eps(projected), total: run.totalRounds, rounds: privacy.rounds })}</p>

      <p className="mt-3 text-sm text-slate-700">{t('explain')}</p>
      {privacy.epsilonUnsampled > privacy.epsilon && <p className={cx(ui.hint, 'mt-2')}>{t('unsampled', { epsilon: eps(privacy.epsilonUnsampled) })}</p>}

      <dl className="mt-3 grid grid-cols-2 gap-2 text-sm sm:grid-cols-4">
        {[
          { key: 'clipNorm', value: format.number(privacy.clipNorm) },
          { key: 'noiseMultiplier', value: format.number(privacy.noiseMultiplier) },
          { key: 'sampleRate', value: privacy.sampleRate === null ? '—' : format.number(privacy.sampleRate, { style: 'percent', maximumFractionDigits: 0 }) },
          { key: 'delta', value: format.number(privacy.delta, { notation: 'scientific' }) },
        ].map(({ key, value }) => (
          <div key={key} className="min-w-0 rounded-lg bg-slate-50 px-2.5 py-2">
            <dt className="text-xs text-slate-500">{t(`settings.${key as 'clipNorm' | 'noiseMultiplier' | 'sampleRate' | 'delta'}`)}</dt>
            <dd className="font-semibold text-slate-800 tabular-nums">{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
