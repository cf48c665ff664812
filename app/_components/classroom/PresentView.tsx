'use client';

import Link from 'next/link';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslations } from 'use-intl';
import type { MemberInfo, RunStatus } from '@/server/protocol';
import { displayLink, joinLink, resolvePublicBase } from '@/server/http/public-url';
import { api, type ProjectInfo, type Ticket } from '@/app/_lib/api';
import { useCollab } from '@/app/_lib/useCollab';
import { useGlobalModel } from '@/app/_lib/useGlobalModel';
import { DecisionBoundary } from '../explain/DecisionBoundary';
import { ConfusionView } from '../explain/ExplainPanel';
import { MetricsChart } from '../MetricsChart';
import { cx } from '../ui';
import { JoinQr } from './JoinQr';
import { projectorRoster } from './roster';
import { useWatchTraining } from './useWatchTraining';

/** What to set so phones can reach this server: the page's port on the laptop's network address. */
function publicUrlExample(origin: string): string {
  const url = new URL(origin);
  return `PUBLIC_URL=${url.protocol}//<laptop-ip>${url.port ? `:${url.port}` : ''}`;
}

/** Project info (join code, public URL) is refetched this often besides on members changes. */
const INFO_REFRESH_MS = 30_000;

/**
 * The projector: how to join (link, very large code, QR code), who is here, and the shared
 * model learning (held-out chart, decision boundary). Watch-only on both channels: a read-only
 * Yjs connection that publishes no presence, and a training connection that never trains.
 */
export function PresentView({ slug, ticket }: { slug: string; ticket: Ticket }) {
  const t = useTranslations('classroom.present');
  const tr = useTranslations('training.panel');
  const collab = useCollab(slug, ticket, { watch: true });
  const training = useWatchTraining(slug, true);
  const model = useGlobalModel(training);
  const [info, setInfo] = useState<ProjectInfo | null>(null);
  const [members, setMembers] = useState<MemberInfo[] | null>(null);
  const [origin, setOrigin] = useState('');
  useEffect(() => setOrigin(window.location.origin), []);

  const membersRev = collab.room?.membersRev ?? 0;
  const refresh = useCallback(() => {
    api.project(slug).then(setInfo, () => undefined);
    api.members(slug).then((r) => setMembers(r.members), () => undefined);
  }, [slug]);
  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, INFO_REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh, membersRev]);

  const peers = useMemo(() => collab.peers.map((p) => ({ memberId: p.user.memberId, name: p.user.name, role: p.user.role })), [collab.peers]);
  const roster = projectorRoster(peers, training.clients, members);
  // Someone the member list does not know yet (just joined): fetch it, so renames and hiding apply.
  const unknownKey = [...peers.map((p) => p.memberId), ...training.clients.map((c) => c.clientId.split(':')[0])]
    .filter((id) => members && !members.some((m) => m.id === id))
    .sort()
    .join(',');
  useEffect(() => {
    if (unknownKey) api.members(slug).then((r) => setMembers(r.members), () => undefined);
  }, [slug, unknownKey]);

  const base = origin ? resolvePublicBase(info?.publicUrl, origin) : null;
  const code = info?.project.joinCode ?? null;
  const link = base ? joinLink(base.base, slug, code) : null;
  const run = training.run;
  const status: RunStatus | 'none' = run?.status ?? 'none';
  const spec = run?.spec ?? null;

  return (
    <main className="grid min-h-dvh grid-cols-[minmax(0,1fr)] gap-6 bg-white p-4 text-slate-900 sm:p-8 lg:h-dvh lg:grid-cols-[minmax(0,5fr)_minmax(0,7fr)] lg:grid-rows-[minmax(0,1fr)] lg:overflow-hidden 2xl:gap-10 2xl:p-12">
      <section aria-labelledby="present-join" className="flex min-h-0 flex-col gap-4 rounded-3xl bg-brand-50 p-5 sm:p-8 2xl:gap-6 2xl:p-10">
        <h1 id="present-join" className="text-3xl font-bold tracking-tight lg:text-4xl 2xl:text-5xl">
          {t('joinTitle')}
        </h1>
        <div>
          <p className="text-lg text-slate-600 lg:text-xl 2xl:text-2xl">{t('openLink')}</p>
          <p data-testid="present-link" className="font-mono text-2xl font-semibold break-all text-slate-900 lg:text-3xl 2xl:text-4xl">
            {link ? displayLink(link) : '\u00a0'}
          </p>
        </div>
        <div>
          <p className="text-lg text-slate-600 lg:text-xl 2xl:text-2xl">{t('enterCode')}</p>
          <p data-testid="present-code" className="font-mono text-[clamp(2.75rem,11vw,9.5rem)] leading-none font-black tracking-[0.1em] text-brand-700 lg:text-[clamp(3rem,5.6vw,9.5rem)]">
            {code ?? '\u00a0'}
          </p>
        </div>
        {/* On a big screen the QR code takes the height left in the column (the warning may need some). */}
        <div className="min-h-0 lg:flex-1">
          {link && <JoinQr link={link} label={t('qrLabel', { link })} className="aspect-square w-[min(100%,20rem)] lg:aspect-auto lg:h-full lg:w-[min(100%,32rem)]" />}
        </div>
        {base?.loopback && (
          <div role="alert" data-testid="localhost-warning" className="rounded-xl border border-amber-300 bg-amber-50 px-4 py-3 text-amber-900 lg:text-lg">
            <p className="font-semibold">{t('localhostTitle')}</p>
            <p className="mt-1">{t.rich('localhostText', { example: publicUrlExample(origin), env: (chunks) => <code className="font-mono font-semibold">{chunks}</code> })}</p>
          </div>
        )}
      </section>

      <section aria-labelledby="present-project" className="flex min-h-0 flex-col gap-5 2xl:gap-7">
        <header className="flex flex-wrap items-baseline justify-between gap-x-6 gap-y-2">
          <h2 id="present-project" className="truncate text-3xl font-bold tracking-tight lg:text-4xl 2xl:text-5xl">
            {info?.project.name ?? slug}
          </h2>
          <p className="text-xl text-slate-600 tabular-nums lg:text-2xl 2xl:text-3xl" data-testid="present-status" data-status={status}>
            {tr(`status.${status}`)}
            {run && <span className="ml-3 font-semibold text-slate-900">{tr('round', { round: run.round, total: run.totalRounds })}</span>}
          </p>
        </header>

        <div className="flex flex-wrap items-center gap-x-6 gap-y-3">
          <p className="flex items-baseline gap-3" data-testid="participant-count" data-count={roster.count} aria-live="polite">
            <span className="text-6xl font-black text-brand-700 tabular-nums 2xl:text-7xl">{roster.count}</span>
            <span className="text-2xl text-slate-700 2xl:text-3xl">{t('participants', { count: roster.count })}</span>
          </p>
          <ul data-testid="present-names" className="flex max-h-28 min-w-0 flex-1 flex-wrap gap-2 overflow-hidden 2xl:max-h-32">
            {members &&
              roster.shown.map((p) => (
                <li key={p.memberId} data-testid="present-name" className="max-w-[16rem] truncate rounded-full bg-slate-100 px-3 py-1 text-lg font-medium 2xl:text-xl">
                  {p.name}
                </li>
              ))}
            {roster.hidden > 0 && <li className="rounded-full border border-dashed border-slate-300 px-3 py-1 text-lg text-slate-500 2xl:text-xl">{t('hiddenNames', { count: roster.hidden })}</li>}
            {roster.count === 0 && <li className="text-xl text-slate-500">{t('nobody')}</li>}
          </ul>
        </div>

        <div className="grid min-h-0 grid-cols-[minmax(0,1fr)] items-start gap-6 xl:grid-cols-[minmax(0,1fr)_auto]">
          <div>
            <h3 className="mb-2 text-xl font-semibold text-slate-700 2xl:text-2xl">{t('chartTitle')}</h3>
            {/* The chart has a fixed height; on big screens it is zoomed as a whole, text included. */}
            <div className="2xl:[zoom:1.3]">
              <MetricsChart history={training.history} totalRounds={run?.totalRounds ?? 0} />
            </div>
          </div>
          <div className="w-full xl:w-[min(26vw,30rem)]">
            <h3 className="mb-2 text-xl font-semibold text-slate-700 2xl:text-2xl">{spec?.dataset.name === 'mnist' ? t('confusionTitle') : t('boundaryTitle')}</h3>
            {spec?.dataset.name === 'mnist' ? (
              <ConfusionView model={model} />
            ) : (
              <DecisionBoundary model={model} maxSize={480} interactive={false} />
            )}
          </div>
        </div>
        <p className="mt-auto flex flex-wrap justify-between gap-2 text-sm text-slate-500">
          <span className={cx(!training.connected && 'text-rose-700')}>{training.connected ? t('live') : t('offline')}</span>
          <Link href={`/p/${encodeURIComponent(slug)}`} className="underline hover:text-slate-800">
            {t('back')}
          </Link>
        </p>
      </section>
    </main>
  );
}
