'use client';

import { useTranslations } from 'use-intl';
import type { CollabStatus } from '@/app/_lib/useCollab';
import { cx } from './ui';

function Pill({ label, state, title, testId }: { label: string; state: 'ok' | 'busy' | 'down'; title: string; testId: string }) {
  return (
    <span
      data-testid={testId}
      data-state={state}
      title={title}
      className="inline-flex items-center gap-1.5 rounded-full border border-slate-200 bg-white px-2.5 py-1 text-sm text-slate-700"
    >
      <span
        aria-hidden
        className={cx('h-2.5 w-2.5 rounded-full', state === 'ok' ? 'bg-emerald-500' : state === 'busy' ? 'animate-pulse bg-amber-400' : 'bg-rose-500')}
      />
      <span className="font-medium">{label}</span>
      <span className="text-slate-500">{title}</span>
    </span>
  );
}

/** Two small pills: the shared document's websocket and the training socket. */
export function ConnectionStatus({ collab, synced, training, trainingReason }: { collab: CollabStatus; synced: boolean; training: boolean; trainingReason: string | null }) {
  const t = useTranslations('common.connection');
  const docState = collab === 'connected' ? (synced ? 'ok' : 'busy') : collab === 'connecting' ? 'busy' : 'down';
  const docText = collab === 'connected' ? (synced ? t('connected') : t('syncing')) : t(collab);
  return (
    <div className="flex flex-wrap gap-2" role="status" aria-label={t('label')}>
      <Pill testId="collab-status" label={t('doc')} state={docState} title={docText} />
      <Pill testId="training-status" label={t('training')} state={training ? 'ok' : trainingReason ? 'down' : 'busy'} title={training ? t('connected') : trainingReason ? t('disconnected') : t('connecting')} />
    </div>
  );
}
