'use client';

import { useEffect, useRef } from 'react';
import { useTranslations } from 'use-intl';
import type { GlobalModelView } from '@/app/_lib/useGlobalModel';
import { hiddenLayers, neuronScale, type NeuronMap, type PlaneEvaluation } from '@/workers/ml/explain';
import { paintGrid } from './colors';

/** Each hidden unit shown (the first 16 of a layer). */
function NeuronTile({ neuron, res, label }: { neuron: NeuronMap; res: number; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (ref.current) paintGrid(ref.current, neuron.values, res, neuronScale(neuron.activation, neuron.values));
  }, [neuron, res]);
  return (
    <li className="h-11 w-11 shrink-0 overflow-hidden rounded border border-slate-300" title={label}>
      <canvas ref={ref} role="img" aria-label={label} className="block h-full w-full" />
    </li>
  );
}

/**
 * What each hidden neuron computes over the plane, as in TensorFlow Playground: one small map per
 * unit, layer by layer (orange = negative or low, blue = positive or high).
 */
export function NeuronGrid({ model, plane }: { model: GlobalModelView | null; plane: PlaneEvaluation | null }) {
  const t = useTranslations('explain.neurons');
  const layers = model ? hiddenLayers(model.net) : [];
  if (!model) return null;
  if (layers.length === 0) return <p className="text-sm text-slate-500">{t('none')}</p>;
  return (
    <div data-testid="neuron-grid" className="space-y-2">
      {layers.map(({ layer, units, activation }, index) => {
        const neurons = plane?.neurons.filter((n) => n.layer === layer) ?? [];
        const shown = Math.min(units, 16);
        return (
          <section key={layer} aria-label={t('layer', { index: index + 1, units, activation })}>
            <h4 className="text-xs font-semibold text-slate-600">
              {t('layer', { index: index + 1, units, activation })}
              {units > shown && <span className="ml-1 font-normal text-slate-500">{t('more', { count: units - shown })}</span>}
            </h4>
            <ul className="mt-1 flex flex-wrap gap-1">
              {plane
                ? neurons.map((n) => <NeuronTile key={n.unit} neuron={n} res={plane.res} label={t('neuron', { layer: index + 1, unit: n.unit + 1 })} />)
                : Array.from({ length: shown }, (_, i) => <li key={i} aria-hidden className="h-11 w-11 shrink-0 rounded border border-dashed border-slate-300 bg-slate-50" />)}
            </ul>
          </section>
        );
      })}
    </div>
  );
}
