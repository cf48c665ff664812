'use client';

import { Fragment, useCallback, useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import * as Y from 'yjs';
import type { Awareness } from 'y-protocols/awareness';
import { useTranslations } from 'use-intl';
import { NOTES_TEXT } from '@/server/protocol/spec-doc';
import { mapIndex, textChange, type Delta } from '@/app/_lib/notes-text';
import { isPresenceState } from '@/app/_lib/presence';
import { EditorTags, type FieldContext } from './fields';
import { cx } from './ui';

/** Notes are one Yjs text; keep them far below the server's frame limit (2 MiB). */
export const MAX_NOTES = 20_000;
/** Awareness field holding this browser's caret and selection in the notes (null when not in the notes). */
export const NOTES_CURSOR_FIELD = 'notesCursor';

/** A caret or selection as relative positions (Y.relativePositionToJSON), so it survives concurrent edits. */
export interface NotesCursor {
  anchor: unknown;
  head: unknown;
}

interface RemoteCursor {
  clientId: number;
  name: string;
  color: string;
  anchor: number;
  head: number;
}

function toIndex(json: unknown, doc: Y.Doc, text: Y.Text): number | null {
  if (!json || typeof json !== 'object') return null;
  try {
    const abs = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(json), doc);
    return abs && abs.type === text ? abs.index : null;
  } catch {
    return null; // a peer sent something that is not a relative position
  }
}

/** Everyone else's caret in the notes, as indexes into the current text. */
function readRemoteCursors(awareness: Awareness | null, doc: Y.Doc, text: Y.Text): RemoteCursor[] {
  if (!awareness) return [];
  const list: RemoteCursor[] = [];
  awareness.getStates().forEach((state, clientId) => {
    if (clientId === doc.clientID || !isPresenceState(state)) return;
    const cursor = (state as unknown as Record<string, unknown>)[NOTES_CURSOR_FIELD] as Partial<NotesCursor> | null | undefined;
    if (!cursor || typeof cursor !== 'object') return;
    const head = toIndex(cursor.head, doc, text);
    if (head === null) return;
    const anchor = toIndex(cursor.anchor, doc, text) ?? head;
    list.push({ clientId, name: state.user.name, color: state.user.color, anchor, head });
  });
  return list.sort((a, b) => a.clientId - b.clientId);
}

interface Props {
  doc: Y.Doc;
  awareness: Awareness | null;
  /** Presence for the path "notes": who else is in the notes, and this browser's editing announcement. */
  ctx: FieldContext;
}

/**
 * The project's shared notes: a plain textarea bound to the Y.Text "notes". Local input becomes
 * the minimal insert/delete on the Y.Text; remote changes (and undo) rewrite the textarea and move
 * the local selection through the change. Each browser publishes its caret in awareness as
 * relative positions; other people's carets and selections are drawn over the textarea by a
 * transparent mirror of its text that wraps exactly like it.
 */
export function NotesEditor({ doc, awareness, ctx }: Props) {
  const t = useTranslations('spec.notes');
  const id = useId();
  const ytext = useMemo(() => doc.getText(NOTES_TEXT), [doc]);
  const area = useRef<HTMLTextAreaElement>(null);
  /** The text as the textarea and the Y.Text last agreed on. */
  const shadow = useRef('');
  /** True while an input method composes: the textarea must not be touched, so remote changes wait. */
  const composing = useRef(false);
  const pending = useRef<Delta[]>([]);
  /** True while this editor writes to the Y.Text (its own observer skips those changes). */
  const writing = useRef(false);
  const published = useRef('null');
  const [text, setText] = useState('');
  const [cursorVersion, setCursorVersion] = useState(0);

  /** Publishes this browser's selection in the notes (`active`: the textarea has focus), or clears it. */
  const publishCursor = useCallback((active: boolean) => {
    const el = area.current;
    if (!awareness || !el) return;
    let cursor: NotesCursor | null = null;
    if (active && !composing.current) {
      const length = ytext.length;
      const start = Math.min(el.selectionStart, length);
      const end = Math.min(el.selectionEnd, length);
      const [anchor, head] = el.selectionDirection === 'backward' ? [end, start] : [start, end];
      cursor = {
        anchor: Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(ytext, anchor)),
        head: Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(ytext, head)),
      };
    }
    const json = JSON.stringify(cursor);
    if (json === published.current) return;
    published.current = json;
    awareness.setLocalStateField(NOTES_CURSOR_FIELD, cursor);
  }, [awareness, ytext]);

  /** Shows the Y.Text in the textarea after changes made elsewhere, moving the selection through them. */
  const applyRemote = useCallback(
    (deltas: Delta[]) => {
      const el = area.current;
      if (!el) return;
      const next = ytext.toString();
      const focused = document.activeElement === el;
      if (el.value !== next) {
        let start = el.selectionStart;
        let end = el.selectionEnd;
        const direction = el.selectionDirection;
        const collapsed = start === end;
        if (el.value === shadow.current) {
          for (const delta of deltas) {
            start = mapIndex(start, delta, true);
            end = mapIndex(end, delta, collapsed);
          }
        }
        const scrollTop = el.scrollTop;
        el.value = next;
        if (focused) el.setSelectionRange(Math.min(start, next.length), Math.min(Math.max(start, end), next.length), direction);
        el.scrollTop = scrollTop;
      }
      shadow.current = next;
      setText(next);
    },
    [ytext],
  );

  /** Writes what was typed since the last sync to the Y.Text, as one replaced range. */
  const flushLocal = useCallback(() => {
    const el = area.current;
    if (!el) return;
    const value = el.value;
    const change = textChange(shadow.current, value);
    const waiting = pending.current;
    pending.current = [];
    // Remote changes that arrived during a composition are in the Y.Text but not in the textarea:
    // carry the local range (shadow coordinates) through them first.
    const through = (index: number, stickRight: boolean) => waiting.reduce((i, delta) => mapIndex(i, delta, stickRight), index);
    let from = 0;
    let to = 0;
    if (change) {
      from = through(change.index, true);
      to = Math.max(from, through(change.index + change.remove, false));
      writing.current = true;
      try {
        doc.transact(() => {
          if (to > from) ytext.delete(from, to - from);
          if (change.insert) ytext.insert(from, change.insert);
        });
      } finally {
        writing.current = false;
      }
    }
    if (waiting.length > 0) {
      // Show the merged text, keeping the caret where it was relative to what was typed.
      const caret = (c: number): number => {
        if (!change || c <= change.index) return through(c, true);
        if (c <= change.index + change.insert.length) return from + (c - change.index);
        return through(c - change.insert.length + change.remove, true) - (to - from) + change.insert.length;
      };
      const start = caret(el.selectionStart);
      const end = caret(el.selectionEnd);
      const direction = el.selectionDirection;
      const merged = ytext.toString();
      el.value = merged;
      if (document.activeElement === el) el.setSelectionRange(start, Math.max(start, end), direction);
    }
    shadow.current = el.value;
    setText(el.value);
    publishCursor(document.activeElement === el);
  }, [doc, ytext, publishCursor]);

  // Bind the textarea to the Y.Text.
  useEffect(() => {
    const el = area.current;
    if (!el) return;
    const initial = ytext.toString();
    el.value = initial;
    shadow.current = initial;
    pending.current = [];
    setText(initial);
    const observer = (event: Y.YTextEvent) => {
      if (writing.current) return;
      // Read the delta now: it describes this transaction only while its observers run.
      const delta = event.delta;
      if (composing.current) pending.current.push(delta);
      else applyRemote([delta]);
    };
    ytext.observe(observer);
    return () => ytext.unobserve(observer);
  }, [ytext, applyRemote]);

  // Others' carets: follow awareness.
  useEffect(() => {
    if (!awareness) return;
    const bump = () => setCursorVersion((v) => v + 1);
    awareness.on('change', bump);
    return () => awareness.off('change', bump);
  }, [awareness]);

  // This browser's caret: selection changes in the textarea (clicks, arrows, typing).
  useEffect(() => {
    const onSelection = () => {
      if (document.activeElement === area.current) publishCursor(true);
    };
    document.addEventListener('selectionchange', onSelection);
    return () => {
      document.removeEventListener('selectionchange', onSelection);
      // Leaving the page (or the editor unmounting) takes the caret away for everyone.
      if (awareness?.getLocalState()) awareness.setLocalStateField(NOTES_CURSOR_FIELD, null);
      published.current = 'null';
    };
  }, [awareness, publishCursor]);

  // Re-read on every render: a remote caret's index moves as the text changes (`text`), and the
  // carets themselves move with awareness (`cursorVersion`). A handful of peers: cheap.
  void cursorVersion;
  const cursors = readRemoteCursors(awareness, doc, ytext);

  const length = text.length;
  const counterId = `${id}-count`;
  return (
    <div>
      <div className="mb-1 flex min-h-6 items-center justify-between gap-2">
        <label htmlFor={id} className="block text-sm font-medium text-slate-700">
          {t('label')}
        </label>
        <EditorTags editors={ctx.editors} />
      </div>
      {/* contain: a long unbroken line must not widen the page (a content-sized textarea reports it as its minimum width). */}
      <div className="relative contain-inline-size">
        <textarea
          ref={area}
          id={id}
          name="notes"
          data-field="notes"
          data-testid="notes-editor"
          rows={5}
          maxLength={MAX_NOTES}
          spellCheck
          placeholder={t('placeholder')}
          aria-describedby={counterId}
          className={cx(
            'block max-h-[26rem] min-h-32 w-full resize-y rounded-lg border border-slate-300 bg-white px-3 py-2 text-base leading-6 text-slate-900 shadow-xs field-sizing-content placeholder:text-slate-400',
            'focus:border-brand-500 focus:ring-3 focus:ring-brand-100 focus:outline-none',
          )}
          onInput={(e) => {
            if (composing.current || (e.nativeEvent as InputEvent).isComposing) return;
            flushLocal();
          }}
          onCompositionStart={() => {
            composing.current = true;
          }}
          onCompositionEnd={() => {
            composing.current = false;
            flushLocal();
          }}
          onFocus={() => {
            ctx.setEditing('notes');
            publishCursor(true);
          }}
          onBlur={() => {
            if (composing.current) {
              composing.current = false;
              flushLocal();
            }
            ctx.setEditing(null);
            publishCursor(false);
          }}
        />
        {cursors.length > 0 && <CursorOverlay area={area} text={text} cursors={cursors} />}
      </div>
      <p
        id={counterId}
        className={cx('mt-1 text-right text-sm tabular-nums', length >= MAX_NOTES ? 'font-medium text-rose-700' : length >= MAX_NOTES * 0.9 ? 'text-amber-700' : 'text-slate-500')}
        data-testid="notes-count"
      >
        {length >= MAX_NOTES ? `${t('full')} ` : ''}
        {t('count', { count: length, max: MAX_NOTES })}
      </p>
    </div>
  );
}

interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
  scroll: number;
}

/**
 * Draws remote carets and selections over the textarea: a copy of its text with the same font,
 * padding and width (so it wraps the same), transparent, clipped to the textarea's client area and
 * scrolled with it. Carets are empty inline spans at their index, so nothing shifts the text.
 */
function CursorOverlay({ area, text, cursors }: { area: React.RefObject<HTMLTextAreaElement | null>; text: string; cursors: RemoteCursor[] }) {
  const [box, setBox] = useState<Box | null>(null);
  const mirror = useRef<HTMLDivElement>(null);

  useLayoutEffect(() => {
    const el = area.current;
    if (!el) return;
    const measure = () => {
      const next = { left: el.clientLeft, top: el.clientTop, width: el.clientWidth, height: el.clientHeight, scroll: el.scrollTop };
      setBox((prev) => (prev && Object.entries(next).every(([k, v]) => prev[k as keyof Box] === v) ? prev : next));
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    el.addEventListener('scroll', measure);
    return () => {
      observer.disconnect();
      el.removeEventListener('scroll', measure);
    };
  }, [area, text]);

  // Name labels sit above the caret, or below it on the first visible line (where above is clipped).
  useLayoutEffect(() => {
    const root = mirror.current;
    if (!root || !box) return;
    const clip = root.parentElement!.getBoundingClientRect().top;
    root.querySelectorAll<HTMLElement>('[data-testid="notes-cursor"]').forEach((bar) => {
      bar.toggleAttribute('data-below', bar.getBoundingClientRect().top - clip < 18);
    });
  });

  if (!box) return null;
  return (
    <div aria-hidden className="pointer-events-none absolute overflow-hidden" style={{ left: box.left, top: box.top, width: box.width, height: box.height }}>
      <div
        ref={mirror}
        className="px-3 py-2 text-base leading-6 wrap-break-word whitespace-pre-wrap text-transparent"
        style={{ width: box.width, transform: `translateY(${-box.scroll}px)` }}
      >
        {renderMirror(text, cursors)}
      </div>
    </div>
  );
}

function renderMirror(text: string, cursors: RemoteCursor[]): ReactNode[] {
  const clamp = (i: number) => Math.max(0, Math.min(i, text.length));
  const ranges = cursors.map((c) => ({ ...c, from: clamp(Math.min(c.anchor, c.head)), to: clamp(Math.max(c.anchor, c.head)), at: clamp(c.head) }));
  const points = [...new Set([0, text.length, ...ranges.flatMap((r) => [r.from, r.to, r.at])])].sort((a, b) => a - b);
  const out: ReactNode[] = [];
  points.forEach((point, i) => {
    for (const r of ranges) if (r.at === point) out.push(<Caret key={`c${r.clientId}`} name={r.name} color={r.color} />);
    const next = points[i + 1];
    if (next === undefined || next === point) return;
    const piece = text.slice(point, next);
    const over = ranges.find((r) => r.from <= point && next <= r.to && r.from < r.to);
    out.push(
      over ? (
        <span key={`s${point}`} style={{ backgroundColor: `${over.color}33` }}>
          {piece}
        </span>
      ) : (
        <Fragment key={`t${point}`}>{piece}</Fragment>
      ),
    );
  });
  // A trailing newline only counts as a line in a div when something follows it.
  if (text.endsWith('\n')) out.push(<Fragment key="end">{'\u200b'}</Fragment>);
  return out;
}

function Caret({ name, color }: { name: string; color: string }) {
  return (
    <span className="relative">
      <span data-testid="notes-cursor" data-name={name} className="group absolute -top-px -bottom-px -left-px w-0.5 rounded-sm" style={{ backgroundColor: color }}>
        <span
          className="absolute bottom-full -left-px max-w-40 truncate rounded-sm px-1 text-xs leading-4 font-semibold whitespace-nowrap text-white group-data-below:top-full group-data-below:bottom-auto"
          style={{ backgroundColor: color }}
        >
          {name}
        </span>
      </span>
    </span>
  );
}
