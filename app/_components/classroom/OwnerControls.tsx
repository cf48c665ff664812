'use client';

import { useState } from 'react';
import { useTranslations } from 'use-intl';
import { api } from '@/app/_lib/api';
import { useErrorText } from '@/app/_lib/error-text';
import { cx, ui } from '../ui';

interface Props {
  slug: string;
  /** As the room announces it (live); null until known. */
  specLocked: boolean | null;
  /** Whether a run is waiting, training or paused (reset then also stops it). */
  runActive: boolean;
}

/**
 * The owner's classroom controls: the projector view, locking the spec, and reset (stop the run
 * and clear the live charts; stored runs stay). Only rendered for the owner; the server refuses
 * these calls from anyone else anyway (403).
 */
export function OwnerControls({ slug, specLocked, runActive }: Props) {
  const t = useTranslations('classroom.owner');
  const errorText = useErrorText();
  const [pending, setPending] = useState<'lock' | 'reset' | null>(null);
  const [confirmReset, setConfirmReset] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  async function act(kind: 'lock' | 'reset', call: () => Promise<unknown>, done?: string) {
    setPending(kind);
    setError(null);
    setNotice(null);
    try {
      await call();
      if (done) setNotice(done);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setPending(null);
      setConfirmReset(false);
    }
  }

  const locked = specLocked === true;
  return (
    <section className={ui.card} aria-labelledby="owner-controls-title" data-testid="owner-controls">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id="owner-controls-title" className={ui.cardTitle}>
          {t('title')}
        </h2>
        <a href={`/p/${encodeURIComponent(slug)}/present`} target="_blank" rel="noopener" data-testid="open-projector" className={cx(ui.button, ui.secondary, 'py-1.5 text-sm')}>
          {t('projector')}
        </a>
      </div>

      <div className="mt-4 flex items-start justify-between gap-4">
        <div className="min-w-0">
          <p id="lock-label" className="font-medium text-slate-900">
            {t('lockLabel')}
          </p>
          <p id="lock-hint" className={ui.hint}>
            {locked ? t('lockOnHint') : t('lockOffHint')}
          </p>
        </div>
        <button
          type="button"
          role="switch"
          aria-checked={locked}
          aria-labelledby="lock-label"
          aria-describedby="lock-hint"
          data-testid="lock-spec"
          disabled={specLocked === null || pending !== null}
          onClick={() => void act('lock', () => api.lockSpec(slug, !locked))}
          className={cx(
            'relative inline-flex h-8 w-14 shrink-0 items-center rounded-full transition-colors focus-visible:ring-3 focus-visible:ring-brand-100 focus-visible:outline-none disabled:opacity-55',
            locked ? 'bg-brand-600' : 'bg-slate-300',
          )}
        >
          <span aria-hidden className={cx('inline-block h-6 w-6 rounded-full bg-white shadow transition-transform', locked ? 'translate-x-7' : 'translate-x-1')} />
        </button>
      </div>

      <div className="mt-4 border-t border-slate-100 pt-4">
        <p className="font-medium text-slate-900">{t('resetLabel')}</p>
        <p className={ui.hint}>{t('resetHint')}</p>
        {confirmReset ? (
          <div className="mt-2 flex flex-wrap items-center gap-2" role="group" aria-label={t('resetConfirmLabel')}>
            <p className="text-sm font-medium text-rose-700">{runActive ? t('resetConfirmActive') : t('resetConfirm')}</p>
            <button
              type="button"
              data-testid="reset-confirm"
              disabled={pending !== null}
              onClick={() => void act('reset', () => api.reset(slug), t('resetDone'))}
              className={cx(ui.button, 'bg-rose-600 py-1.5 text-sm text-white hover:bg-rose-700')}
            >
              {pending === 'reset' ? t('resetting') : t('resetNow')}
            </button>
            <button type="button" onClick={() => setConfirmReset(false)} className={cx(ui.button, ui.ghost, 'py-1.5 text-sm')}>
              {t('cancel')}
            </button>
          </div>
        ) : (
          <button type="button" data-testid="reset-training" disabled={pending !== null} onClick={() => setConfirmReset(true)} className={cx(ui.button, ui.secondary, 'mt-2 py-1.5 text-sm')}>
            {t('reset')}
          </button>
        )}
      </div>
      <p className="mt-2 min-h-5 text-sm" aria-live="polite">
        {error ? <span className={ui.error}>{error}</span> : notice ? <span className="text-emerald-700">{notice}</span> : null}
      </p>
    </section>
  );
}
