'use client';

import { useSyncExternalStore } from 'react';
import { useTranslations } from 'use-intl';
import { secureAggregationSupported } from '@/workers/secagg-keys';
import { cx, ui } from './ui';

const noSubscription = () => () => undefined;

/**
 * Whether this page can run secure aggregation: WebCrypto's `crypto.subtle` exists only in a
 * secure context (HTTPS, or localhost). The server render assumes yes, so nothing flashes.
 */
export function useSecureContext(): boolean {
  return useSyncExternalStore(
    noSubscription,
    () => window.isSecureContext && secureAggregationSupported(),
    () => true,
  );
}

/** Shown in the spec's Privacy fieldset when this browser lacks WebCrypto, or secure aggregation is on: how it works, its limits, what it needs. */
export function SecureAggregationNote({ on }: { on: boolean }) {
  const t = useTranslations('privacy.secagg.note');
  const secure = useSecureContext();
  if (!on) return null;
  return (
    <div className="mt-2 space-y-2 rounded-lg bg-slate-50 p-3 text-sm text-slate-600" data-testid="secagg-note">
      <p>{t('how')}</p>
      <p>{t('dropouts')}</p>
      <p>{t('limits')}</p>
      {secure ? (
        <p className={ui.hint}>{t('secureContext')}</p>
      ) : (
        <p className={cx(ui.error, 'rounded-md border border-rose-200 bg-rose-50 p-2')} role="alert" data-testid="secagg-insecure">
          {t('insecureContext')}
        </p>
      )}
    </div>
  );
}
