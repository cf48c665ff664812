'use client';

import Link from 'next/link';
import { useCallback, useEffect, useState } from 'react';
import { useTranslations } from 'use-intl';
import { ApiError, api, type Ticket } from '@/app/_lib/api';
import { useErrorText } from '@/app/_lib/error-text';
import { cx, ui } from '../ui';
import { PresentView } from './PresentView';

type Gate = { kind: 'loading' } | { kind: 'signin' } | { kind: 'missing' } | { kind: 'failed'; message: string } | { kind: 'ready'; ticket: Ticket };

/** The projector page: needs this browser to be signed in to the project (usually the owner's laptop). */
export function PresentGate({ slug }: { slug: string }) {
  const t = useTranslations('classroom.present');
  const errorText = useErrorText();
  const [gate, setGate] = useState<Gate>({ kind: 'loading' });

  const load = useCallback(async () => {
    setGate({ kind: 'loading' });
    try {
      setGate({ kind: 'ready', ticket: await api.ticket(slug) });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) setGate({ kind: 'signin' });
      else if (error instanceof ApiError && error.code === 'not_found') setGate({ kind: 'missing' });
      else setGate({ kind: 'failed', message: errorText(error) });
    }
  }, [slug, errorText]);

  useEffect(() => {
    void load();
  }, [load]);

  if (gate.kind === 'ready') return <PresentView slug={slug} ticket={gate.ticket} />;
  const project = `/p/${encodeURIComponent(slug)}`;
  return (
    <main className="mx-auto flex min-h-dvh max-w-md flex-col justify-center px-4 py-10">
      {gate.kind === 'loading' && (
        <p className="text-slate-600" role="status">
          {t('loading')}
        </p>
      )}
      {gate.kind !== 'loading' && (
        <section className={ui.card} role={gate.kind === 'failed' ? 'alert' : undefined}>
          <h1 className="text-2xl font-bold">{gate.kind === 'signin' ? t('signInTitle') : gate.kind === 'missing' ? t('missingTitle') : t('failedTitle')}</h1>
          <p className="mt-2 text-slate-600">{gate.kind === 'signin' ? t('signInText') : gate.kind === 'missing' ? t('missingText') : gate.message}</p>
          <div className="mt-4 flex flex-wrap gap-2">
            {gate.kind === 'failed' && (
              <button type="button" onClick={() => void load()} className={cx(ui.button, ui.primary)}>
                {t('retry')}
              </button>
            )}
            <Link href={gate.kind === 'missing' ? '/' : project} className={cx(ui.button, ui.secondary)}>
              {gate.kind === 'missing' ? t('home') : t('openProject')}
            </Link>
          </div>
        </section>
      )}
    </main>
  );
}
