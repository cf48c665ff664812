'use client';

import { useEffect, useState } from 'react';
import { api, errorMessage, type RunDetail, type RunSummary } from '@/app/_lib/api';
import { cx, ui } from './ui';

const T = {
  title: 'Runs',
  empty: 'No runs yet.',
  run: (n: number) => `Run ${n}`,
  rounds: (done: number, total: number) => `${done} / ${total} rounds`,
  checkpoints: 'Checkpoints',
  noCheckpoints: 'No checkpoints yet.',
  loading: 'Loading…',
  round: (r: number) => `Round ${r}`,
  loss: 'loss',
  acc: 'acc',
  show: 'Show details',
  hide: 'Hide details',
};

const STATUS_STYLE: Record<string, string> = {
  waiting: 'text-amber-700',
  training: 'text-brand-700',
  finished: 'text-emerald-700',
  stopped: 'text-slate-600',
  failed: 'text-rose-700',
};

function time(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

function RunDetails({ slug, run, version }: { slug: string; run: RunSummary; version: number }) {
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
      (e: unknown) => !stale && setError(errorMessage(e)),
    );
    return () => {
      stale = true;
    };
  }, [slug, run.id, key]);

  if (error) return <p className={ui.error}>{error}</p>;
  if (!detail) return <p className={ui.hint}>{T.loading}</p>;
  const checkpoints = [...detail.checkpoints].sort((a, b) => b.round - a.round);
  return (
    <div data-testid="run-details">
      <p className="text-sm font-semibold text-slate-600">{T.checkpoints}</p>
      {checkpoints.length === 0 ? (
        <p className={ui.hint}>{T.noCheckpoints}</p>
      ) : (
        <ul className="mt-1 space-y-1 text-sm" data-testid="checkpoints">
          {checkpoints.map((c) => (
            <li key={c.round} className="flex flex-wrap justify-between gap-x-3 tabular-nums">
              <span className="font-medium">{T.round(c.round)}</span>
              <span className="text-slate-600">
                {typeof c.metrics?.loss === 'number' && `${T.loss} ${c.metrics.loss.toFixed(3)}`}
                {typeof c.metrics?.accuracy === 'number' && ` · ${T.acc} ${(c.metrics.accuracy * 100).toFixed(1)}%`}
              </span>
              <span className="hidden text-slate-500 sm:inline">{time(c.createdAt)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Every run of the project, newest first; the open one lists its checkpoints. */
export function RunsList({ slug, runs, version }: { slug: string; runs: RunSummary[]; version: number }) {
  const sorted = [...runs].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const [openId, setOpenId] = useState<string | null>(null);
  const open = openId ?? sorted[0]?.id ?? null;
  return (
    <section className={ui.card} aria-labelledby="runs-title">
      <h2 id="runs-title" className={ui.cardTitle}>
        {T.title}
      </h2>
      {sorted.length === 0 && <p className={cx(ui.hint, 'mt-2')}>{T.empty}</p>}
      <ul className="mt-2 divide-y divide-slate-100" data-testid="runs-list">
        {sorted.map((run, i) => {
          const isOpen = run.id === open;
          return (
            <li key={run.id} className="py-2" data-testid="run-row" data-run-id={run.id}>
              <button
                type="button"
                className="flex w-full flex-wrap items-center justify-between gap-x-3 gap-y-1 rounded-lg px-1 py-1 text-left hover:bg-slate-50"
                aria-expanded={isOpen}
                title={isOpen ? T.hide : T.show}
                onClick={() => setOpenId(isOpen ? '' : run.id)}
              >
                <span className="font-semibold">
                  {isOpen ? '▾' : '▸'} {T.run(sorted.length - i)}
                </span>
                <span className={cx('text-sm font-semibold capitalize', STATUS_STYLE[run.status])}>{run.status}</span>
                <span className="text-sm text-slate-600 tabular-nums">{T.rounds(run.lastRound ?? 0, run.totalRounds)}</span>
                <span className="text-sm text-slate-500">{time(run.createdAt)}</span>
              </button>
              {isOpen && (
                <div className="mt-2 px-1">
                  <RunDetails slug={slug} run={run} version={version} />
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
