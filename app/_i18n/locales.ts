/** The languages the UI ships in, and how the first one is picked. Pure: no React, no Next. */
export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';
/** Cookie holding the language the person picked (read by the root layout on the server). */
export const LOCALE_COOKIE = 'cotrain_lang';

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/**
 * The language for a request: the picked one (cookie) if valid, else the best match of the
 * browser's languages (Accept-Language, in q order), else English. Any zh-* except the
 * traditional variants maps to Simplified Chinese.
 */
export function pickLocale(cookie: string | undefined, acceptLanguage: string | null | undefined): Locale {
  if (isLocale(cookie)) return cookie;
  const wanted = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { tag: tag.trim().toLowerCase(), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((l) => l.tag && l.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of wanted) {
    if (tag === 'en' || tag.startsWith('en-')) return 'en';
    if (tag === 'zh' || (tag.startsWith('zh-') && !/^zh-(hant|tw|hk|mo)/.test(tag))) return 'zh-CN';
  }
  return DEFAULT_LOCALE;
}
