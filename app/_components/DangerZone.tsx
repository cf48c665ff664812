'use client';

import { useId, useState } from 'react';
import { useTranslations } from 'use-intl';
import { api } from '@/app/_lib/api';
import { useErrorText } from '@/app/_lib/error-text';
import { cx, ui } from './ui';

type State = { kind: 'idle' } | { kind: 'confirm' } | { kind: 'working' } | { kind: 'failed'; error: unknown };

const danger = 'bg-rose-600 text-white hover:bg-rose-700 disabled:hover:bg-rose-600';

/**
 * Removing data: the owner deletes the project with everything in it (after typing its name);
 * a member or viewer leaves it (their contributions stay, without their name). Either way this
 * browser forgets the project and goes back to the start page.
 */
export function DangerZone({ slug, projectName, role }: { slug: string; projectName: string | null; role: 'owner' | 'member' | 'viewer' }) {
  const t = useTranslations('projects.danger');
  const errorText = useErrorText();
  const [state, setState] = useState<State>({ kind: 'idle' });
  const [typed, setTyped] = useState('');
  const inputId = useId();
  const isOwner = role === 'owner';
  const name = projectName ?? slug;
  const matches = typed.trim() === name.trim();

  async function act() {
    setState({ kind: 'working' });
    try {
      if (isOwner) await api.deleteProject(slug, typed);
      else await api.leaveProject(slug);
      window.location.assign('/');
    } catch (error) {
      setState({ kind: 'failed', error });
    }
  }

  const open = state.kind !== 'idle';
  return (
    <section aria-labelledby="danger-zone-title" data-testid="danger-zone" className={cx(ui.card, 'border-rose-200')}>
      <h2 id="danger-zone-title" className={ui.cardTitle}>
        {isOwner ? t('deleteTitle') : t('leaveTitle')}
      </h2>
      <p className={cx(ui.hint, 'mt-1')}>{isOwner ? t('deleteHint') : t('leaveHint')}</p>
      {!open && (
        <button
          type="button"
          data-testid={isOwner ? 'delete-project' : 'leave-project'}
          className={cx(ui.button, ui.secondary, 'mt-3 border-rose-300 px-3 py-1.5 text-sm text-rose-700 hover:bg-rose-50')}
          onClick={() => setState({ kind: 'confirm' })}
        >
          {isOwner ? t('delete') : t('leave')}
        </button>
      )}
      {open && (
        <form
          className="mt-3 space-y-3"
          onSubmit={(e) => {
            e.preventDefault();
            if (isOwner && !matches) return;
            void act();
          }}
        >
          {isOwner ? (
            <div className="space-y-1">
              <label htmlFor={inputId} className={ui.label}>
                {t('typeName', { name })}
              </label>
              <input
                id={inputId}
                data-testid="delete-confirm-name"
                className={ui.input}
                value={typed}
                autoComplete="off"
                autoFocus
                disabled={state.kind === 'working'}
                onChange={(e) => setTyped(e.target.value)}
              />
            </div>
          ) : (
            <p className="text-sm text-slate-700">{t('leaveConfirm')}</p>
          )}
          <div className="flex flex-wrap gap-2">
            <button
              type="submit"
              data-testid={isOwner ? 'delete-project-confirm' : 'leave-project-confirm'}
              className={cx(ui.button, danger, 'px-3 py-1.5 text-sm')}
              disabled={state.kind === 'working' || (isOwner && !matches)}
            >
              {state.kind === 'working' ? (isOwner ? t('deleting') : t('leaving')) : isOwner ? t('deleteForever') : t('leaveNow')}
            </button>
            <button
              type="button"
              className={cx(ui.button, ui.ghost, 'px-3 py-1.5 text-sm')}
              disabled={state.kind === 'working'}
              onClick={() => {
                setTyped('');
                setState({ kind: 'idle' });
              }}
            >
              {t('cancel')}
            </button>
          </div>
          {state.kind === 'failed' && (
            <p role="alert" className={ui.error}>
              {errorText(state.error)}
            </p>
          )}
        </form>
      )}
    </section>
  );
}
