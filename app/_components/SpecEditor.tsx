'use client';

import { useEffect, useRef, type ReactNode } from 'react';
import { useTranslations } from 'use-intl';
import type * as Y from 'yjs';
import { SCALAR_FIELDS, countParams, type ScalarField } from '@/server/protocol/spec';
import { setScalar } from '@/server/protocol/spec-doc';
import { editorsOf, type Peer } from '@/app/_lib/presence';
import type { SpecSnapshot } from '@/app/_lib/useSpec';
import { awarenessOf } from '@/app/_lib/useCollab';
import { useUndo } from '@/app/_lib/useUndo';
import { NumberField, SelectField, type FieldContext } from './fields';
import { FeaturesEditor } from './FeaturesEditor';
import { LayersEditor } from './LayersEditor';
import { NotesEditor } from './NotesEditor';
import { PrivacyFields } from './PrivacyFields';
import { useProblemText, useSpecLabels } from './spec-labels';
import { cx, ui } from './ui';

const DATA_FIELDS: ScalarField[] = ['dataset.name', 'dataset.samples', 'dataset.noise', 'dataset.seed', 'dataset.trainRatio'];
/** Shown only for the "is x > 0" task. */
const SIGN_FIELDS: ScalarField[] = ['dataset.points'];
/** How data is split among a round's participants, with the knob its kind uses. */
const PARTITION_FIELDS: Record<string, ScalarField[]> = {
  iid: ['partition.kind'],
  dirichlet: ['partition.kind', 'partition.alpha'],
  classes: ['partition.kind', 'partition.classesPerClient'],
};
const TRAINING_FIELDS: ScalarField[] = ['loss', 'optimizer', 'learningRate', 'batchSize', 'localEpochs', 'localSteps', 'rounds', 'regularization.l1', 'regularization.l2'];
const FEDERATION_FIELDS: ScalarField[] = [
  'strategy.algorithm',
  'strategy.aggregator',
  'strategy.serverOptimizer',
  'strategy.serverLearningRate',
  'strategy.proximalMu',
  'strategy.trimBeta',
  'strategy.clipNorm',
  'sampling.fraction',
  'sampling.minClients',
  'sampling.maxClients',
  'roundDeadlineSec',
  'minCompletion',
  'encoding',
];

interface Props {
  doc: Y.Doc;
  snap: SpecSnapshot | null;
  peers: Peer[];
  setEditing: (path: string | null) => void;
  /** Viewers, and non-owners while the owner locked the spec: every control is disabled. */
  readOnly?: boolean;
  /** Shown above the fields (e.g. why the editor is read-only). */
  notice?: ReactNode;
}

/** Which history step a key press asks for: Ctrl/Cmd+Z, Ctrl/Cmd+Shift+Z, Ctrl+Y. */
function historyKey(e: KeyboardEvent): 'undo' | 'redo' | null {
  if (!(e.ctrlKey || e.metaKey) || e.altKey || e.isComposing) return null;
  // e.code keeps the shortcut on the Z key of non-Latin layouts.
  const key = /^[a-z]$/i.test(e.key) ? e.key.toLowerCase() : e.code === 'KeyZ' ? 'z' : e.code === 'KeyY' ? 'y' : '';
  if (key === 'z') return e.shiftKey ? 'redo' : 'undo';
  if (key === 'y' && e.ctrlKey && !e.shiftKey) return 'redo';
  return null;
}

export function SpecEditor({ doc, snap, peers, setEditing, readOnly = false, notice }: Props) {
  const t = useTranslations('spec.editor');
  const labels = useSpecLabels();
  const problemText = useProblemText();
  const history = useUndo(doc);
  const section = useRef<HTMLElement>(null);

  // Undo and redo go to this browser's Yjs history everywhere in the editor (and when nothing has
  // focus), instead of an input's own text history: every input writes to the document anyway.
  const { undo, redo } = history;
  useEffect(() => {
    const run = (action: 'undo' | 'redo') => {
      const active = document.activeElement;
      // A number field keeps a draft while focused: leave it (committing what was typed) so it
      // shows the undone value, then come back.
      if (active instanceof HTMLInputElement && active.type === 'text' && section.current?.contains(active)) {
        active.blur();
        (action === 'undo' ? undo : redo)();
        requestAnimationFrame(() => {
          if (active.isConnected && !active.disabled) active.focus();
        });
        return;
      }
      (action === 'undo' ? undo : redo)();
    };
    const onKeyDown = (e: KeyboardEvent) => {
      const action = historyKey(e);
      if (!action || e.defaultPrevented) return;
      const target = e.target instanceof Node ? e.target : null;
      const idle = !target || target === document.body || target === document.documentElement;
      if (!idle && !section.current?.contains(target)) return;
      e.preventDefault();
      run(action);
    };
    // Undo from a context menu or a shake gesture arrives as an input event instead.
    const onBeforeInput = (e: InputEvent) => {
      if (e.inputType !== 'historyUndo' && e.inputType !== 'historyRedo') return;
      e.preventDefault();
      run(e.inputType === 'historyUndo' ? 'undo' : 'redo');
    };
    const root = section.current;
    document.addEventListener('keydown', onKeyDown);
    root?.addEventListener('beforeinput', onBeforeInput);
    return () => {
      document.removeEventListener('keydown', onKeyDown);
      root?.removeEventListener('beforeinput', onBeforeInput);
    };
  }, [undo, redo]);

  const ctx = (path: string): FieldContext => ({ editors: editorsOf(peers, path), problems: (snap?.problems.get(path) ?? []).map(problemText), setEditing, disabled: readOnly });

  const field = (path: ScalarField) => {
    if (!snap) return null;
    const def = SCALAR_FIELDS[path];
    const label = labels.field(path);
    if (def.kind === 'enum') {
      return (
        <SelectField
          key={path}
          path={path}
          label={label}
          value={snap.scalars[path]}
          options={def.options.map((o) => ({ value: o, label: labels.option(o) }))}
          onChange={(v) => setScalar(doc, path, v)}
          ctx={ctx(path)}
        />
      );
    }
    return (
      <NumberField
        key={path}
        path={path}
        label={label}
        value={snap.scalars[path]}
        kind={def.kind}
        min={def.min}
        max={def.max}
        onCommit={(v) => setScalar(doc, path, v)}
        ctx={ctx(path)}
      />
    );
  };

  return (
    <section ref={section} className={ui.card} aria-labelledby="spec-title" data-testid="spec-editor">
      <div className="flex items-start justify-between gap-3">
        <div className="min-w-0">
          <h2 id="spec-title" className={ui.cardTitle}>
            {t('title')}
          </h2>
          <p className={ui.hint}>{t('subtitle')}</p>
        </div>
        <div className="flex shrink-0 gap-1.5">
          <button type="button" className={ui.iconButton} aria-label={t('undo')} title={t('undo')} data-testid="undo-button" disabled={!history.canUndo} onClick={undo}>
            <HistoryIcon />
          </button>
          <button type="button" className={ui.iconButton} aria-label={t('redo')} title={t('redo')} data-testid="redo-button" disabled={!history.canRedo} onClick={redo}>
            <HistoryIcon redo />
          </button>
        </div>
      </div>
      {snap?.seeded && (
        <p className="mt-2">
          <span
            data-testid="spec-status"
            className={cx(
              'inline-block rounded-full px-2.5 py-1 text-sm font-semibold',
              snap.spec ? 'bg-emerald-50 text-emerald-700' : 'bg-rose-50 text-rose-700',
            )}
          >
            {snap.spec ? t('valid', { count: countParams(snap.spec) }) : t('problems', { count: snap.problemCount })}
          </span>
        </p>
      )}

      {notice}
      {!snap?.seeded ? (
        <p className="mt-6 text-slate-500" role="status">
          {t('loading')}
        </p>
      ) : (
        // A disabled fieldset disables every control inside (fields, layer buttons, notes) at once.
        <fieldset disabled={readOnly} data-readonly={readOnly || undefined} className="mt-4 min-w-0 space-y-6">
          <fieldset className="min-w-0">
            <legend className="mb-3 text-sm font-bold tracking-wide text-slate-500 uppercase">{t('data')}</legend>
            <div className="grid grid-cols-2 gap-x-4 gap-y-3 sm:grid-cols-3">
              {DATA_FIELDS.map(field)}
              {snap.scalars['dataset.name'] === 'sign' && SIGN_FIELDS.map(field)}
              {(PARTITION_FIELDS[String(snap.scalars['partition.kind'])] ?? PARTITION_FIELDS.iid!).map(field)}
            </div>
          </fieldset>
          {snap.scalars['dataset.name'] !== 'mnist' && <FeaturesEditor doc={doc} features={snap.features} ctx={ctx} />}
          <fieldset className="min-w-0">
            <legend className="mb-3 text-sm font-bold tracking-wide text-slate-500 uppercase">{t('network')}</legend>
            <LayersEditor doc={doc} snap={snap} ctx={ctx} />
          </fieldset>
          <fieldset className="min-w-0">
            <legend className="mb-3 text-sm font-bold tracking-wide text-slate-500 uppercase">{t('training')}</legend>
            <div className="grid grid-cols-2 gap-x-4 gap-y-3 sm:grid-cols-3">{TRAINING_FIELDS.map(field)}</div>
          </fieldset>
          <fieldset className="min-w-0">
            <legend className="mb-3 text-sm font-bold tracking-wide text-slate-500 uppercase">{t('federation')}</legend>
            <div className="grid grid-cols-2 gap-x-4 gap-y-3 sm:grid-cols-3">{FEDERATION_FIELDS.map(field)}</div>
          </fieldset>
          <PrivacyFields snap={snap} field={field} />
          <fieldset className="min-w-0">
            <legend className="mb-3 text-sm font-bold tracking-wide text-slate-500 uppercase">{t('notes')}</legend>
            <NotesEditor doc={doc} awareness={awarenessOf(doc)} ctx={ctx('notes')} />
          </fieldset>
        </fieldset>
      )}
    </section>
  );
}

/** A curved arrow: back for undo, mirrored for redo. */
function HistoryIcon({ redo }: { redo?: boolean }) {
  return (
    <svg viewBox="0 0 20 20" width="18" height="18" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" aria-hidden style={redo ? { transform: 'scaleX(-1)' } : undefined}>
      <path d="M7.5 5 3.5 9l4 4" />
      <path d="M3.5 9h8.25a4.75 4.75 0 0 1 0 9.5H9" />
    </svg>
  );
}
