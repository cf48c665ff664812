'use client';

import { useTranslations } from 'use-intl';
import { uniqueMembers, type Peer } from '@/app/_lib/presence';
import { ui } from './ui';

/** People with the project open right now (one entry per member), from Yjs awareness. */
export function OnlineList({ peers }: { peers: Peer[] }) {
  const t = useTranslations('project.online');
  const roles = useTranslations('common.roles');
  const members = uniqueMembers(peers);
  return (
    <section className={ui.card} aria-labelledby="online-title">
      <h2 id="online-title" className={ui.cardTitle}>
        {t('title')} <span className="font-normal text-slate-500">· {members.length}</span>
      </h2>
      <ul data-testid="online-list" className="mt-3 flex flex-wrap gap-2">
        {members.length === 0 && <li className={ui.hint}>{t('empty')}</li>}
        {members.map((p) => (
          <li
            key={p.user.memberId}
            data-testid="online-member"
            data-self={p.isSelf || undefined}
            data-role={p.user.role}
            className="inline-flex max-w-full items-center gap-2 rounded-full border border-slate-200 bg-slate-50 py-1 pr-3 pl-2"
          >
            <span aria-hidden className="h-3 w-3 shrink-0 rounded-full" style={{ backgroundColor: p.user.color }} />
            <span className="truncate font-medium">{p.user.name}</span>
            {p.isSelf && <span className="text-sm text-slate-500">{t('you')}</span>}
            {p.user.role === 'owner' && <span className="rounded bg-amber-100 px-1.5 text-xs font-semibold text-amber-800">{roles('owner')}</span>}
            {p.user.role === 'viewer' && <span className="rounded bg-slate-200 px-1.5 text-xs font-semibold text-slate-700">{roles('viewer')}</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}
