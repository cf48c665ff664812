import type { Metadata, Viewport } from 'next';
import { cookies, headers } from 'next/headers';
import type { ReactNode } from 'react';
import { I18nProvider } from './_i18n/I18nProvider';
import { LOCALE_COOKIE, pickLocale } from './_i18n/locales';
import 'uplot/dist/uPlot.min.css';
import './globals.css';

// Metadata is not UI text people read in the page; it stays English (search engines, tabs).
export const metadata: Metadata = {
  title: { default: 'cotrain — train a neural network together', template: '%s · cotrain' },
  description: 'Co-edit a model spec live and train it federated across everyone’s browsers.',
};

export const viewport: Viewport = {
  width: 'device-width',
  initialScale: 1,
  themeColor: '#4f46e5',
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // The picked language (cookie), else the browser's (Accept-Language): right from the first paint.
  const locale = pickLocale((await cookies()).get(LOCALE_COOKIE)?.value, (await headers()).get('accept-language'));
  return (
    <html lang={locale}>
      <body className="min-h-dvh">
        <I18nProvider initialLocale={locale}>{children}</I18nProvider>
      </body>
    </html>
  );
}
