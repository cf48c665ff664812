'use client';

import { useEffect, useId, useState, type FormEvent } from 'react';
import { useTranslations } from 'use-intl';
import { ApiError, api, rememberName, rememberedName } from '@/app/_lib/api';
import { useErrorText } from '@/app/_lib/error-text';
import { ChoiceCard, FormError, LabeledInput } from './form-parts';
import { cx, ui } from './ui';

type JoinRole = 'member' | 'viewer';
const ROLES: JoinRole[] = ['member', 'viewer'];

interface Props {
  initialCode?: string;
  /** Called with the joined project's slug. */
  onJoined: (slug: string) => void;
  submitLabel?: string;
  autoFocus?: boolean;
}

/**
 * Join a project with its code and a display name, as a participant (edits and trains) or to
 * watch only (a viewer); sets the project cookie.
 */
export function JoinForm({ initialCode = '', onJoined, submitLabel, autoFocus }: Props) {
  const t = useTranslations('project.join');
  const errorText = useErrorText();
  const id = useId();
  const [code, setCode] = useState(initialCode);
  const [name, setName] = useState('');
  const [role, setRole] = useState<JoinRole>('member');
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<{ field: 'code' | 'name' | null; message: string } | null>(null);

  useEffect(() => setName((n) => n || rememberedName()), []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (pending) return;
    const trimmedCode = code.trim().toUpperCase();
    if (!trimmedCode) return setError({ field: 'code', message: t('missingCode') });
    if (!name.trim()) return setError({ field: 'name', message: t('missingName') });
    setPending(true);
    setError(null);
    try {
      const joined = await api.join(trimmedCode, name.trim(), role);
      rememberName(name);
      onJoined(joined.slug);
    } catch (err) {
      const field = err instanceof ApiError && (err.code === 'wrong_code' || err.code === 'rate_limited') ? 'code' : err instanceof ApiError && /name/i.test(err.message) ? 'name' : null;
      setError({ field, message: errorText(err) });
      setPending(false);
    }
  }

  const errorId = `${id}-error`;
  return (
    <form onSubmit={submit} noValidate className="space-y-4" aria-busy={pending}>
      <LabeledInput
        id={`${id}-code`}
        label={t('code')}
        name="code"
        value={code}
        onChange={(e) => setCode(e.target.value)}
        placeholder={t('codePlaceholder')}
        autoComplete="off"
        autoCapitalize="characters"
        spellCheck={false}
        maxLength={16}
        autoFocus={autoFocus && !initialCode}
        invalid={error?.field === 'code'}
        errorId={error ? errorId : undefined}
        className="font-mono tracking-widest uppercase placeholder:font-sans placeholder:tracking-normal placeholder:normal-case"
      />
      <LabeledInput
        id={`${id}-name`}
        label={t('name')}
        name="name"
        value={name}
        onChange={(e) => setName(e.target.value)}
        placeholder={t('namePlaceholder')}
        autoComplete="nickname"
        maxLength={40}
        autoFocus={autoFocus && !!initialCode}
        invalid={error?.field === 'name'}
        errorId={error ? errorId : undefined}
      />
      <fieldset className="min-w-0 space-y-2">
        <legend className={cx(ui.label, 'mb-1.5')}>{t('roleLegend')}</legend>
        <div className="grid gap-2 sm:grid-cols-2">
          {ROLES.map((r) => (
            <ChoiceCard
              key={r}
              name="role"
              value={r}
              checked={role === r}
              onChange={() => setRole(r)}
              testId={`join-as-${r}`}
              title={t(`roles.${r}.title`)}
              hint={t(`roles.${r}.hint`)}
            />
          ))}
        </div>
      </fieldset>
      <FormError id={errorId} message={error?.message} />
      <button type="submit" disabled={pending} className={cx(ui.button, ui.primary, 'w-full')}>
        {pending ? t('pending') : (submitLabel ?? (role === 'viewer' ? t('submitWatch') : t('submit')))}
      </button>
    </form>
  );
}
