'use client';

import { useId, useRef, useState, type CSSProperties, type KeyboardEvent, type ReactNode } from 'react';
import { useFormatter, useTranslations } from 'use-intl';
import type { Peer } from '@/app/_lib/presence';
import { cx, ui } from './ui';

/** What every bound field needs from the editor: presence and problems for its path. */
export interface FieldContext {
  /** Other people editing this field right now. */
  editors: Peer[];
  problems: string[];
  /** Announces (path) or clears (null) what this browser is editing. */
  setEditing: (path: string | null) => void;
  disabled?: boolean;
}

/** A coloured ring in the colour of whoever else is editing a field. */
export function presenceRing(editors: Peer[]): CSSProperties | undefined {
  const first = editors[0];
  return first ? { boxShadow: `0 0 0 3px ${first.user.color}` } : undefined;
}

/** Small name tags of the people editing a field. */
export function EditorTags({ editors }: { editors: Peer[] }) {
  const t = useTranslations('spec.input');
  const format = useFormatter();
  if (editors.length === 0) return null;
  return (
    <span className="flex min-w-0 gap-1" aria-label={t('editedBy', { names: format.list(editors.map((e) => e.user.name), { type: 'conjunction' }) })}>
      {editors.slice(0, 2).map((e) => (
        <span
          key={e.clientId}
          data-testid="editing-tag"
          className="truncate rounded-full px-2 py-px text-xs leading-5 font-semibold text-white"
          style={{ backgroundColor: e.user.color }}
        >
          {e.user.name}
        </span>
      ))}
    </span>
  );
}

export function Problems({ id, problems, local }: { id: string; problems: string[]; local?: string | null }) {
  const all = local ? [local, ...problems.filter((p) => p !== local)] : problems;
  if (all.length === 0) return null;
  return (
    <p id={id} className={cx(ui.error, 'mt-1')} data-testid="field-problem">
      {all.join(' · ')}
    </p>
  );
}

function Shell({ id, label, ctx, children, problemId, local }: { id: string; label: string; ctx: FieldContext; children: ReactNode; problemId: string; local?: string | null }) {
  return (
    <div className="min-w-0">
      <div className="mb-1 flex min-h-6 items-center justify-between gap-2">
        <label htmlFor={id} className={ui.label}>
          {label}
        </label>
        <EditorTags editors={ctx.editors} />
      </div>
      {children}
      <Problems id={problemId} problems={ctx.problems} local={local} />
    </div>
  );
}

function format(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : '';
}

interface NumberProps {
  path: string;
  label: string;
  value: unknown;
  kind: 'int' | 'number';
  min: number;
  max: number;
  onCommit: (value: number) => void;
  ctx: FieldContext;
  unit?: string;
}

/**
 * A number bound to the shared document. While focused it keeps a local draft, so remote edits
 * never overwrite what the user is typing; valid values are written as they are typed, and on
 * blur or Enter whatever number was typed is written (the spec's validation then flags it).
 */
export function NumberField({ path, label, value, kind, min, max, onCommit, ctx, unit }: NumberProps) {
  const t = useTranslations('spec.input');
  const id = useId();
  const [draft, setDraft] = useState<string | null>(null);
  // Only a draft the user typed into is written on blur; an untouched one must not undo a
  // change someone else made while this field had focus.
  const edited = useRef(false);
  const parse = (text: string): number | null => {
    if (text.trim() === '') return null;
    const n = Number(text.replace(',', '.'));
    return Number.isFinite(n) ? n : null;
  };
  const valid = (n: number | null): n is number => n !== null && n >= min && n <= max && (kind === 'number' || Number.isInteger(n));
  const commitDraft = () => {
    if (draft === null || !edited.current) return;
    const n = parse(draft);
    if (n !== null && n !== value) onCommit(n);
  };
  const parsed = draft === null ? null : parse(draft);
  const local =
    draft !== null && !valid(parsed)
      ? t(kind === 'int' ? 'wholeRange' : 'numberRange', { min: String(min), max: String(max) })
      : null;
  const problemId = `${id}-problems`;
  const invalid = ctx.problems.length > 0 || local !== null;

  return (
    <Shell id={id} label={label} ctx={ctx} problemId={problemId} local={local}>
      <div className="relative">
        <input
          id={id}
          name={path}
          data-field={path}
          type="text"
          inputMode={kind === 'int' && min >= 0 ? 'numeric' : 'decimal'}
          autoComplete="off"
          value={draft ?? format(value)}
          disabled={ctx.disabled}
          aria-invalid={invalid || undefined}
          aria-describedby={invalid ? problemId : undefined}
          className={cx(ui.input, unit && 'pr-10')}
          style={presenceRing(ctx.editors)}
          onFocus={() => {
            edited.current = false;
            setDraft(format(value));
            ctx.setEditing(path);
          }}
          onChange={(e) => {
            edited.current = true;
            setDraft(e.target.value);
            const n = parse(e.target.value);
            if (valid(n) && n !== value) onCommit(n);
          }}
          onKeyDown={(e: KeyboardEvent<HTMLInputElement>) => {
            if (e.key === 'Enter') commitDraft();
            if (e.key === 'Escape') {
              edited.current = false;
              setDraft(format(value));
            }
          }}
          onBlur={() => {
            commitDraft();
            setDraft(null);
            ctx.setEditing(null);
          }}
        />
        {unit && <span className="pointer-events-none absolute inset-y-0 right-3 flex items-center text-sm text-slate-500">{unit}</span>}
      </div>
    </Shell>
  );
}

interface SelectProps {
  path: string;
  label: string;
  value: unknown;
  options: readonly { value: string; label: string }[];
  onChange: (value: string) => void;
  ctx: FieldContext;
}

/** A select bound to the shared document; writes on change. */
export function SelectField({ path, label, value, options, onChange, ctx }: SelectProps) {
  const id = useId();
  const current = typeof value === 'string' ? value : '';
  const known = options.some((o) => o.value === current);
  const problemId = `${id}-problems`;
  const invalid = ctx.problems.length > 0;
  return (
    <Shell id={id} label={label} ctx={ctx} problemId={problemId}>
      <select
        id={id}
        name={path}
        data-field={path}
        value={current}
        disabled={ctx.disabled}
        aria-invalid={invalid || undefined}
        aria-describedby={invalid ? problemId : undefined}
        className={ui.input}
        style={presenceRing(ctx.editors)}
        onFocus={() => ctx.setEditing(path)}
        onBlur={() => ctx.setEditing(null)}
        onChange={(e) => onChange(e.target.value)}
      >
        {!known && <option value={current}>—</option>}
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </Shell>
  );
}
