'use client';

import Link from 'next/link';
import { useTranslations } from 'use-intl';
import { LanguageSwitcher } from '@/app/_i18n/LanguageSwitcher';

/** The top line of the small pages (join, claim): the brand, linking home, and the language switcher. */
export function BrandBar() {
  const common = useTranslations('common');
  return (
    <div className="mb-6 flex items-center justify-between gap-3">
      <Link href="/" className="text-sm font-bold tracking-widest text-brand-600 uppercase">
        {common('brand')}
      </Link>
      <LanguageSwitcher />
    </div>
  );
}
