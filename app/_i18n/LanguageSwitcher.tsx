'use client';

import { useTranslations } from 'use-intl';
import { isLocale, LOCALES } from './locales';
import { useLocaleControl } from './I18nProvider';
import { MESSAGES } from './messages';

/** A small select of the UI languages, each named in its own language. */
export function LanguageSwitcher({ className }: { className?: string }) {
  const t = useTranslations('common');
  const { locale, setLocale } = useLocaleControl();
  return (
    <label className={className ?? 'inline-flex items-center gap-1 text-sm text-slate-600'}>
      <span className="sr-only">{t('language')}</span>
      <svg aria-hidden viewBox="0 0 20 20" className="h-4 w-4 fill-current">
        <path d="M10 2a8 8 0 100 16 8 8 0 000-16zm5.9 7h-2.4a12.6 12.6 0 00-1-4.4A6 6 0 0115.9 9zM10 4c.7.9 1.4 2.6 1.5 5h-3c.1-2.4.8-4.1 1.5-5zM7.5 4.6A12.6 12.6 0 006.5 9H4.1a6 6 0 013.4-4.4zM4.1 11h2.4c.1 1.7.5 3.2 1 4.4A6 6 0 014.1 11zm5.9 5c-.7-.9-1.4-2.6-1.5-5h3c-.1 2.4-.8 4.1-1.5 5zm2.5-.6c.5-1.2.9-2.7 1-4.4h2.4a6 6 0 01-3.4 4.4z" />
      </svg>
      <select
        data-testid="language"
        value={locale}
        onChange={(e) => isLocale(e.target.value) && setLocale(e.target.value)}
        className="rounded-md border border-slate-300 bg-white py-1 pr-7 pl-2 text-sm"
      >
        {LOCALES.map((l) => (
          <option key={l} value={l} lang={l}>
            {(MESSAGES[l].common as { languageName: string }).languageName}
          </option>
        ))}
      </select>
    </label>
  );
}
