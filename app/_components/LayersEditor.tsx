'use client';

import type * as Y from 'yjs';
import { ACTIVATIONS, MAX_HIDDEN_LAYERS, MAX_UNITS, type Activation } from '@/server/protocol/spec';
import { addLayer, moveLayer, removeLayer, updateLayer } from '@/server/protocol/spec-doc';
import type { SpecSnapshot } from '@/app/_lib/useSpec';
import { NumberField, Problems, SelectField, type FieldContext } from './fields';
import { cx, ui } from './ui';

const T = {
  input: (n: number) => `Input · ${n} feature${n === 1 ? '' : 's'}`,
  output: 'Output · 1 unit, sigmoid',
  layer: (i: number) => `Hidden ${i}`,
  units: 'Units',
  activation: 'Activation',
  up: 'Move layer up',
  down: 'Move layer down',
  remove: 'Remove layer',
  add: 'Add layer',
  full: `At most ${MAX_HIDDEN_LAYERS} hidden layers`,
  none: 'No hidden layers: the model is a logistic regression.',
};

interface Props {
  doc: Y.Doc;
  snap: SpecSnapshot;
  ctx: (path: string) => FieldContext;
}

/** The ordered list of hidden layers: units, activation, reorder, remove, add. */
export function LayersEditor({ doc, snap, ctx }: Props) {
  const layers = snap.layers;
  const featureCount = Object.values(snap.features).filter(Boolean).length;
  const full = layers.length >= MAX_HIDDEN_LAYERS;
  return (
    <div className="space-y-2">
      <p className="rounded-lg bg-slate-100 px-3 py-1.5 text-sm font-medium text-slate-600">{T.input(featureCount)}</p>
      {layers.length === 0 && <p className={ui.hint}>{T.none}</p>}
      <ol className="space-y-2" data-testid="layers-list">
        {layers.map((layer, index) => {
          const base = `layers.${layer.id}`;
          return (
            <li
              key={layer.id}
              data-testid="layer-row"
              data-layer-id={layer.id}
              className="grid grid-cols-2 items-end gap-x-3 gap-y-2 rounded-lg border border-slate-200 p-3 sm:grid-cols-[5.5rem_minmax(0,1fr)_minmax(0,1fr)_auto]"
            >
              <span className="col-span-2 self-center font-semibold text-slate-700 sm:col-span-1">{T.layer(index + 1)}</span>
              <NumberField
                path={`${base}.units`}
                label={T.units}
                value={layer.units}
                kind="int"
                min={1}
                max={MAX_UNITS}
                onCommit={(units) => updateLayer(doc, layer.id, { units })}
                ctx={ctx(`${base}.units`)}
              />
              <SelectField
                path={`${base}.activation`}
                label={T.activation}
                value={layer.activation}
                options={ACTIVATIONS.map((a) => ({ value: a, label: a }))}
                onChange={(v) => updateLayer(doc, layer.id, { activation: v as Activation })}
                ctx={ctx(`${base}.activation`)}
              />
              <div className="col-span-2 flex justify-end gap-1.5 sm:col-span-1">
                <button
                  type="button"
                  className={ui.iconButton}
                  aria-label={T.up}
                  title={T.up}
                  data-testid="layer-up"
                  disabled={index === 0}
                  onClick={() => moveLayer(doc, layer.id, -1)}
                >
                  ↑
                </button>
                <button
                  type="button"
                  className={ui.iconButton}
                  aria-label={T.down}
                  title={T.down}
                  data-testid="layer-down"
                  disabled={index === layers.length - 1}
                  onClick={() => moveLayer(doc, layer.id, 1)}
                >
                  ↓
                </button>
                <button
                  type="button"
                  className={cx(ui.iconButton, 'hover:border-rose-300 hover:bg-rose-50 hover:text-rose-700')}
                  aria-label={T.remove}
                  title={T.remove}
                  data-testid="remove-layer"
                  onClick={() => removeLayer(doc, layer.id)}
                >
                  ✕
                </button>
              </div>
              {(snap.problems.get(base)?.length ?? 0) > 0 && (
                <div className="col-span-full">
                  <Problems id={`${base}-problems`} problems={snap.problems.get(base) ?? []} />
                </div>
              )}
            </li>
          );
        })}
      </ol>
      <Problems id="layers-problems" problems={snap.problems.get('layers') ?? []} />
      <div className="flex flex-wrap items-center gap-3">
        <button
          type="button"
          data-testid="add-layer"
          className={cx(ui.button, ui.secondary)}
          disabled={full}
          title={full ? T.full : undefined}
          onClick={() => addLayer(doc)}
        >
          + {T.add}
        </button>
        {full && <span className={ui.hint}>{T.full}</span>}
      </div>
      <p className="rounded-lg bg-slate-100 px-3 py-1.5 text-sm font-medium text-slate-600">{T.output}</p>
    </div>
  );
}
