'use client';

import type * as Y from 'yjs';
import { LAYER_FIELDS, LAYER_TYPES, MAX_HIDDEN_LAYERS, NEW_LAYER, type LayerType } from '@/server/protocol/spec';
import { inferShapes } from '@/server/protocol/shapes';
import { addLayer, moveLayer, removeLayer, setLayerType, updateLayer, type LayerEntry } from '@/server/protocol/spec-doc';
import type { SpecSnapshot } from '@/app/_lib/useSpec';
import { NumberField, Problems, SelectField, type FieldContext } from './fields';
import { cx, ui } from './ui';

const T = {
  input: (n: number) => `Input · ${n} feature${n === 1 ? '' : 's'}`,
  imageInput: (shape: number[]) => `Input · ${shape.join(' × ')} image`,
  output: (units: number) => (units === 1 ? 'Output · 1 unit, sigmoid' : `Output · ${units} units, softmax`),
  layer: (i: number) => `Layer ${i}`,
  type: 'Type',
  types: { dense: 'Dense', conv2d: 'Convolution', maxpool: 'Max pooling', flatten: 'Flatten', dropout: 'Dropout' } satisfies Record<LayerType, string>,
  fields: { units: 'Units', activation: 'Activation', filters: 'Filters', kernelSize: 'Kernel size', poolSize: 'Pool size', rate: 'Rate' } as Record<string, string>,
  shape: (shape: number[]) => `→ ${shape.join(' × ')}`,
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
  // Shapes of the spec as it stands (a valid spec, or the last valid one): input, per layer, output.
  const shapes = snap.spec ? inferShapes(snap.spec) : null;
  const image = shapes?.input.length === 3;
  return (
    <div className="space-y-2">
      <p className="rounded-lg bg-slate-100 px-3 py-1.5 text-sm font-medium text-slate-600">{image && shapes ? T.imageInput(shapes.input) : T.input(featureCount)}</p>
      {layers.length === 0 && <p className={ui.hint}>{T.none}</p>}
      <ol className="space-y-2" data-testid="layers-list">
        {layers.map((layer, index) => {
          const base = `layers.${layer.id}`;
          return (
            <li key={layer.id} data-testid="layer-row" data-layer-id={layer.id} className="space-y-2 rounded-lg border border-slate-200 p-3">
              <div className="flex items-end gap-2 sm:gap-3">
                <span className="w-14 shrink-0 self-center text-sm font-semibold whitespace-nowrap text-slate-700 sm:w-[4.5rem] sm:text-base">{T.layer(index + 1)}</span>
                <div className="w-36 min-w-0 shrink sm:w-40">
                  <SelectField
                    path={`${base}.type`}
                    label={T.type}
                    value={layer.type}
                    options={LAYER_TYPES.map((t) => ({ value: t, label: T.types[t] }))}
                    onChange={(v) => setLayerType(doc, layer.id, v as LayerType)}
                    ctx={ctx(`${base}.type`)}
                  />
                </div>
                <span className="hidden min-w-0 flex-1 self-center truncate text-sm text-slate-500 tabular-nums min-[480px]:block" data-testid="layer-shape">
                  {shapes?.layers[index] ? T.shape(shapes.layers[index].shape) : ''}
                </span>
                <div className="ml-auto flex shrink-0 gap-1.5 self-center">
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
              </div>
              <LayerFieldInputs doc={doc} layer={layer} ctx={ctx} />
              <Problems id={`${base}-problems`} problems={snap.problems.get(base) ?? []} />
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
          onClick={() => addLayer(doc, image ? NEW_LAYER.conv2d : NEW_LAYER.dense)}
        >
          + {T.add}
        </button>
        {full && <span className={ui.hint}>{T.full}</span>}
      </div>
      <p className="rounded-lg bg-slate-100 px-3 py-1.5 text-sm font-medium text-slate-600">{T.output(shapes?.outputUnits ?? 1)}</p>
    </div>
  );
}

/** The inputs of a layer's own fields (units and activation for dense, filters and kernel for a convolution, …). */
function LayerFieldInputs({ doc, layer, ctx }: { doc: Y.Doc; layer: LayerEntry; ctx: (path: string) => FieldContext }) {
  const base = `layers.${layer.id}`;
  const fields = Object.entries(LAYER_FIELDS[layer.type] ?? {}) as [string, { kind: 'int' | 'number' | 'enum'; min?: number; max?: number; options?: readonly string[] }][];
  const values = layer as unknown as Record<string, unknown>;
  return (
    <div className={cx('grid grid-cols-3 gap-x-3', fields.length === 0 && 'hidden')} data-testid="layer-fields">
      {fields.map(([field, def]) =>
        def.kind === 'enum' ? (
          <SelectField
            key={field}
            path={`${base}.${field}`}
            label={T.fields[field] ?? field}
            value={values[field]}
            options={(def.options ?? []).map((o) => ({ value: o, label: o }))}
            onChange={(v) => updateLayer(doc, layer.id, { [field]: v })}
            ctx={ctx(`${base}.${field}`)}
          />
        ) : (
          <NumberField
            key={field}
            path={`${base}.${field}`}
            label={T.fields[field] ?? field}
            value={values[field]}
            kind={def.kind}
            min={def.min ?? 0}
            max={def.max ?? 1}
            onCommit={(v) => updateLayer(doc, layer.id, { [field]: v })}
            ctx={ctx(`${base}.${field}`)}
          />
        ),
      )}
    </div>
  );
}
