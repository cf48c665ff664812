'use client';

import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { IntlProvider } from 'use-intl';
import { LOCALE_COOKIE, type Locale } from './locales';
import { MESSAGES, type Messages } from './messages';

interface LocaleControl {
  locale: Locale;
  setLocale: (locale: Locale) => void;
}

const LocaleContext = createContext<LocaleControl | null>(null);

/** Switches the UI language in place (no reload) and remembers it in a cookie for the server. */
export function useLocaleControl(): LocaleControl {
  const control = useContext(LocaleContext);
  if (!control) throw new Error('useLocaleControl needs <I18nProvider>');
  return control;
}

/**
 * Provides the messages of the current language to every client component (useTranslations).
 * The server picks the first language (root layout: cookie, else Accept-Language), so the first
 * paint is already in the right language.
 */
export function I18nProvider({ initialLocale, children }: { initialLocale: Locale; children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(initialLocale);
  const setLocale = useCallback((next: Locale) => {
    setLocaleState(next);
    document.cookie = `${LOCALE_COOKIE}=${encodeURIComponent(next)}; Path=/; Max-Age=31536000; SameSite=Lax`;
  }, []);
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  const control = useMemo(() => ({ locale, setLocale }), [locale, setLocale]);
  return (
    <LocaleContext.Provider value={control}>
      <IntlProvider locale={locale} messages={MESSAGES[locale] as Messages} onError={reportMissing} timeZone={timeZone()}>
        {children}
      </IntlProvider>
    </LocaleContext.Provider>
  );
}

function timeZone(): string {
  return typeof window === 'undefined' ? 'UTC' : Intl.DateTimeFormat().resolvedOptions().timeZone;
}

function reportMissing(error: Error): void {
  // A missing key is a bug the i18n unit test should have caught; never break the page over it.
  if (process.env.NODE_ENV !== 'production') console.error(error);
}
