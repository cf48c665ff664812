'use client';

import { useState } from 'react';
import { useTranslations } from 'use-intl';
import { specDiff, type ModelSpec, type SpecChange } from '@/server/protocol';
import { api } from '@/app/_lib/api';
import { useErrorText } from '@/app/_lib/error-text';
import { useSpecLabels } from './spec-labels';
import { cx, ui } from './ui';

function ChangeList({ changes, testId }: { changes: SpecChange[]; testId: string }) {
  const labels = useSpecLabels();
  return (
    <ul data-testid={testId} className="mt-1 space-y-0.5 text-sm">
      {changes.map((c) => (
        <li key={c.path} className="flex flex-wrap gap-x-2">
          <span className="font-medium text-slate-800">{labels.change(c.path)}</span>
          <span className="text-slate-500 line-through decoration-slate-400">{labels.option(c.before)}</span>
          <span aria-hidden="true">→</span>
          <span className="font-semibold text-slate-900">{labels.option(c.after)}</span>
        </li>
      ))}
    </ul>
  );
}

/**
 * Compares the running run's spec with the shared one: live changes say they apply from the next
 * round; any other change says the run keeps its spec, with a one-click restart for the owner.
 */
export function SpecDriftNotice({ slug, runSpec, current, isOwner, onRestarted }: { slug: string; runSpec: ModelSpec; current: ModelSpec | null; isOwner: boolean; onRestarted: () => void }) {
  const t = useTranslations('spec.drift');
  const errorText = useErrorText();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!current) return null;
  const changes = specDiff(runSpec, current);
  const live = changes.filter((c) => c.live);
  const frozen = changes.filter((c) => !c.live);
  if (changes.length === 0) return null;

  async function restart() {
    setPending(true);
    setError(null);
    try {
      await api.train(slug, { restart: true });
      onRestarted();
    } catch (err) {
      setError(err);
    } finally {
      setPending(false);
    }
  }

  return (
    <div className="mt-3 space-y-2" aria-live="polite">
      {frozen.length > 0 && (
        <div data-testid="spec-drift" className="rounded-lg border border-amber-300 bg-amber-50 px-3 py-2">
          <p className="text-sm font-semibold text-amber-900">{t('title')}</p>
          <p className="text-sm text-amber-800">{t('frozenHint')}</p>
          <ChangeList changes={frozen} testId="spec-drift-changes" />
          {isOwner ? (
            <button type="button" data-testid="restart-button" className={cx(ui.button, ui.primary, 'mt-2')} disabled={pending} onClick={() => void restart()}>
              {pending ? t('restarting') : `↻ ${t('restart')}`}
            </button>
          ) : (
            <p className={cx(ui.hint, 'mt-1')}>{t('memberHint')}</p>
          )}
          {error !== null && (
            <p role="alert" className={cx(ui.error, 'mt-1')}>
              {errorText(error)}
            </p>
          )}
        </div>
      )}
      {live.length > 0 && (
        <div data-testid="spec-live" className="rounded-lg border border-sky-200 bg-sky-50 px-3 py-2">
          <p className="text-sm font-semibold text-sky-900">{t('liveTitle')}</p>
          <p className="text-sm text-sky-800">{t('liveHint')}</p>
          <ChangeList changes={live} testId="spec-live-changes" />
        </div>
      )}
    </div>
  );
}
