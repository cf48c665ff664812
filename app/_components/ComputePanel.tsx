'use client';

import { useFormatter, useTranslations } from 'use-intl';
import type { Training } from '@/app/_lib/useTraining';
import { cx, ui } from './ui';

type ComputeState = 'probing' | 'unavailable' | 'training' | 'ready' | 'off';

const STATE_STYLE: Record<ComputeState, { box: string; dot: string }> = {
  probing: { box: 'border-slate-200 bg-slate-50 text-slate-700', dot: 'animate-pulse bg-slate-400' },
  unavailable: { box: 'border-rose-200 bg-rose-50 text-rose-800', dot: 'bg-rose-500' },
  training: { box: 'border-brand-200 bg-brand-50 text-brand-800', dot: 'animate-pulse bg-brand-600' },
  ready: { box: 'border-emerald-200 bg-emerald-50 text-emerald-800', dot: 'bg-emerald-500' },
  off: { box: 'border-slate-200 bg-slate-50 text-slate-700', dot: 'bg-slate-400' },
};

/** Milliseconds as "850 ms", "12.3 s" or "4.5 min", in the UI language. */
export function useDuration(): (ms: number) => string {
  const t = useTranslations('contributions.units');
  const format = useFormatter();
  return (ms) => {
    if (ms < 1000) return t('ms', { value: format.number(Math.round(ms)) });
    if (ms < 60_000) return t('s', { value: format.number(ms / 1000, { maximumFractionDigits: 1 }) });
    return t('min', { value: format.number(ms / 60_000, { maximumFractionDigits: 1 }) });
  };
}

/** This browser's backend, whether it is training right now and what it gave, the contribute switch, and everyone training. */
export function ComputePanel({ training }: { training: Training }) {
  const t = useTranslations('contributions.compute');
  const format = useFormatter();
  const duration = useDuration();
  const { compute, contributed, clients, clientId } = training;
  const ready = compute.phase === 'ready';
  const on = ready && training.contribute;
  const state: ComputeState = compute.phase !== 'ready' ? compute.phase : contributed.training ? 'training' : on ? 'ready' : 'off';
  const probe = compute.phase === 'probing' && compute.step !== undefined ? compute : null;
  const stateText =
    compute.phase === 'unavailable'
      ? t('state.unavailable', { reason: compute.reason })
      : probe
        ? t('state.probingStep', { backend: t(`backendNames.${probe.backend!}`), step: probe.step!, of: probe.of! })
        : t(`state.${state as Exclude<ComputeState, 'unavailable'>}`);
  return (
    <section className={ui.card} aria-labelledby="compute-title">
      <h2 id="compute-title" className={ui.cardTitle}>
        {t('title')}
      </h2>

      <div className="mt-3 rounded-lg bg-slate-50 p-3">
        <p className="text-sm font-semibold text-slate-700">{t('mine')}</p>
        {/* What this browser is doing right now, in one line that never changes height. */}
        <p
          className={cx('relative mt-2 flex min-h-10 items-center gap-2 overflow-hidden rounded-lg border px-3 py-2 text-sm font-medium', STATE_STYLE[state].box)}
          role="status"
          aria-live="polite"
          data-testid="compute-state"
          data-state={state}
        >
          <span aria-hidden className={cx('h-2.5 w-2.5 shrink-0 rounded-full', STATE_STYLE[state].dot)} />
          <span className="min-w-0 break-words">{stateText}</span>
          {/* The speed test's progress, along the box's bottom edge: no height change. */}
          {state === 'probing' && (
            <span
              className="absolute inset-x-0 bottom-0 h-1 bg-slate-200"
              role="progressbar"
              aria-label={t('probeProgress')}
              aria-valuemin={0}
              aria-valuemax={probe?.of ?? 1}
              aria-valuenow={probe ? probe.step! - 1 : 0}
              data-testid="probe-progress"
            >
              <span className="block h-full animate-pulse bg-brand-600 transition-[width] duration-500" style={{ width: `${probe ? Math.round(((probe.step! - 0.5) / probe.of!) * 100) : 5}%` }} />
            </span>
          )}
        </p>
        {ready && (
          <>
            <p className={cx(ui.hint, 'mt-3')}>{t('sinceOpened')}</p>
            <dl className="mt-1 grid grid-cols-2 gap-x-4 gap-y-1 text-sm sm:grid-cols-3" data-testid="own-compute">
              <div>
                <dt className="text-slate-500">{t('backend')}</dt>
                <dd className="font-mono font-semibold" data-testid="own-backend">
                  {compute.backend}
                </dd>
              </div>
              <div>
                <dt className="text-slate-500">{t('probe')}</dt>
                <dd className="font-semibold tabular-nums">{duration(compute.probeMs)}</dd>
              </div>
              <div>
                <dt className="text-slate-500">{t('rounds')}</dt>
                <dd className="font-semibold tabular-nums" data-testid="own-rounds">
                  {format.number(contributed.rounds)}
                </dd>
              </div>
              <div>
                <dt className="text-slate-500">{t('time')}</dt>
                <dd className="font-semibold tabular-nums" data-testid="own-compute-time">
                  {duration(contributed.computeMs)}
                </dd>
              </div>
              <div>
                <dt className="text-slate-500">{t('samples')}</dt>
                <dd className="font-semibold tabular-nums" data-testid="own-samples">
                  {format.number(contributed.samples)}
                </dd>
              </div>
            </dl>
          </>
        )}
      </div>

      <label className={cx('mt-3 flex items-start gap-3', ready ? 'cursor-pointer' : 'cursor-not-allowed opacity-60')}>
        <input
          type="checkbox"
          role="switch"
          name="contribute"
          data-testid="contribute-toggle"
          checked={on}
          disabled={!ready}
          aria-checked={on}
          onChange={(e) => training.setContribute(e.target.checked)}
          className="peer sr-only"
        />
        <span
          aria-hidden
          className={cx(
            'relative mt-0.5 inline-block h-6 w-11 shrink-0 rounded-full transition-colors peer-focus-visible:outline-3 peer-focus-visible:outline-offset-2 peer-focus-visible:outline-brand-500',
            on ? 'bg-brand-600' : 'bg-slate-300',
          )}
        >
          <span className={cx('absolute top-0.5 left-0.5 h-5 w-5 rounded-full bg-white shadow transition-transform', on && 'translate-x-5')} />
        </span>
        <span>
          <span className="block font-medium">{t('contribute')}</span>
          <span className={ui.hint}>{t('contributeHint')}</span>
        </span>
      </label>
      <p className={cx(ui.hint, 'mt-2')} data-testid="projector-note">
        {t('projector')}
      </p>

      <h3 className="mt-5 text-sm font-bold tracking-wide text-slate-500 uppercase">{t('clients', { count: clients.length })}</h3>
      <ul className="mt-2 divide-y divide-slate-100" data-testid="training-clients">
        {clients.length === 0 && <li className={ui.hint}>{t('noClients')}</li>}
        {clients.map((c) => (
          <li key={c.clientId} className="flex items-center justify-between gap-3 py-1.5" data-testid="training-client" data-contribute={c.contribute}>
            <span className="min-w-0 truncate">
              <span className="font-medium">{c.name}</span>
              {c.clientId === clientId && <span className="text-sm text-slate-500"> ({t('you')})</span>}
            </span>
            <span className="flex shrink-0 items-center gap-2 text-sm">
              <span className="rounded bg-slate-100 px-1.5 font-mono text-slate-700">{c.backend}</span>
              <span className={c.contribute ? 'text-emerald-700' : 'text-slate-500'}>{c.contribute ? t('offering') : t('idle')}</span>
            </span>
          </li>
        ))}
      </ul>
      {training.lastError && (
        <p className={cx(ui.hint, 'mt-3')} role="status">
          {t('error', { message: training.lastError })}
        </p>
      )}
    </section>
  );
}
