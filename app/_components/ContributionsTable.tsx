'use client';

import { useCallback, useEffect, useState } from 'react';
import { useFormatter, useTranslations } from 'use-intl';
import { api, errorMessage, type RunSummary } from '@/app/_lib/api';
import type { ContributionsReport } from '@/server/protocol';
import { useDuration } from './ComputePanel';
import { ScalePanel } from './ScalePanel';
import { cx, ui } from './ui';

type Member = ContributionsReport['members'][number];
type Counts = ContributionsReport['totals'];
const STATUSES = ['accepted', 'late', 'rejected', 'dropped'] as const;
const STATUS_STYLE: Record<(typeof STATUSES)[number], string> = {
  accepted: 'text-emerald-700',
  late: 'text-amber-700',
  rejected: 'text-rose-700',
  dropped: 'text-slate-600',
};

/** Most samples first (who carried the run), then by name. */
function byContribution(a: Member, b: Member): number {
  return b.samples - a.samples || b.accepted - a.accepted || (a.name ?? '').localeCompare(b.name ?? '');
}

/** A run's report, fetched again whenever `refreshKey` changes (each new round of a live run). */
function useContributions(slug: string, runId: string | null, refreshKey: string) {
  const [report, setReport] = useState<ContributionsReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (!runId) return;
    let stale = false;
    api.contributions(slug, runId).then(
      (next) => {
        if (stale) return;
        setReport(next);
        setError(null);
      },
      (e: unknown) => !stale && setError(errorMessage(e)),
    );
    return () => {
      stale = true;
    };
  }, [slug, runId, refreshKey, attempt]);
  // A report of another run is never shown while the picked one loads.
  const current = report && report.runId === runId ? report : null;
  return { report: current, error, retry: useCallback(() => setAttempt((a) => a + 1), []) };
}

function CountCells({ counts, testId }: { counts: Counts; testId?: string }) {
  const format = useFormatter();
  const duration = useDuration();
  return (
    <>
      <td className="px-1.5 py-2 text-right tabular-nums" data-testid={testId && `${testId}-samples`}>
        {format.number(counts.samples)}
      </td>
      <td className="px-1.5 py-2 text-right whitespace-nowrap tabular-nums">{duration(counts.computeMs)}</td>
      {STATUSES.map((s) => (
        <td key={s} className={cx('hidden px-1.5 py-2 text-right tabular-nums sm:table-cell', counts[s] > 0 ? STATUS_STYLE[s] : 'text-slate-400')} data-testid={testId && `${testId}-${s}`}>
          {format.number(counts[s])}
        </td>
      ))}
    </>
  );
}

/** On phones, where the status columns are hidden: the counts as one line under the name. */
function StatusLine({ counts }: { counts: Counts }) {
  const t = useTranslations('contributions.table.columns');
  const format = useFormatter();
  return (
    <span className="mt-0.5 flex flex-wrap gap-x-2 text-xs font-normal sm:hidden">
      {STATUSES.filter((s) => s === 'accepted' || counts[s] > 0).map((s) => (
        <span key={s} className={STATUS_STYLE[s]}>
          {t(s)} {format.number(counts[s])}
        </span>
      ))}
    </span>
  );
}

/** The per-member table with its totals row, and what the statuses mean. */
function MembersTable({ report, meId }: { report: ContributionsReport; meId: string }) {
  const t = useTranslations('contributions.table');
  const members = [...report.members].sort(byContribution);
  if (members.length === 0) return <p className={ui.hint}>{t('empty')}</p>;
  return (
    <>
      {/* Scrolls sideways if it must; the member column stays in view. */}
      <div className="-mx-1 overflow-x-auto px-1" role="region" aria-label={t('region')} tabIndex={0}>
        <table className="w-full border-collapse text-sm" data-testid="contributions-table">
          <thead>
            <tr className="border-b border-slate-200 text-left text-slate-500">
              <th scope="col" className="sticky left-0 bg-white py-2 pr-2 font-semibold">
                {t('columns.member')}
              </th>
              <th scope="col" className="px-1.5 py-2 text-right font-semibold">
                {t('columns.samples')}
              </th>
              <th scope="col" className="px-1.5 py-2 text-right font-semibold">
                {t('columns.compute')}
              </th>
              {STATUSES.map((s) => (
                <th key={s} scope="col" className={cx('hidden px-1.5 py-2 text-right font-semibold sm:table-cell', STATUS_STYLE[s])} title={t(`hints.${s}`)}>
                  {t(`columns.${s}`)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {members.map((m) => (
              <tr key={m.memberId} data-testid="contribution-row" data-member-id={m.memberId}>
                <th scope="row" className="sticky left-0 max-w-32 bg-white py-2 pr-2 text-left font-normal sm:max-w-44">
                  <span className="block truncate font-medium text-slate-900">
                    {m.name ?? <span className="text-slate-500 italic">{t('hidden')}</span>}
                    {m.memberId === meId && <span className="font-normal text-slate-500"> ({t('you')})</span>}
                  </span>
                  <span className="mt-0.5 flex flex-wrap gap-1">
                    {m.backends.length === 0 && <span className="text-xs text-slate-400">{t('noBackend')}</span>}
                    {m.backends.map((b) => (
                      <span key={b} className="rounded bg-slate-100 px-1 font-mono text-xs text-slate-700">
                        {b}
                      </span>
                    ))}
                  </span>
                  <StatusLine counts={m} />
                </th>
                <CountCells counts={m} />
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr className="border-t-2 border-slate-200 font-semibold" data-testid="contribution-totals">
              <th scope="row" className="sticky left-0 bg-white py-2 pr-2 text-left">
                {t('total')}
                <StatusLine counts={report.totals} />
              </th>
              <CountCells counts={report.totals} testId="totals" />
            </tr>
          </tfoot>
        </table>
      </div>
      {/* What the statuses mean, in words (a title tooltip never shows on a phone). */}
      <dl className="mt-3 grid gap-x-4 gap-y-1 text-sm sm:grid-cols-2">
        {STATUSES.map((s) => (
          <div key={s} className="flex gap-1.5">
            <dt className={cx('font-semibold', STATUS_STYLE[s])}>{t(`columns.${s}`)}</dt>
            <dd className="text-slate-600">{t(`hints.${s}`)}</dd>
          </div>
        ))}
      </dl>
      <p className={cx(ui.hint, 'mt-2')}>{t('note')}</p>
    </>
  );
}

/**
 * Who did what in a run, per member: backends, samples, compute time, and what became of their
 * updates (accepted, late, rejected, dropped), with a totals row; beside it, what adding people
 * bought (ScalePanel). Follows the live run round by round; any past run can be picked.
 */
export function ContributionsTable({ slug, runs, liveRunId, version, meId }: { slug: string; runs: RunSummary[]; liveRunId: string | null; version: number; meId: string }) {
  const t = useTranslations('contributions.table');
  const sorted = [...runs].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const [picked, setPicked] = useState<string | null>(null);
  const runId = (picked && sorted.some((r) => r.id === picked) ? picked : null) ?? liveRunId ?? sorted[0]?.id ?? null;
  const run = sorted.find((r) => r.id === runId);
  const refreshKey = `${run?.status ?? ''}:${run?.lastRound ?? 0}:${runId === liveRunId ? version : 0}`;
  const { report, error, retry } = useContributions(slug, runId, refreshKey);

  return (
    <section className={ui.card} aria-labelledby="contributions-title" data-testid="contributions">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id="contributions-title" className={ui.cardTitle}>
          {t('title')}
        </h2>
        {sorted.length > 0 && (
          <label className="inline-flex min-w-0 items-center gap-2 text-sm text-slate-600">
            <span>{t('pick')}</span>
            <select
              className="h-9 max-w-56 min-w-0 rounded-lg border border-slate-300 bg-white px-2 text-sm text-slate-900"
              value={runId ?? ''}
              onChange={(e) => setPicked(e.target.value)}
              data-testid="contributions-run"
            >
              {sorted.map((r, i) => (
                <option key={r.id} value={r.id}>
                  {t('option', { number: sorted.length - i, status: t(`status.${r.status}`) })}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>

      {!runId && <p className={cx(ui.hint, 'mt-2')}>{t('noRuns')}</p>}
      {runId && error && !report && (
        <p className={cx(ui.error, 'mt-2 flex flex-wrap items-center gap-2')} role="alert">
          {t('error', { message: error })}
          <button type="button" className={cx(ui.button, ui.secondary, 'h-8 px-3 text-sm')} onClick={retry}>
            {t('retry')}
          </button>
        </p>
      )}
      {runId && (
        <div className="mt-3 grid grid-cols-[minmax(0,1fr)] gap-x-8 gap-y-5 lg:grid-cols-[minmax(0,5fr)_minmax(0,7fr)]">
          <ScalePanel report={report} />
          <div className="min-w-0">
            {report ? <MembersTable report={report} meId={meId} /> : !error && <p className={ui.hint}>{t('loading')}</p>}
          </div>
        </div>
      )}
    </section>
  );
}
