import type { Locale } from './locales';
import type { Messages } from './messages';

// Typed keys: useTranslations('ns')('key') fails type-checking when English lacks the key.
declare module 'use-intl' {
  interface AppConfig {
    Locale: Locale;
    Messages: Messages;
  }
}
