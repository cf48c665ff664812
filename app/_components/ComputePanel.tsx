'use client';

import type { Training } from '@/app/_lib/useTraining';
import { cx, ui } from './ui';

const T = {
  title: 'Compute',
  mine: 'This browser',
  probing: 'Testing this browser’s speed…',
  unavailable: 'This browser cannot train:',
  backend: 'Backend',
  probe: 'Probe',
  rounds: 'Rounds trained',
  time: 'Compute time',
  samples: 'Samples',
  busy: 'Training a round now…',
  contribute: 'Contribute my compute',
  contributeHint: 'When on, the server gives this browser a share of each round’s data.',
  clients: 'Connected trainers',
  noClients: 'No trainers connected.',
  you: 'you',
  idle: 'watching',
  offering: 'contributing',
  error: 'Last problem:',
};

function ms(value: number): string {
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(1)} s`;
}

/** This browser's backend and contribution, the contribute toggle, and everyone training. */
export function ComputePanel({ training }: { training: Training }) {
  const { compute, contributed, clients, clientId } = training;
  const ready = compute.phase === 'ready';
  const on = ready && training.contribute;
  return (
    <section className={ui.card} aria-labelledby="compute-title">
      <h2 id="compute-title" className={ui.cardTitle}>
        {T.title}
      </h2>

      <div className="mt-3 rounded-lg bg-slate-50 p-3">
        <p className="text-sm font-semibold text-slate-700">{T.mine}</p>
        {compute.phase === 'probing' && <p className={cx(ui.hint, 'mt-1')}>{T.probing}</p>}
        {compute.phase === 'unavailable' && (
          <p className={cx(ui.error, 'mt-1')}>
            {T.unavailable} {compute.reason}
          </p>
        )}
        {ready && (
          <dl className="mt-2 grid grid-cols-2 gap-x-4 gap-y-1 text-sm sm:grid-cols-3" data-testid="own-compute">
            <div>
              <dt className="text-slate-500">{T.backend}</dt>
              <dd className="font-mono font-semibold" data-testid="own-backend">
                {compute.backend}
              </dd>
            </div>
            <div>
              <dt className="text-slate-500">{T.probe}</dt>
              <dd className="font-semibold tabular-nums">{ms(compute.probeMs)}</dd>
            </div>
            <div>
              <dt className="text-slate-500">{T.rounds}</dt>
              <dd className="font-semibold tabular-nums" data-testid="own-rounds">
                {contributed.rounds}
              </dd>
            </div>
            <div>
              <dt className="text-slate-500">{T.time}</dt>
              <dd className="font-semibold tabular-nums">{ms(contributed.computeMs)}</dd>
            </div>
            <div>
              <dt className="text-slate-500">{T.samples}</dt>
              <dd className="font-semibold tabular-nums">{contributed.samples.toLocaleString('en')}</dd>
            </div>
          </dl>
        )}
        <p className="mt-1 min-h-5 text-sm text-brand-700" aria-live="polite">
          {contributed.training ? T.busy : ''}
        </p>
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
          <span className="block font-medium">{T.contribute}</span>
          <span className={ui.hint}>{T.contributeHint}</span>
        </span>
      </label>

      <h3 className="mt-5 text-sm font-bold tracking-wide text-slate-500 uppercase">
        {T.clients} · {clients.length}
      </h3>
      <ul className="mt-2 divide-y divide-slate-100" data-testid="training-clients">
        {clients.length === 0 && <li className={ui.hint}>{T.noClients}</li>}
        {clients.map((c) => (
          <li key={c.clientId} className="flex items-center justify-between gap-3 py-1.5" data-testid="training-client" data-contribute={c.contribute}>
            <span className="min-w-0 truncate">
              <span className="font-medium">{c.name}</span>
              {c.clientId === clientId && <span className="text-sm text-slate-500"> ({T.you})</span>}
            </span>
            <span className="flex shrink-0 items-center gap-2 text-sm">
              <span className="rounded bg-slate-100 px-1.5 font-mono text-slate-700">{c.backend}</span>
              <span className={c.contribute ? 'text-emerald-700' : 'text-slate-500'}>{c.contribute ? T.offering : T.idle}</span>
            </span>
          </li>
        ))}
      </ul>
      {training.lastError && (
        <p className={cx(ui.hint, 'mt-3')} role="status">
          {T.error} {training.lastError}
        </p>
      )}
    </section>
  );
}
