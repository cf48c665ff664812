'use client';

import { useCallback } from 'react';
import { useTranslations } from 'use-intl';
import { ERRORS } from '@/server/protocol/errors';
import { ApiError } from './api';

/** What to show for a failure: a message key (common.errors.*) with its values, or text as is. */
export type ErrorText = { key: string; values?: Record<string, string | number> } | { text: string };

/**
 * Maps a thrown value to a translatable message: API errors by their code; a bad request keeps
 * the server's specific detail (which field, why); anything unknown falls back to its own text.
 * Pure, so it is unit-tested without React.
 */
export function errorText(error: unknown): ErrorText {
  if (error instanceof ApiError) {
    if (error.code === 'network') return { key: 'network' };
    if (error.code === 'unexpected') return error.status >= 400 ? { key: 'unexpectedStatus', values: { status: error.status } } : { key: 'unexpected' };
    if (error.code === 'rate_limited' && error.retryAfterS) return { key: 'rateLimitedWait', values: { seconds: error.retryAfterS } };
    const known = (ERRORS as Record<string, { message: string }>)[error.code];
    if (!known) return { text: error.message };
    if (error.code === 'bad_request' && error.message !== known.message) return { key: 'badRequestDetail', values: { detail: error.message } };
    return { key: error.code };
  }
  if (error instanceof Error) return { text: error.message };
  return { text: String(error) };
}

/** A function turning any thrown value into a message in the current language. */
export function useErrorText(): (error: unknown) => string {
  const t = useTranslations('common.errors');
  return useCallback(
    (error: unknown) => {
      const message = errorText(error);
      if ('text' in message) return message.text;
      // Keys are checked at runtime: a code added to the protocol later falls back to the server's text.
      const key = message.key as Parameters<typeof t>[0];
      if (!t.has(key)) return error instanceof Error ? error.message : String(error);
      return t(key, message.values as never);
    },
    [t],
  );
}
