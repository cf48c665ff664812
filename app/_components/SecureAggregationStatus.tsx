'use client';

import { useTranslations } from 'use-intl';
import type { RunState } from '@/server/protocol';
import { useSecureContext } from './SecureAggregationNote';
import { cx, ui } from './ui';

/**
 * A secure aggregation run, live: the open round's step (keys, masked updates, the reveal that
 * removes the masks, opening the sum), how the last round's sum was opened (complete, or recovered
 * without someone who dropped out), and the last round that had to run again and why. Nothing
 * for runs without it.
 */
export function SecureAggregationStatus({ run }: { run: RunState | null }) {
  const t = useTranslations('privacy.secagg.status');
  const secure = useSecureContext();
  if (!run || run.spec.privacy.secureAggregation !== 'on') return null;
  const status = run.secureAggregation;
  const last = [...run.history].reverse().find((m) => m.secureAggregation);
  const active = ['waiting', 'training', 'paused'].includes(run.status);
  const phase = active && run.status === 'training' ? (status?.phase ?? null) : null;

  return (
    <section className={ui.card} aria-labelledby="secagg-title" data-testid="secagg-status">
      <h2 id="secagg-title" className={ui.cardTitle}>
        {t('title')}
      </h2>
      <div className="mt-2 min-h-20 space-y-1.5 text-sm text-slate-700" role="status" aria-live="polite">
        <p data-testid="secagg-phase" data-phase={phase ?? 'idle'}>
          {phase === 'keys' && t('keys', { round: run.round, keys: status!.keys, participants: run.participants })}
          {phase === 'masking' && t('masking', { round: run.round, masked: status!.masked, participants: status!.keys })}
          {phase === 'revealing' && t('revealing', { round: run.round, dropped: Math.max(0, status!.keys - status!.masked) })}
          {phase === 'unmasking' && t('unmasking', { round: run.round })}
          {phase === null && t(active ? 'idle' : 'ended')}
        </p>
        {last?.secureAggregation && (
          <p data-testid="secagg-outcome" data-outcome={last.secureAggregation.outcome}>
            {last.secureAggregation.outcome === 'recovered'
              ? t('recovered', { round: last.round, dropped: last.secureAggregation.dropped, summed: last.secureAggregation.summed })
              : t('complete', { round: last.round, summed: last.secureAggregation.summed })}
          </p>
        )}
        {status?.lastRedo && (
          <p className="text-amber-800" data-testid="secagg-redo">
            {t('redo', { round: status.lastRedo.round })} {t(`reason.${status.lastRedo.reason}`)}
          </p>
        )}
        {!secure && (
          <p className={ui.error} role="alert">
            {t('insecure')}
          </p>
        )}
      </div>
      <p className={cx(ui.hint, 'mt-2')}>{t('explain')}</p>
    </section>
  );
}
