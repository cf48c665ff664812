'use client';

import { useEffect, useId, useState, type FormEvent } from 'react';
import { api, errorMessage, rememberName, rememberedName } from '@/app/_lib/api';
import { cx, ui } from './ui';

const T = {
  code: 'Join code',
  codePlaceholder: 'e.g. DEMO42',
  name: 'Your display name',
  namePlaceholder: 'e.g. Ada',
  submit: 'Join project',
  pending: 'Joining…',
  missingCode: 'Enter the join code you were given.',
  missingName: 'Enter a display name so others know who you are.',
};

interface Props {
  initialCode?: string;
  /** Called with the joined project's slug. */
  onJoined: (slug: string) => void;
  submitLabel?: string;
  autoFocus?: boolean;
}

/** Join a project with its code and a display name; sets the project cookie. */
export function JoinForm({ initialCode = '', onJoined, submitLabel = T.submit, autoFocus }: Props) {
  const id = useId();
  const [code, setCode] = useState(initialCode);
  const [name, setName] = useState('');
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<{ field: 'code' | 'name' | null; message: string } | null>(null);

  useEffect(() => setName((n) => n || rememberedName()), []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (pending) return;
    const trimmedCode = code.trim().toUpperCase();
    if (!trimmedCode) return setError({ field: 'code', message: T.missingCode });
    if (!name.trim()) return setError({ field: 'name', message: T.missingName });
    setPending(true);
    setError(null);
    try {
      const joined = await api.join(trimmedCode, name.trim());
      rememberName(name);
      onJoined(joined.slug);
    } catch (err) {
      const message = errorMessage(err);
      setError({ field: /code/i.test(message) ? 'code' : /name/i.test(message) ? 'name' : null, message });
      setPending(false);
    }
  }

  const errorId = `${id}-error`;
  return (
    <form onSubmit={submit} noValidate className="space-y-4" aria-busy={pending}>
      <div className="space-y-1.5">
        <label htmlFor={`${id}-code`} className={ui.label}>
          {T.code}
        </label>
        <input
          id={`${id}-code`}
          name="code"
          value={code}
          onChange={(e) => setCode(e.target.value)}
          placeholder={T.codePlaceholder}
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          maxLength={16}
          autoFocus={autoFocus && !initialCode}
          aria-invalid={error?.field === 'code' || undefined}
          aria-describedby={error ? errorId : undefined}
          className={cx(ui.input, 'font-mono tracking-widest uppercase placeholder:font-sans placeholder:tracking-normal placeholder:normal-case')}
        />
      </div>
      <div className="space-y-1.5">
        <label htmlFor={`${id}-name`} className={ui.label}>
          {T.name}
        </label>
        <input
          id={`${id}-name`}
          name="name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder={T.namePlaceholder}
          autoComplete="nickname"
          maxLength={40}
          autoFocus={autoFocus && !!initialCode}
          aria-invalid={error?.field === 'name' || undefined}
          aria-describedby={error ? errorId : undefined}
          className={ui.input}
        />
      </div>
      {error && (
        <p id={errorId} role="alert" className={ui.error}>
          {error.message}
        </p>
      )}
      <button type="submit" disabled={pending} className={cx(ui.button, ui.primary, 'w-full')}>
        {pending ? T.pending : submitLabel}
      </button>
    </form>
  );
}
