'use client';

import Link from 'next/link';
import { useTranslations } from 'use-intl';
import { LanguageSwitcher } from '@/app/_i18n/LanguageSwitcher';
import { CreateProjectForm } from './CreateProjectForm';
import { LandingJoin } from './LandingJoin';
import { MyProjects } from './MyProjects';
import { ui, cx } from './ui';

/** The join code of the demo project the server seeds. */
const DEMO_CODE = 'DEMO42';
const STEPS = ['edit', 'train', 'watch'] as const;

/** The start page: what cotrain is, my projects, create, join, and the demo. */
export function LandingPage() {
  const t = useTranslations('landing');
  const common = useTranslations('common');
  return (
    <main className="mx-auto max-w-5xl px-4 py-6 sm:px-6 sm:py-10">
      <div className="flex items-center justify-between gap-3">
        <p className="text-sm font-bold tracking-widest text-brand-600 uppercase">{common('brand')}</p>
        <LanguageSwitcher />
      </div>
      <header className="mt-4 max-w-3xl sm:mt-8">
        <h1 className="text-3xl font-bold tracking-tight text-balance text-slate-900 sm:text-5xl">{t('title')}</h1>
        <p className="mt-4 text-lg text-pretty text-slate-600">{t('lead')}</p>
        <ol className="mt-6 grid gap-2 sm:grid-cols-3">
          {STEPS.map((step, i) => (
            <li key={step} className="flex items-start gap-2 text-slate-700">
              <span className="mt-0.5 inline-flex h-6 w-6 shrink-0 items-center justify-center rounded-full bg-brand-100 text-sm font-bold text-brand-700">
                {i + 1}
              </span>
              <span>{t(`steps.${step}`)}</span>
            </li>
          ))}
        </ol>
      </header>

      <div className="mt-10">
        <MyProjects />
      </div>

      <div className="mt-6 grid gap-6 md:grid-cols-2">
        <section aria-labelledby="create-title" className={ui.card}>
          <h2 id="create-title" className={ui.cardTitle}>
            {t('createTitle')}
          </h2>
          <p className={cx(ui.hint, 'mt-1 mb-4')}>{t('createHint')}</p>
          <CreateProjectForm />
        </section>
        <section aria-labelledby="join-title" className={ui.card}>
          <h2 id="join-title" className={ui.cardTitle}>
            {t('joinTitle')}
          </h2>
          <p className={cx(ui.hint, 'mt-1 mb-4')}>{t('joinHint')}</p>
          <LandingJoin />
        </section>
      </div>

      <aside className="mt-6 flex flex-col gap-3 rounded-xl border border-brand-100 bg-brand-50 p-4 sm:flex-row sm:items-center sm:justify-between sm:p-5">
        <p className="text-slate-700">
          <span className="font-semibold text-slate-900">{t('demoTitle')}</span>{' '}
          {t.rich('demoText', {
            code: DEMO_CODE,
            mono: (chunks) => <code className="rounded bg-white px-1.5 py-0.5 font-mono font-semibold tracking-wider text-brand-700">{chunks}</code>,
          })}
        </p>
        <Link href="/p/demo" className={cx(ui.button, ui.secondary, 'shrink-0')}>
          {t('demoLink')}
          <span aria-hidden>→</span>
        </Link>
      </aside>
    </main>
  );
}
