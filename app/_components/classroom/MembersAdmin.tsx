'use client';

import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { useTranslations } from 'use-intl';
import type { MemberInfo } from '@/server/protocol';
import { api } from '@/app/_lib/api';
import { useErrorText } from '@/app/_lib/error-text';
import { cx, ui } from '../ui';

interface Props {
  slug: string;
  /** The owner's own member id (their row has no controls). */
  selfId: string;
  /** Member ids connected right now (shared document or training room). */
  online: ReadonlySet<string>;
  /** Bumped by the server whenever members change; the list refetches. */
  membersRev: number;
}

/** The owner's members list: rename, hide on the projector, member ↔ viewer, remove. */
export function MembersAdmin({ slug, selfId, online, membersRev }: Props) {
  const t = useTranslations('classroom.members');
  // The same words as the join form's choice (Participant / Watch only).
  const roles = useTranslations('project.join.roles');
  const errorText = useErrorText();
  const [members, setMembers] = useState<MemberInfo[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [rowError, setRowError] = useState<{ id: string; message: string } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [confirmRemove, setConfirmRemove] = useState<string | null>(null);
  const [removed, setRemoved] = useState<ReadonlySet<string>>(new Set());

  const load = useCallback(() => {
    api.members(slug).then(
      (r) => {
        setMembers(r.members);
        setLoadError(null);
      },
      (err: unknown) => setLoadError(errorText(err)),
    );
  }, [slug, errorText]);
  // On load, when the server says members changed, and when someone new comes online.
  const onlineKey = [...online].sort().join(',');
  useEffect(load, [load, membersRev, onlineKey]);

  /** Runs one owner action on a member's row; resolves true when it worked. */
  async function change(id: string, call: () => Promise<unknown>): Promise<boolean> {
    setBusy(id);
    setRowError(null);
    try {
      await call();
      load();
      return true;
    } catch (err) {
      setRowError({ id, message: errorText(err) });
      return false;
    } finally {
      setBusy(null);
    }
  }

  // A removed member's row stays in the database (their contributions keep their name); hide it here.
  const list = (members ?? []).filter((m) => !removed.has(m.id));
  const others = list.filter((m) => m.id !== selfId);
  return (
    <section className={ui.card} aria-labelledby="members-admin-title" data-testid="members-admin">
      <h2 id="members-admin-title" className={ui.cardTitle}>
        {t('title')} <span className="font-normal text-slate-500">· {others.length}</span>
      </h2>
      <p className={ui.hint}>{t('hint')}</p>
      {loadError && (
        <p role="alert" className={cx(ui.error, 'mt-2')}>
          {loadError}{' '}
          <button type="button" className="underline" onClick={load}>
            {t('retry')}
          </button>
        </p>
      )}
      {members === null && !loadError && <p className={cx(ui.hint, 'mt-3')}>{t('loading')}</p>}
      {members !== null && others.length === 0 && <p className={cx(ui.hint, 'mt-3')}>{t('empty')}</p>}
      <ul className="mt-3 divide-y divide-slate-100">
        {others.map((m) => {
          const isOnline = online.has(m.id);
          return (
            <li key={m.id} data-testid="admin-member" data-member-id={m.id} data-hidden={m.hidden || undefined} data-role={m.role} className="py-3">
              {editing === m.id ? (
                <RenameForm
                  initial={m.name ?? ''}
                  busy={busy === m.id}
                  onCancel={() => setEditing(null)}
                  onSave={(name) => void change(m.id, () => api.updateMember(slug, m.id, { name })).then((ok) => ok && setEditing(null))}
                />
              ) : (
                <div className="flex flex-wrap items-center gap-x-3 gap-y-2">
                  <span className={cx('h-2.5 w-2.5 shrink-0 rounded-full', isOnline ? 'bg-emerald-500' : 'bg-slate-300')} aria-hidden />
                  <span className="sr-only">{isOnline ? t('online') : t('offline')}</span>
                  <span className={cx('min-w-0 flex-1 basis-32 truncate font-medium', m.hidden && 'text-slate-400 line-through')} data-testid="admin-member-name">
                    {m.name}
                  </span>
                  {m.hidden && <span className="rounded bg-slate-100 px-1.5 text-xs font-semibold text-slate-600">{t('hiddenBadge')}</span>}
                  <div className="flex flex-wrap items-center gap-1.5">
                    <label className="sr-only" htmlFor={`role-${m.id}`}>
                      {t('roleLabel', { name: m.name ?? '' })}
                    </label>
                    <select
                      id={`role-${m.id}`}
                      data-testid="admin-role"
                      value={m.role}
                      disabled={busy === m.id}
                      onChange={(e) => void change(m.id, () => api.updateMember(slug, m.id, { role: e.target.value as 'member' | 'viewer' }))}
                      className="h-9 rounded-lg border border-slate-300 bg-white px-2 text-sm"
                    >
                      <option value="member">{roles('member.title')}</option>
                      <option value="viewer">{roles('viewer.title')}</option>
                    </select>
                    <button
                      type="button"
                      data-testid="admin-hide"
                      aria-pressed={m.hidden}
                      disabled={busy === m.id}
                      onClick={() => void change(m.id, () => api.updateMember(slug, m.id, { hidden: !m.hidden }))}
                      className={cx(ui.button, ui.secondary, 'px-2.5 py-1 text-sm')}
                    >
                      {m.hidden ? t('show') : t('hide')}
                    </button>
                    <button type="button" data-testid="admin-rename" disabled={busy === m.id} onClick={() => setEditing(m.id)} className={cx(ui.button, ui.secondary, 'px-2.5 py-1 text-sm')}>
                      {t('rename')}
                    </button>
                    {confirmRemove === m.id ? (
                      <>
                        <button
                          type="button"
                          data-testid="admin-remove-confirm"
                          disabled={busy === m.id}
                          onClick={() =>
                            void change(m.id, async () => {
                              await api.revokeMember(slug, m.id);
                              setRemoved((prev) => new Set(prev).add(m.id));
                            }).then((ok) => ok && setConfirmRemove(null))
                          }
                          className={cx(ui.button, 'bg-rose-600 px-2.5 py-1 text-sm text-white hover:bg-rose-700')}
                        >
                          {t('removeConfirm')}
                        </button>
                        <button type="button" onClick={() => setConfirmRemove(null)} className={cx(ui.button, ui.ghost, 'px-2.5 py-1 text-sm')}>
                          {t('cancel')}
                        </button>
                      </>
                    ) : (
                      <button type="button" data-testid="admin-remove" disabled={busy === m.id} onClick={() => setConfirmRemove(m.id)} className={cx(ui.button, ui.ghost, 'px-2.5 py-1 text-sm text-rose-700')}>
                        {t('remove')}
                      </button>
                    )}
                  </div>
                </div>
              )}
              {rowError?.id === m.id && (
                <p role="alert" className={cx(ui.error, 'mt-1')}>
                  {rowError.message}
                </p>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function RenameForm({ initial, busy, onSave, onCancel }: { initial: string; busy: boolean; onSave: (name: string) => void; onCancel: () => void }) {
  const t = useTranslations('classroom.members');
  const id = useId();
  const [name, setName] = useState(initial);
  const trimmed = name.trim();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (trimmed) onSave(trimmed);
  };
  return (
    <form onSubmit={submit} className="flex flex-wrap items-center gap-2" onKeyDown={(e) => e.key === 'Escape' && onCancel()}>
      <label htmlFor={id} className="sr-only">
        {t('newName')}
      </label>
      <input id={id} data-testid="admin-rename-input" value={name} maxLength={40} autoFocus onChange={(e) => setName(e.target.value)} className={cx(ui.input, 'h-9 min-w-0 flex-1 basis-40')} />
      <button type="submit" disabled={busy || !trimmed} className={cx(ui.button, ui.primary, 'px-3 py-1 text-sm')}>
        {t('save')}
      </button>
      <button type="button" onClick={onCancel} className={cx(ui.button, ui.ghost, 'px-3 py-1 text-sm')}>
        {t('cancel')}
      </button>
    </form>
  );
}
