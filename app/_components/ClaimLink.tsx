'use client';

import Link from 'next/link';
import { useEffect, useRef, useState } from 'react';
import { useRouter } from 'next/navigation';
import { useTranslations } from 'use-intl';
import { api } from '@/app/_lib/api';
import { useErrorText } from '@/app/_lib/error-text';
import { parseClaimFragment } from '@/app/_lib/owner-link';
import { BrandBar } from './BrandBar';
import { cx, ui } from './ui';

type Failure = { kind: 'incomplete' } | { kind: 'refused'; error: unknown };

/**
 * Reads `<slug>.<token>` from the URL fragment (never sent to any server), trades the token for
 * this browser's session cookie, removes it from the address bar and history, and opens the project.
 */
export function ClaimLink() {
  const router = useRouter();
  const t = useTranslations('projects.claim');
  const errorText = useErrorText();
  // The failure itself, not its text: switching the language re-renders it in the new one.
  const [failure, setFailure] = useState<Failure | null>(null);
  const started = useRef(false);

  useEffect(() => {
    const claim = () => {
      const found = parseClaimFragment(window.location.hash);
      window.history.replaceState(null, '', window.location.pathname);
      if (!found) {
        setFailure({ kind: 'incomplete' });
        return;
      }
      setFailure(null);
      api.session(found.slug, found.token).then(
        (res) => router.replace(`/p/${encodeURIComponent(res.slug)}`),
        (error: unknown) => setFailure({ kind: 'refused', error }),
      );
    };
    // Once on arrival: the fragment is wiped right away, and dev mode runs effects twice.
    if (!started.current) {
      started.current = true;
      claim();
    }
    // Another link pasted into the address bar while this page shows is only a fragment change.
    const onHash = () => {
      if (window.location.hash.length > 1) claim();
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [router]);

  return (
    <main className="mx-auto flex min-h-dvh max-w-md flex-col justify-center px-4 py-10">
      <BrandBar />
      <section className={ui.card}>
        {failure ? (
          <>
            <p className={ui.error} role="alert" data-testid="claim-error">
              {failure.kind === 'incomplete' ? t('bad') : t('failed', { reason: errorText(failure.error) })}
            </p>
            <Link href="/" className={cx(ui.button, ui.secondary, 'mt-4')}>
              {t('home')}
            </Link>
          </>
        ) : (
          <p role="status" className="text-slate-600">
            {t('working')}
          </p>
        )}
      </section>
    </main>
  );
}
