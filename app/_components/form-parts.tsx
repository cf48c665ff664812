'use client';

import type { InputHTMLAttributes } from 'react';
import { cx, ui } from './ui';

/** A labelled text input of the landing forms; `invalid` marks it for the form's error message `errorId`. */
export function LabeledInput({
  id,
  label,
  invalid,
  errorId,
  className,
  ...input
}: { id: string; label: string; invalid: boolean; errorId: string | undefined } & Omit<InputHTMLAttributes<HTMLInputElement>, 'id'>) {
  return (
    <div className="space-y-1.5">
      <label htmlFor={id} className={ui.label}>
        {label}
      </label>
      <input id={id} {...input} aria-invalid={invalid || undefined} aria-describedby={errorId} className={cx(ui.input, className)} />
    </div>
  );
}

/** One option of a radio group, as a card with a title and a line of explanation. */
export function ChoiceCard({ checked, title, hint, testId, ...radio }: { checked: boolean; title: string; hint: string; testId: string } & Omit<InputHTMLAttributes<HTMLInputElement>, 'type' | 'checked'>) {
  return (
    <label
      className={cx(
        'flex cursor-pointer items-start gap-2.5 rounded-lg border px-3 py-2.5 text-sm has-focus-visible:ring-3 has-focus-visible:ring-brand-100',
        checked ? 'border-brand-500 bg-brand-50' : 'border-slate-300 bg-white hover:bg-slate-50',
      )}
    >
      <input type="radio" checked={checked} data-testid={testId} {...radio} className="mt-1 h-4 w-4 shrink-0 accent-brand-600" />
      <span className="min-w-0">
        <span className="block font-semibold text-slate-900">{title}</span>
        <span className="block text-slate-600">{hint}</span>
      </span>
    </label>
  );
}

/** The form's error line, announced; inputs point at it with aria-describedby. */
export function FormError({ id, message }: { id: string; message: string | null | undefined }) {
  if (!message) return null;
  return (
    <p id={id} role="alert" className={ui.error}>
      {message}
    </p>
  );
}
