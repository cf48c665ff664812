'use client';

import Link from 'next/link';
import { useCallback, useEffect, useState } from 'react';
import { useRouter } from 'next/navigation';
import { useTranslations } from 'use-intl';
import { ApiError, api, type Ticket } from '@/app/_lib/api';
import { useErrorText } from '@/app/_lib/error-text';
import { JoinForm } from './JoinForm';
import { Workspace } from './Workspace';
import type { AccessChange } from '@/app/_lib/useCollab';
import { BrandBar } from './BrandBar';
import { cx, ui } from './ui';

/** Fixed demo project seeded by the server. */
const DEMO = { slug: 'demo', code: 'DEMO42' };

type Gate =
  | { kind: 'loading' }
  /** `removed`: the owner just removed this browser's member (say so above the form). */
  | { kind: 'join'; removed?: boolean }
  | { kind: 'missing' }
  | { kind: 'failed'; message: string }
  | { kind: 'member'; ticket: Ticket };

/** Signs this browser in to a project (ticket) or asks it to join, then shows the workspace. */
export function ProjectGate({ slug, code }: { slug: string; code?: string }) {
  const t = useTranslations('project.gate');
  const errorText = useErrorText();
  const router = useRouter();
  const [gate, setGate] = useState<Gate>({ kind: 'loading' });

  // `quiet`: keep the workspace on screen while a new ticket is fetched (the role changed).
  const load = useCallback(
    async (quiet = false) => {
      if (!quiet) setGate({ kind: 'loading' });
      try {
        setGate({ kind: 'member', ticket: await api.ticket(slug) });
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) setGate({ kind: 'join' });
        else if (error instanceof ApiError && error.code === 'not_found') setGate({ kind: 'missing' });
        else if (!quiet) setGate({ kind: 'failed', message: errorText(error) });
      }
    },
    [slug, errorText],
  );

  useEffect(() => {
    void load();
  }, [load]);

  if (gate.kind === 'member') {
    // A role change keeps the workspace while a new ticket comes; otherwise the ticket request says
    // what is left (401: join again; 404: the project is gone).
    const onAccessChanged = (change: AccessChange) => (change === 'removed' ? setGate({ kind: 'join', removed: true }) : void load(change === 'role'));
    return <Workspace slug={slug} ticket={gate.ticket} onAccessChanged={onAccessChanged} />;
  }

  const isDemo = slug === DEMO.slug;
  return (
    <main className="mx-auto flex min-h-dvh max-w-md flex-col justify-center px-4 py-10">
      <BrandBar />
      {gate.kind === 'loading' && (
        <p className="text-slate-600" role="status">
          {t('loading')}
        </p>
      )}
      {gate.kind === 'join' && (
        <section className={ui.card} aria-labelledby="join-title">
          <h1 id="join-title" className="text-2xl font-bold">
            {t('joinTitle')}
          </h1>
          <p className={cx(ui.hint, 'mt-1 mb-4')}>{t('joinText')}</p>
          {gate.removed && (
            <p className="mb-4 rounded-lg bg-amber-50 px-3 py-2 text-amber-900" role="alert" data-testid="removed-notice">
              {t('removed')}
            </p>
          )}
          {isDemo && (
            <p className="mb-4 rounded-lg bg-brand-50 px-3 py-2 text-slate-700">
              {t.rich('demoHint', { code: DEMO.code, c: (chunks) => <code className="font-mono font-semibold tracking-wider text-brand-700">{chunks}</code> })}
            </p>
          )}
          <JoinForm
            autoFocus
            initialCode={code ?? (isDemo ? DEMO.code : '')}
            onJoined={(joined) => (joined === slug ? void load() : router.push(`/p/${encodeURIComponent(joined)}`))}
          />
        </section>
      )}
      {gate.kind === 'missing' && (
        <section className={ui.card}>
          <h1 className="text-2xl font-bold">{t('notFound')}</h1>
          <p className="mt-2 text-slate-600">{t('notFoundText')}</p>
          <Link href="/" className={cx(ui.button, ui.secondary, 'mt-4')}>
            {t('home')}
          </Link>
        </section>
      )}
      {gate.kind === 'failed' && (
        <section className={ui.card} role="alert">
          <h1 className="text-2xl font-bold">{t('failed')}</h1>
          <p className="mt-2 text-slate-600">{gate.message}</p>
          <button type="button" onClick={() => void load()} className={cx(ui.button, ui.primary, 'mt-4')}>
            {t('retry')}
          </button>
        </section>
      )}
    </main>
  );
}
