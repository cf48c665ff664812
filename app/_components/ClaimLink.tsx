'use client';

import Link from 'next/link';
import { useEffect, useRef, useState } from 'react';
import { useRouter } from 'next/navigation';
import { api, errorMessage } from '@/app/_lib/api';
import { cx, ui } from './ui';

const T = {
  working: 'Signing you in…',
  bad: 'This link is incomplete. Copy the whole owner link, including the part after “#”.',
  failed: 'This link did not work:',
  home: 'Back to the start page',
};

/**
 * Reads `<slug>.<token>` from the URL fragment (never sent to any server), trades the token for
 * this browser's session cookie, removes it from the address bar and history, and opens the project.
 */
export function ClaimLink() {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const started = useRef(false);

  useEffect(() => {
    // Once only: the fragment is wiped below, and dev mode runs effects twice.
    if (started.current) return;
    started.current = true;
    const fragment = decodeURIComponent(window.location.hash.slice(1));
    const dot = fragment.indexOf('.');
    const slug = dot > 0 ? fragment.slice(0, dot) : '';
    const token = dot > 0 ? fragment.slice(dot + 1) : '';
    window.history.replaceState(null, '', window.location.pathname);
    if (!slug || !token) {
      setError(T.bad);
      return;
    }
    api.session(slug, token).then(
      (res) => router.replace(`/p/${encodeURIComponent(res.slug)}`),
      (e: unknown) => setError(`${T.failed} ${errorMessage(e)}`),
    );
  }, [router]);

  return (
    <main className="mx-auto flex min-h-dvh max-w-md flex-col justify-center px-4 py-10">
      <section className={ui.card}>
        {error ? (
          <>
            <p className={ui.error} role="alert">
              {error}
            </p>
            <Link href="/" className={cx(ui.button, ui.secondary, 'mt-4')}>
              {T.home}
            </Link>
          </>
        ) : (
          <p role="status" className="text-slate-600">
            {T.working}
          </p>
        )}
      </section>
    </main>
  );
}
