'use client';

import Link from 'next/link';
import { useRef, useSyncExternalStore } from 'react';
import { useFormatter, useNow, useTranslations } from 'use-intl';
import { forgetProject, myProjectsSnapshot, subscribeMyProjects, type MyProject } from '@/app/_lib/my-projects';
import { cx, ui } from './ui';

const ROLE_BADGE: Record<MyProject['role'], string> = {
  owner: 'bg-brand-100 text-brand-700',
  member: 'bg-emerald-50 text-emerald-700',
  viewer: 'bg-slate-100 text-slate-600',
};

/** Unknown on the server (the list lives in this browser's localStorage). */
const serverSnapshot = (): MyProject[] | null => null;

/** The projects this browser belongs to, most recently opened first: open or forget each. */
export function MyProjects() {
  const t = useTranslations('projects.mine');
  const roles = useTranslations('common.roles');
  const format = useFormatter();
  const now = useNow({ updateInterval: 60_000 });
  const projects = useSyncExternalStore<MyProject[] | null>(subscribeMyProjects, myProjectsSnapshot, serverSnapshot);
  const heading = useRef<HTMLHeadingElement>(null);

  const forget = (slug: string) => {
    forgetProject(slug);
    // The row and its button are gone: keep keyboard focus in the section.
    heading.current?.focus();
  };

  return (
    <section aria-labelledby="my-projects-title" className={ui.card} data-testid="my-projects" aria-busy={projects === null || undefined}>
      <h2 id="my-projects-title" ref={heading} tabIndex={-1} className={cx(ui.cardTitle, 'focus:outline-none')}>
        {t('title')}
      </h2>
      <p className={cx(ui.hint, 'mt-1')}>{t('hint')}</p>
      {projects === null ? (
        <div className="mt-3 h-12" />
      ) : projects.length === 0 ? (
        <p className="mt-3 rounded-lg border border-dashed border-slate-300 px-3 py-3 text-slate-600" data-testid="my-projects-empty">
          {t('empty')}
        </p>
      ) : (
        <>
          <ul className="mt-3 divide-y divide-slate-200">
            {projects.map((p) => {
              const name = p.name ?? p.slug;
              return (
                <li key={p.slug} data-testid="my-project" data-slug={p.slug} className="flex flex-wrap items-center gap-x-3 gap-y-2 py-3">
                  <div className="min-w-0 flex-1 basis-48">
                    <div className="flex min-w-0 items-center gap-2">
                      <Link href={`/p/${encodeURIComponent(p.slug)}`} className="truncate font-semibold text-slate-900 hover:text-brand-700 hover:underline">
                        {name}
                      </Link>
                      <span className={cx('shrink-0 rounded-full px-2 py-0.5 text-xs font-semibold', ROLE_BADGE[p.role])} data-testid="my-project-role">
                        {roles(p.role)}
                      </span>
                    </div>
                    <p className="text-sm text-slate-500">
                      <time dateTime={new Date(p.lastOpened).toISOString()}>{t('lastOpened', { when: format.relativeTime(p.lastOpened, now) })}</time>
                    </p>
                  </div>
                  <div className="flex shrink-0 gap-2">
                    <Link href={`/p/${encodeURIComponent(p.slug)}`} aria-label={t('openLabel', { name })} className={cx(ui.button, ui.secondary, 'px-3 py-1.5 text-sm')}>
                      {t('open')}
                    </Link>
                    <button
                      type="button"
                      data-testid="forget-project"
                      aria-label={t('forgetLabel', { name })}
                      className={cx(ui.button, ui.ghost, 'px-3 py-1.5 text-sm')}
                      onClick={() => forget(p.slug)}
                    >
                      {t('forget')}
                    </button>
                  </div>
                </li>
              );
            })}
          </ul>
          <p className={cx(ui.hint, 'mt-1')}>{t('forgetHint')}</p>
        </>
      )}
    </section>
  );
}
