import { FEATURES, SCALAR_FIELDS, describeLayer, scalarValue, type ModelSpec, type ScalarField } from './spec';

/**
 * Fields that may change while a run trains; they apply from the next round (each round stores
 * what it ran with). Any other change needs a new run.
 */
export const LIVE_FIELDS = ['learningRate', 'roundDeadlineSec', 'sampling.fraction', 'sampling.minClients', 'sampling.maxClients'] as const satisfies readonly ScalarField[];
export type LiveField = (typeof LIVE_FIELDS)[number];

export function isLiveField(path: string): path is LiveField {
  return (LIVE_FIELDS as readonly string[]).includes(path);
}

/** `frozen` with the live fields taken from `current`: what the next round of a run trains with. */
export function applyLive(frozen: ModelSpec, current: ModelSpec): ModelSpec {
  return {
    ...frozen,
    learningRate: current.learningRate,
    roundDeadlineSec: current.roundDeadlineSec,
    sampling: { ...current.sampling },
  };
}

/** One difference between two specs, readable as "path: before → after". */
export interface SpecChange {
  /** Field path ("learningRate", "features", or "layers.N" for the N-th hidden layer, 1-based). */
  path: string;
  before: string;
  after: string;
  /** True when the change may apply to a running run from its next round. */
  live: boolean;
}

const show = (value: unknown): string => (Array.isArray(value) ? value.join(', ') || '(none)' : String(value));

/** What changed from `before` to `after`: scalars, features, and layers by position. */
export function specDiff(before: ModelSpec, after: ModelSpec): SpecChange[] {
  const changes: SpecChange[] = [];
  for (const path of Object.keys(SCALAR_FIELDS) as ScalarField[]) {
    const a = scalarValue(before, path);
    const b = scalarValue(after, path);
    if (a !== b) changes.push({ path, before: show(a), after: show(b), live: isLiveField(path) });
  }
  const features = (spec: ModelSpec) => FEATURES.filter((f) => spec.features.includes(f));
  if (features(before).join() !== features(after).join()) {
    changes.push({ path: 'features', before: show(features(before)), after: show(features(after)), live: false });
  }
  const layerText = (spec: ModelSpec) => spec.layers.map(describeLayer);
  const [a, b] = [layerText(before), layerText(after)];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) changes.push({ path: `layers.${i + 1}`, before: a[i] ?? '(none)', after: b[i] ?? '(none)', live: false });
  }
  return changes;
}
