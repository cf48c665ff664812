'use client';

import Link from 'next/link';
import type { ReactNode } from 'react';
import { useTranslations } from 'use-intl';
import { LanguageSwitcher } from '@/app/_i18n/LanguageSwitcher';
import { joinLink, resolvePublicBase } from '@/server/http/public-url';
import { CopyButton } from './CopyButton';

interface Props {
  slug: string;
  name: string | null;
  joinCode: string | null;
  /** PUBLIC_URL from the server; the invite link falls back to this page's origin. */
  publicUrl: string | null;
  member: { name: string; role: 'owner' | 'member' | 'viewer' };
  status: ReactNode;
}

/** Project name, join code and invite link (both copyable), who I am, language, and connection status. */
export function ProjectHeader({ slug, name, joinCode, publicUrl, member, status }: Props) {
  const t = useTranslations('project.header');
  const roles = useTranslations('common.roles');
  const origin = typeof window === 'undefined' ? '' : window.location.origin;
  const shareLink = joinLink(resolvePublicBase(publicUrl, origin).base, slug, joinCode);
  return (
    <header className="border-b border-slate-200 bg-white">
      <div className="mx-auto flex max-w-7xl flex-col gap-3 px-4 py-4 sm:px-6 lg:flex-row lg:items-center lg:justify-between">
        <div className="min-w-0">
          <div className="flex items-center justify-between gap-3">
            <Link href="/" className="text-xs font-bold tracking-widest text-brand-600 uppercase hover:text-brand-700">
              cotrain
            </Link>
            <LanguageSwitcher />
          </div>
          <h1 className="truncate text-2xl font-bold tracking-tight sm:text-3xl" data-testid="project-name">
            {name ?? slug}
          </h1>
          <p className="text-sm text-slate-500" data-testid="signed-in-as" data-role={member.role}>
            {t('you', { name: member.name, role: roles(member.role) })}
          </p>
        </div>
        <div className="flex flex-col gap-2 lg:items-end">
          <div className="flex flex-wrap items-center gap-2">
            {joinCode && (
              <div className="inline-flex items-center gap-2 rounded-lg border border-brand-100 bg-brand-50 py-1 pr-1 pl-3">
                <span className="text-sm text-slate-600">{t('joinCode')}</span>
                <code data-testid="join-code" className="font-mono text-xl font-bold tracking-widest text-brand-700">
                  {joinCode}
                </code>
                <CopyButton text={joinCode} label={t('copyCode')} testId="copy-code" />
              </div>
            )}
            <CopyButton text={shareLink} label={t('copyLink')} testId="copy-link" />
          </div>
          {status}
        </div>
      </div>
    </header>
  );
}
