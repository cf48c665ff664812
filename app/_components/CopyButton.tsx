'use client';

import { useEffect, useState } from 'react';
import { useTranslations } from 'use-intl';
import { cx, ui } from './ui';

async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  // Plain-HTTP fallback (e.g. a LAN address on a projector machine).
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('copy failed');
}

/** Copies a text and says so for a moment. */
export function CopyButton({ text, label, testId, className }: { text: string; label: string; testId?: string; className?: string }) {
  const t = useTranslations('common');
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), 1800);
    return () => clearTimeout(timer);
  }, [state]);
  return (
    <button
      type="button"
      data-testid={testId}
      className={cx(ui.button, ui.secondary, 'px-3 py-1.5 text-sm', className)}
      onClick={() => copyText(text).then(() => setState('copied'), () => setState('failed'))}
    >
      <span aria-live="polite">{state === 'copied' ? `✓ ${t('copied')}` : state === 'failed' ? t('copyFailed') : label}</span>
    </button>
  );
}
