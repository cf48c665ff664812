'use client';

import Link from 'next/link';
import type { ReactNode } from 'react';
import { CopyButton } from './CopyButton';

const T = {
  brand: 'cotrain',
  joinCode: 'Join code',
  copyCode: 'Copy code',
  copyLink: 'Copy invite link',
  you: (name: string, role: string) => `Signed in as ${name} (${role})`,
};

interface Props {
  slug: string;
  name: string | null;
  joinCode: string | null;
  member: { name: string; role: 'owner' | 'member' | 'viewer' };
  status: ReactNode;
}

/** Project name, join code and invite link (both copyable), who I am, and connection status. */
export function ProjectHeader({ slug, name, joinCode, member, status }: Props) {
  const origin = typeof window === 'undefined' ? '' : window.location.origin;
  const shareLink = `${origin}/p/${encodeURIComponent(slug)}${joinCode ? `?code=${encodeURIComponent(joinCode)}` : ''}`;
  return (
    <header className="border-b border-slate-200 bg-white">
      <div className="mx-auto flex max-w-7xl flex-col gap-3 px-4 py-4 sm:px-6 lg:flex-row lg:items-center lg:justify-between">
        <div className="min-w-0">
          <Link href="/" className="text-xs font-bold tracking-widest text-brand-600 uppercase hover:text-brand-700">
            {T.brand}
          </Link>
          <h1 className="truncate text-2xl font-bold tracking-tight sm:text-3xl" data-testid="project-name">
            {name ?? slug}
          </h1>
          <p className="text-sm text-slate-500">{T.you(member.name, member.role)}</p>
        </div>
        <div className="flex flex-col gap-2 lg:items-end">
          <div className="flex flex-wrap items-center gap-2">
            {joinCode && (
              <div className="inline-flex items-center gap-2 rounded-lg border border-brand-100 bg-brand-50 py-1 pr-1 pl-3">
                <span className="text-sm text-slate-600">{T.joinCode}</span>
                <code data-testid="join-code" className="font-mono text-xl font-bold tracking-widest text-brand-700">
                  {joinCode}
                </code>
                <CopyButton text={joinCode} label={T.copyCode} testId="copy-code" />
              </div>
            )}
            <CopyButton text={shareLink} label={T.copyLink} testId="copy-link" />
          </div>
          {status}
        </div>
      </div>
    </header>
  );
}
