'use client';

import type * as Y from 'yjs';
import { useTranslations } from 'use-intl';
import { FEATURES, type Feature } from '@/server/protocol/spec';
import { setFeature } from '@/server/protocol/spec-doc';
import { EditorTags, Problems, presenceRing, type FieldContext } from './fields';
import { cx } from './ui';

/** Formulas, the same in every language. */
const FORMULAS = { x1: 'x₁', x2: 'x₂', x1sq: 'x₁²', x2sq: 'x₂²', x1x2: 'x₁·x₂', sin1: 'sin(x₁)', sin2: 'sin(x₂)' } satisfies Record<Feature, string>;

interface Props {
  doc: Y.Doc;
  features: Record<Feature, boolean>;
  ctx: (path: string) => FieldContext;
}

/** Checkboxes for the input features computed from each 2-D point. */
export function FeaturesEditor({ doc, features, ctx }: Props) {
  const t = useTranslations('spec.fields');
  const group = ctx('features');
  return (
    <fieldset aria-describedby={group.problems.length ? 'features-problems' : undefined}>
      <legend className="mb-3 text-sm font-bold tracking-wide text-slate-500 uppercase">{t('features')}</legend>
      <div className="flex flex-wrap gap-2">
        {FEATURES.map((f) => {
          const path = `features.${f}`;
          const c = ctx(path);
          const on = features[f];
          return (
            <label
              key={f}
              className={cx(
                'relative inline-flex cursor-pointer items-center gap-2 rounded-lg border px-3 py-2 select-none has-focus-visible:outline-3 has-focus-visible:outline-offset-2 has-focus-visible:outline-brand-500',
                on ? 'border-brand-500 bg-brand-50 text-brand-700' : 'border-slate-300 bg-white text-slate-700 hover:bg-slate-50',
              )}
              style={presenceRing(c.editors)}
            >
              <input
                type="checkbox"
                name={path}
                data-field={path}
                checked={on}
                onChange={(e) => setFeature(doc, f, e.target.checked)}
                onFocus={() => c.setEditing(path)}
                onBlur={() => c.setEditing(null)}
                className="h-4 w-4 accent-brand-600 focus:outline-none"
              />
              <span className="font-mono text-base font-semibold">{FORMULAS[f]}</span>
              {c.editors.length > 0 && (
                <span className="absolute -top-3 right-1">
                  <EditorTags editors={c.editors} />
                </span>
              )}
            </label>
          );
        })}
      </div>
      <Problems id="features-problems" problems={group.problems} />
    </fieldset>
  );
}
