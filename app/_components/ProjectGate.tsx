'use client';

import Link from 'next/link';
import { useCallback, useEffect, useState } from 'react';
import { useRouter } from 'next/navigation';
import { ApiError, api, errorMessage, type Ticket } from '@/app/_lib/api';
import { JoinForm } from './JoinForm';
import { Workspace } from './Workspace';
import { cx, ui } from './ui';

const T = {
  loading: 'Opening project…',
  joinTitle: 'Join this project',
  joinText: 'Enter the project’s join code and the name others will see.',
  demoHint: 'This is the demo project: its join code is',
  demoCode: 'DEMO42',
  notFound: 'No such project',
  notFoundText: 'Check the link, or ask for a join code.',
  failed: 'Could not open the project',
  retry: 'Try again',
  home: 'Back to the start page',
};

/** Fixed demo project seeded by the server. */
const DEMO = { slug: 'demo', code: 'DEMO42' };

type Gate =
  | { kind: 'loading' }
  | { kind: 'join' }
  | { kind: 'missing' }
  | { kind: 'failed'; message: string }
  | { kind: 'member'; ticket: Ticket };

/** Signs this browser in to a project (ticket) or asks it to join, then shows the workspace. */
export function ProjectGate({ slug, code }: { slug: string; code?: string }) {
  const router = useRouter();
  const [gate, setGate] = useState<Gate>({ kind: 'loading' });

  const load = useCallback(async () => {
    setGate({ kind: 'loading' });
    try {
      setGate({ kind: 'member', ticket: await api.ticket(slug) });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) setGate({ kind: 'join' });
      else if (error instanceof ApiError && error.code === 'not_found') setGate({ kind: 'missing' });
      else setGate({ kind: 'failed', message: errorMessage(error) });
    }
  }, [slug]);

  useEffect(() => {
    void load();
  }, [load]);

  if (gate.kind === 'member') return <Workspace slug={slug} ticket={gate.ticket} />;

  const isDemo = slug === DEMO.slug;
  return (
    <main className="mx-auto flex min-h-dvh max-w-md flex-col justify-center px-4 py-10">
      <Link href="/" className="mb-6 text-sm font-bold tracking-widest text-brand-600 uppercase">
        cotrain
      </Link>
      {gate.kind === 'loading' && (
        <p className="text-slate-600" role="status">
          {T.loading}
        </p>
      )}
      {gate.kind === 'join' && (
        <section className={ui.card} aria-labelledby="join-title">
          <h1 id="join-title" className="text-2xl font-bold">
            {T.joinTitle}
          </h1>
          <p className={cx(ui.hint, 'mt-1 mb-4')}>{T.joinText}</p>
          {isDemo && (
            <p className="mb-4 rounded-lg bg-brand-50 px-3 py-2 text-slate-700">
              {T.demoHint} <code className="font-mono font-semibold tracking-wider text-brand-700">{T.demoCode}</code>
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
          <h1 className="text-2xl font-bold">{T.notFound}</h1>
          <p className="mt-2 text-slate-600">{T.notFoundText}</p>
          <Link href="/" className={cx(ui.button, ui.secondary, 'mt-4')}>
            {T.home}
          </Link>
        </section>
      )}
      {gate.kind === 'failed' && (
        <section className={ui.card} role="alert">
          <h1 className="text-2xl font-bold">{T.failed}</h1>
          <p className="mt-2 text-slate-600">{gate.message}</p>
          <button type="button" onClick={() => void load()} className={cx(ui.button, ui.primary, 'mt-4')}>
            {T.retry}
          </button>
        </section>
      )}
    </main>
  );
}
