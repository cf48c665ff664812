'use client';

import type * as Y from 'yjs';
import { useTranslations } from 'use-intl';
import { LAYER_FIELDS, LAYER_TYPES, MAX_HIDDEN_LAYERS, NEW_LAYER, type LayerType } from '@/server/protocol/spec';
import { inferShapes } from '@/server/protocol/shapes';
import { addLayer, moveLayer, removeLayer, setLayerType, updateLayer, type LayerEntry } from '@/server/protocol/spec-doc';
import type { SpecSnapshot } from '@/app/_lib/useSpec';
import { NumberField, Problems, SelectField, type FieldContext } from './fields';
import { useProblemText } from './spec-labels';
import { cx, ui } from './ui';

interface Props {
  doc: Y.Doc;
  snap: SpecSnapshot;
  ctx: (path: string) => FieldContext;
}

/** The ordered list of hidden layers: units, activation, reorder, remove, add. */
export function LayersEditor({ doc, snap, ctx }: Props) {
  const t = useTranslations('spec.layers');
  const problemText = useProblemText();
  const layers = snap.layers;
  const featureCount = Object.values(snap.features).filter(Boolean).length;
  const full = layers.length >= MAX_HIDDEN_LAYERS;
  // Shapes of the spec as it stands (a valid spec, or the last valid one): input, per layer, output.
  const shapes = snap.spec ? inferShapes(snap.spec) : null;
  const image = shapes?.input.length === 3;
  return (
    <div className="space-y-2">
      <p className="rounded-lg bg-slate-100 px-3 py-1.5 text-sm font-medium text-slate-600">{image && shapes ? t('imageInput', { shape: shapes.input.join(' × ') }) : t('input', { count: featureCount })}</p>
      {layers.length === 0 && <p className={ui.hint}>{t('none')}</p>}
      <ol className="space-y-2" data-testid="layers-list">
        {layers.map((layer, index) => {
          const base = `layers.${layer.id}`;
          return (
            <li key={layer.id} data-testid="layer-row" data-layer-id={layer.id} className="space-y-2 rounded-lg border border-slate-200 p-3">
              <div className="flex items-end gap-2 sm:gap-3">
                <span className="w-14 shrink-0 self-center text-sm font-semibold whitespace-nowrap text-slate-700 sm:w-[4.5rem] sm:text-base">{t('layer', { n: index + 1 })}</span>
                <div className="w-36 min-w-0 shrink sm:w-40">
                  <SelectField
                    path={`${base}.type`}
                    label={t('type')}
                    value={layer.type}
                    options={LAYER_TYPES.map((type) => ({ value: type, label: t(`types.${type}`) }))}
                    onChange={(v) => setLayerType(doc, layer.id, v as LayerType)}
                    ctx={ctx(`${base}.type`)}
                  />
                </div>
                <span className="hidden min-w-0 flex-1 self-center truncate text-sm text-slate-500 tabular-nums min-[480px]:block" data-testid="layer-shape">
                  {shapes?.layers[index] ? `→ ${shapes.layers[index].shape.join(' × ')}` : ''}
                </span>
                <div className="ml-auto flex shrink-0 gap-1.5 self-center">
                  <button
                    type="button"
                    className={ui.iconButton}
                    aria-label={t('up')}
                    title={t('up')}
                    data-testid="layer-up"
                    disabled={index === 0}
                    onClick={() => moveLayer(doc, layer.id, -1)}
                  >
                    ↑
                  </button>
                  <button
                    type="button"
                    className={ui.iconButton}
                    aria-label={t('down')}
                    title={t('down')}
                    data-testid="layer-down"
                    disabled={index === layers.length - 1}
                    onClick={() => moveLayer(doc, layer.id, 1)}
                  >
                    ↓
                  </button>
                  <button
                    type="button"
                    className={cx(ui.iconButton, 'hover:border-rose-300 hover:bg-rose-50 hover:text-rose-700')}
                    aria-label={t('remove')}
                    title={t('remove')}
                    data-testid="remove-layer"
                    onClick={() => removeLayer(doc, layer.id)}
                  >
                    ✕
                  </button>
                </div>
              </div>
              <LayerFieldInputs doc={doc} layer={layer} ctx={ctx} />
              <Problems id={`${base}-problems`} problems={(snap.problems.get(base) ?? []).map(problemText)} />
            </li>
          );
        })}
      </ol>
      <Problems id="layers-problems" problems={(snap.problems.get('layers') ?? []).map(problemText)} />
      <div className="flex flex-wrap items-center gap-3">
        <button
          type="button"
          data-testid="add-layer"
          className={cx(ui.button, ui.secondary)}
          disabled={full}
          title={full ? t('full', { max: MAX_HIDDEN_LAYERS }) : undefined}
          onClick={() => addLayer(doc, image ? NEW_LAYER.conv2d : NEW_LAYER.dense)}
        >
          + {t('add')}
        </button>
        {full && <span className={ui.hint}>{t('full', { max: MAX_HIDDEN_LAYERS })}</span>}
      </div>
      <p className="rounded-lg bg-slate-100 px-3 py-1.5 text-sm font-medium text-slate-600">{(shapes?.outputUnits ?? 1) === 1 ? t('outputSigmoid') : t('outputSoftmax', { units: shapes?.outputUnits ?? 1 })}</p>
    </div>
  );
}

/** The inputs of a layer's own fields (units and activation for dense, filters and kernel for a convolution, …). */
function LayerFieldInputs({ doc, layer, ctx }: { doc: Y.Doc; layer: LayerEntry; ctx: (path: string) => FieldContext }) {
  const t = useTranslations('spec.layers.fields');
  const label = (field: string) => {
    const key = field as Parameters<typeof t>[0];
    return t.has(key) ? t(key) : field;
  };
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
            label={label(field)}
            value={values[field]}
            options={(def.options ?? []).map((o) => ({ value: o, label: o }))}
            onChange={(v) => updateLayer(doc, layer.id, { [field]: v })}
            ctx={ctx(`${base}.${field}`)}
          />
        ) : (
          <NumberField
            key={field}
            path={`${base}.${field}`}
            label={label(field)}
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
