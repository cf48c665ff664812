'use client';

import { useTranslations } from 'use-intl';
import type { RunState } from '@/server/protocol';

/**
 * Says when the server cannot store rounds: the database is unreachable (training goes on in
 * memory) or it is back and the waiting rounds are being saved. Nothing when all is stored.
 */
export function StorageNotice({ run }: { run: RunState | null }) {
  const t = useTranslations('training.storage');
  const storage = run?.storage;
  if (!storage || (storage.status === 'ok' && storage.pendingRounds === 0)) return null;
  const down = storage.status === 'unavailable';
  return (
    <div role="status" data-testid="storage-notice" data-status={storage.status} className={`rounded-lg border px-3 py-2 text-sm ${down ? 'border-amber-200 bg-amber-50 text-amber-900' : 'border-sky-200 bg-sky-50 text-sky-900'}`}>
      <p>{t(down ? 'unavailable' : 'catchingUp', { count: storage.pendingRounds })}</p>
      {storage.droppedCheckpoints > 0 && <p className="mt-1 text-xs">{t('dropped', { count: storage.droppedCheckpoints })}</p>}
    </div>
  );
}
