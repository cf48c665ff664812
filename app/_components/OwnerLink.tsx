'use client';

import { useEffect, useState } from 'react';
import { useTranslations } from 'use-intl';
import { api } from '@/app/_lib/api';
import { useErrorText } from '@/app/_lib/error-text';
import { clearFreshOwnerToken, freshOwnerToken, ownerLinkUrl } from '@/app/_lib/owner-link';
import { CopyButton } from './CopyButton';
import { cx, ui } from './ui';

type State =
  | { kind: 'idle' }
  | { kind: 'confirm' }
  | { kind: 'making' }
  | { kind: 'shown'; token: string; fresh: 'created' | 'made' }
  | { kind: 'failed'; error: unknown };

/**
 * The owner's recovery link (`/claim#slug.token`): shown once right after the project was created
 * (and after each new one is made), and replaceable at any time: making a new link retires the
 * old one at once, while this browser stays signed in. Renders nothing for members and viewers.
 */
export function OwnerLink({ slug, isOwner }: { slug: string; isOwner: boolean }) {
  const t = useTranslations('projects.ownerLink');
  const errorText = useErrorText();
  const [state, setState] = useState<State>({ kind: 'idle' });

  // A project just created in this tab hands its owner link over once (see CreateProjectForm).
  useEffect(() => {
    if (!isOwner) return;
    const token = freshOwnerToken(slug);
    if (token) setState({ kind: 'shown', token, fresh: 'created' });
  }, [slug, isOwner]);

  if (!isOwner) return null;

  async function make() {
    setState({ kind: 'making' });
    try {
      const { ownerToken } = await api.rotateOwnerLink(slug);
      clearFreshOwnerToken(slug);
      setState({ kind: 'shown', token: ownerToken, fresh: 'made' });
    } catch (error) {
      setState({ kind: 'failed', error });
    }
  }

  function dismiss() {
    clearFreshOwnerToken(slug);
    setState({ kind: 'idle' });
  }

  const link = state.kind === 'shown' ? ownerLinkUrl(window.location.origin, slug, state.token) : null;
  return (
    <section
      aria-labelledby="owner-link-title"
      data-testid="owner-link"
      className={cx(ui.card, link && 'border-amber-300 bg-amber-50')}
    >
      <h2 id="owner-link-title" className={ui.cardTitle}>
        {link ? t('createdTitle') : t('title')}
      </h2>
      <p className={cx(ui.hint, 'mt-1', link && 'text-amber-900')}>
        {state.kind === 'shown' ? (state.fresh === 'created' ? t('createdHint') : t('madeHint')) : t('hint')}
      </p>
      {link && (
        <div className="mt-3 space-y-2">
          <input
            readOnly
            value={link}
            aria-label={t('title')}
            data-testid="owner-link-url"
            onFocus={(e) => e.currentTarget.select()}
            className={cx(ui.input, 'font-mono text-sm')}
          />
          <div className="flex flex-wrap gap-2">
            <CopyButton text={link} label={t('copy')} testId="copy-owner-link" />
            <button type="button" className={cx(ui.button, ui.ghost, 'px-3 py-1.5 text-sm')} onClick={dismiss} data-testid="owner-link-saved">
              {t('dismiss')}
            </button>
          </div>
        </div>
      )}
      {!link && state.kind !== 'confirm' && (
        <button
          type="button"
          data-testid="new-owner-link"
          className={cx(ui.button, ui.secondary, 'mt-3 px-3 py-1.5 text-sm')}
          disabled={state.kind === 'making'}
          onClick={() => setState({ kind: 'confirm' })}
        >
          {state.kind === 'making' ? t('making') : t('make')}
        </button>
      )}
      {state.kind === 'confirm' && (
        <div className="mt-3 rounded-lg border border-amber-300 bg-amber-50 p-3" role="group" aria-labelledby="owner-link-confirm">
          <p id="owner-link-confirm" className="text-sm font-medium text-amber-900">
            {t('confirm')}
          </p>
          <div className="mt-2 flex flex-wrap gap-2">
            <button type="button" autoFocus data-testid="confirm-owner-link" className={cx(ui.button, ui.primary, 'px-3 py-1.5 text-sm')} onClick={() => void make()}>
              {t('confirmYes')}
            </button>
            <CancelButton onClick={() => setState({ kind: 'idle' })} />
          </div>
        </div>
      )}
      {state.kind === 'failed' && (
        <p role="alert" className={cx(ui.error, 'mt-2')}>
          {errorText(state.error)}
        </p>
      )}
    </section>
  );
}

function CancelButton({ onClick }: { onClick: () => void }) {
  const common = useTranslations('common');
  return (
    <button type="button" className={cx(ui.button, ui.ghost, 'px-3 py-1.5 text-sm')} onClick={onClick}>
      {common('cancel')}
    </button>
  );
}
