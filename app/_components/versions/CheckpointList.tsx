'use client';

import { useEffect, useState } from 'react';
import { useTranslations } from 'use-intl';
import { api, type RunDetail, type RunSummary } from '@/app/_lib/api';
import { useErrorText } from '@/app/_lib/error-text';
import { cx, ui } from '../ui';
import { MODEL_FILES, useMetricFormat } from './format';

type Checkpoint = RunDetail['checkpoints'][number];

const smallButton = 'inline-flex h-9 items-center justify-center gap-1 rounded-lg px-2 text-xs font-semibold sm:text-sm transition-colors disabled:cursor-not-allowed disabled:opacity-55';

/** One checkpoint: its metrics, its two files, and (for the owner) "train from here". */
function CheckpointRow({
  slug,
  runId,
  checkpoint,
  isOwner,
  runActive,
  onStarted,
}: {
  slug: string;
  runId: string;
  checkpoint: Checkpoint;
  isOwner: boolean;
  runActive: boolean;
  onStarted: () => void;
}) {
  const t = useTranslations('runs.checkpoints');
  const errorText = useErrorText();
  const fmt = useMetricFormat();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const { round, metrics } = checkpoint;

  const restore = (restart: boolean) => {
    setBusy(true);
    setError(null);
    setConfirming(false);
    api.train(slug, { from: { runId, round }, restart }).then(
      () => {
        setBusy(false);
        setDone(true);
        onStarted();
      },
      (e: unknown) => {
        setBusy(false);
        setError(errorText(e));
      },
    );
  };

  const metricText =
    typeof metrics?.loss === 'number' && typeof metrics.accuracy === 'number' ? t('metrics', { loss: fmt.loss(metrics.loss), accuracy: fmt.accuracy(metrics.accuracy) }) : t('noMetrics');
  return (
    <li className="py-2" data-testid="checkpoint" data-round={round}>
      <div className="flex flex-wrap items-baseline gap-x-3 gap-y-0.5">
        <span className="font-medium tabular-nums">{t('round', { round })}</span>
        <span className="text-sm whitespace-nowrap text-slate-600 tabular-nums">{metricText}</span>
        <span className="text-xs whitespace-nowrap text-slate-400">{fmt.time(checkpoint.createdAt)}</span>
      </div>
      <div className="mt-1.5 flex flex-wrap items-center gap-1.5">
        <span className="sr-only">{t('download')}</span>
        {MODEL_FILES.map((file) => (
          <a
            key={file}
            className={cx(smallButton, ui.secondary)}
            href={api.checkpointFileUrl(slug, runId, round, file)}
            download={file}
            aria-label={t('downloadFile', { file, round })}
            data-testid={`download-${file}`}
          >
            <span aria-hidden>↓</span>
            {file}
          </a>
        ))}
        {isOwner && (
          <button
            type="button"
            className={cx(smallButton, ui.primary)}
            disabled={busy}
            aria-label={t('restoreLabel', { round })}
            onClick={() => (runActive ? setConfirming(true) : restore(false))}
            data-testid="restore"
          >
            {busy ? t('restoring') : t('restore')}
          </button>
        )}
      </div>
      {confirming && (
        <div className="mt-2 rounded-lg border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900" role="alertdialog" aria-live="polite">
          <p>{t('confirmRestart', { round })}</p>
          <div className="mt-2 flex flex-wrap gap-2">
            <button type="button" className={cx(smallButton, ui.primary)} onClick={() => restore(true)} autoFocus>
              {t('confirm')}
            </button>
            <button type="button" className={cx(smallButton, ui.secondary)} onClick={() => setConfirming(false)}>
              {t('cancel')}
            </button>
          </div>
        </div>
      )}
      {error && (
        <p className={cx(ui.error, 'mt-1 break-words')} role="alert" data-testid="restore-error">
          {error}
        </p>
      )}
      {done && !error && (
        <p className="mt-1 text-sm font-medium text-emerald-700" role="status">
          {t('restored', { round })}
        </p>
      )}
    </li>
  );
}

/** A run's checkpoints, newest first, refetched whenever the run moves on. */
export function CheckpointList({
  slug,
  run,
  version,
  isOwner,
  runActive,
  onStarted,
}: {
  slug: string;
  run: RunSummary;
  version: number;
  isOwner: boolean;
  /** Whether some run of the project is active (restoring then needs a confirmed restart). */
  runActive: boolean;
  onStarted: () => void;
}) {
  const t = useTranslations('runs.checkpoints');
  const errorText = useErrorText();
  const [detail, setDetail] = useState<RunDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Refetch whenever the run advances (a new round, a new status, a new global model).
  const key = `${run.id}:${run.status}:${run.lastRound ?? 0}:${version}`;
  useEffect(() => {
    let stale = false;
    api.run(slug, run.id).then(
      (d) => {
        if (stale) return;
        setDetail(d);
        setError(null);
      },
      (e: unknown) => !stale && setError(errorText(e)),
    );
    return () => {
      stale = true;
    };
  }, [slug, run.id, key, errorText]);

  if (error) return <p className={ui.error}>{error}</p>;
  if (!detail) return <p className={ui.hint}>{t('loading')}</p>;
  const checkpoints = [...detail.checkpoints].sort((a, b) => b.round - a.round);
  return (
    <div data-testid="run-details">
      <p className="text-sm font-semibold text-slate-600">{t('title')}</p>
      {checkpoints.length === 0 ? (
        <p className={ui.hint}>{t('none')}</p>
      ) : (
        <>
          <p className={cx(ui.hint, 'mt-1')}>{t('downloadHint')}</p>
          <ul className="mt-1 max-h-96 divide-y divide-slate-100 overflow-y-auto pr-1" data-testid="checkpoints">
            {checkpoints.map((c) => (
              <CheckpointRow key={c.round} slug={slug} runId={run.id} checkpoint={c} isOwner={isOwner} runActive={runActive} onStarted={onStarted} />
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
