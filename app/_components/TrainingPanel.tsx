'use client';

import { useState } from 'react';
import { useTranslations } from 'use-intl';
import type { RunState, RunStatus } from '@/server/protocol';
import { ApiError, api } from '@/app/_lib/api';
import { useErrorText } from '@/app/_lib/error-text';
import type { SpecSnapshot } from '@/app/_lib/useSpec';
import type { Training } from '@/app/_lib/useTraining';
import { MetricsChart } from './MetricsChart';
import { ProgressBar } from './ProgressBar';
import { SpecDriftNotice } from './SpecDriftNotice';
import { cx, ui } from './ui';

const STATUS_STYLE: Record<RunStatus | 'none', string> = {
  none: 'bg-slate-100 text-slate-700',
  waiting: 'bg-amber-100 text-amber-800',
  training: 'bg-brand-100 text-brand-700',
  paused: 'bg-amber-100 text-amber-800',
  finished: 'bg-emerald-100 text-emerald-800',
  stopped: 'bg-slate-200 text-slate-700',
  failed: 'bg-rose-100 text-rose-800',
};

export function isActive(run: RunState | null): boolean {
  return run?.status === 'waiting' || run?.status === 'training' || run?.status === 'paused';
}

/** Overall (rounds done plus the share of the current round) and in-round progress, 0..1. */
function progress(run: RunState | null): { overall: number; round: number } {
  if (!run || run.totalRounds <= 0) return { overall: 0, round: 0 };
  if (run.status === 'finished') return { overall: 1, round: 0 };
  const round = isActive(run) && run.participants > 0 ? Math.min(1, run.received / run.participants) : 0;
  const done = Math.max(0, run.round - 1);
  const overall = isActive(run) ? (done + round) / run.totalRounds : run.round / run.totalRounds;
  return { overall: Math.min(1, overall), round };
}

function detailsList(details: unknown): string[] {
  if (!Array.isArray(details)) return [];
  return details
    .map((d: unknown) => (d && typeof d === 'object' && 'message' in d ? `${String((d as { path?: unknown }).path ?? '')} ${String((d as { message: unknown }).message)}`.trim() : null))
    .filter((d): d is string => d !== null);
}

interface Props {
  slug: string;
  isOwner: boolean;
  snap: SpecSnapshot | null;
  training: Training;
  onStarted: () => void;
}

/** Errors of Train with a message of their own here; others use the common error texts. */
const START_ERRORS = ['run_active', 'forbidden', 'invalid_spec'] as const;

export function TrainingPanel({ slug, isOwner, snap, training, onStarted }: Props) {
  const t = useTranslations('training.panel');
  const errorText = useErrorText();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<{ message: string; details: string[] } | null>(null);
  const run = training.run;
  const status: RunStatus | 'none' = run?.status ?? 'none';
  const total = run?.totalRounds ?? snap?.spec?.rounds ?? (typeof snap?.scalars.rounds === 'number' ? snap.scalars.rounds : 0);
  const { overall, round } = progress(run);

  const reason = !isOwner
    ? t('reasons.notOwner')
    : !snap?.seeded
      ? t('reasons.loading')
      : !snap.spec
        ? t('reasons.invalid', { count: snap.problemCount })
        : isActive(run)
          ? t('reasons.active')
          : null;

  async function control(action: 'pause' | 'resume' | 'stop') {
    if (!run) return;
    setPending(true);
    setError(null);
    try {
      await api.controlRun(slug, run.runId, action);
    } catch (err) {
      setError({ message: errorText(err), details: [] });
    } finally {
      setPending(false);
    }
  }

  async function start() {
    setPending(true);
    setError(null);
    try {
      await api.train(slug);
      onStarted();
    } catch (err) {
      const code = err instanceof ApiError ? START_ERRORS.find((c) => c === err.code) : undefined;
      const message = code ? t(`errors.${code}`) : errorText(err);
      setError({ message, details: err instanceof ApiError ? detailsList(err.details) : [] });
    } finally {
      setPending(false);
    }
  }

  return (
    <section className={ui.card} aria-labelledby="training-title">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div className="flex items-center gap-3">
          <h2 id="training-title" className={ui.cardTitle}>
            {t('title')}
          </h2>
          <span data-testid="run-status" data-status={status} className={cx('rounded-full px-2.5 py-0.5 text-sm font-semibold', STATUS_STYLE[status])}>
            {t(`status.${status}`)}
          </span>
        </div>
        {isOwner && isActive(run) && (
          <div className="flex gap-2" role="group" aria-label={t('controlsLabel')}>
            {run?.status === 'paused' ? (
              <button type="button" data-testid="resume-button" className={cx(ui.button, ui.secondary)} disabled={pending} onClick={() => void control('resume')}>
                ▶ {t('controls.resume')}
              </button>
            ) : (
              <button type="button" data-testid="pause-button" className={cx(ui.button, ui.secondary)} disabled={pending} onClick={() => void control('pause')}>
                ❚❚ {t('controls.pause')}
              </button>
            )}
            <button type="button" data-testid="stop-button" className={cx(ui.button, ui.secondary)} disabled={pending} onClick={() => void control('stop')}>
              ■ {t('controls.stop')}
            </button>
          </div>
        )}
        {isOwner && !isActive(run) && (
          <button
            type="button"
            data-testid="train-button"
            className={cx(ui.button, ui.primary, 'min-w-28')}
            disabled={reason !== null || pending}
            aria-describedby={reason ? 'train-reason' : undefined}
            onClick={() => void start()}
          >
            {pending ? t('starting') : `▶ ${t('train')}`}
          </button>
        )}
      </div>
      {reason && (isOwner || !run) && !(isOwner && isActive(run)) && (
        <p id="train-reason" data-testid="train-disabled-reason" className={cx(ui.hint, 'mt-2')}>
          {isOwner ? reason : t('noRunHintMember')}
        </p>
      )}
      {run && isActive(run) && <SpecDriftNotice slug={slug} runSpec={run.spec} current={snap?.spec ?? null} isOwner={isOwner} onRestarted={onStarted} />}
      {error && (
        <div role="alert" className="mt-3 rounded-lg bg-rose-50 px-3 py-2">
          <p className={ui.error}>{error.message}</p>
          {error.details.length > 0 && (
            <ul className="mt-1 list-inside list-disc text-sm text-rose-700">
              {error.details.map((d) => (
                <li key={d}>{d}</li>
              ))}
            </ul>
          )}
        </div>
      )}

      <div className="mt-4 space-y-2">
        <div className="flex flex-wrap items-baseline justify-between gap-2">
          <p data-testid="round-indicator" className="text-2xl font-bold tabular-nums">
            {t('round', { round: run?.round ?? 0, total })}
          </p>
          <p className="min-h-5 text-sm text-slate-600" data-testid="waiting-reason" aria-live="polite">
            {run?.waitingReason ?? (run || !isOwner || reason ? '' : t('noRunHint'))}
          </p>
        </div>
        <ProgressBar testId="progress-bar" label={t('overall')} value={overall} className="h-3 w-full rounded-full bg-slate-200" />
        <div className={cx('flex items-center gap-3', !isActive(run) && 'invisible')}>
          <ProgressBar testId="round-progress" label={t('roundProgress')} value={round} className="h-1.5 w-24 shrink-0 rounded-full bg-slate-200" barClassName="bg-emerald-500" />
          <p className="text-sm text-slate-600 tabular-nums">{run && isActive(run) ? t('updates', { received: run.received, participants: run.participants }) : '\u00a0'}</p>
        </div>
      </div>

      <div className="mt-5">
        <MetricsChart history={training.history} totalRounds={total} />
      </div>
    </section>
  );
}
