'use client';

import { useEffect, useState } from 'react';
import type * as Y from 'yjs';
import { FEATURES, MAX_HIDDEN_LAYERS, MAX_UNITS, SCALAR_FIELDS, type Feature, type LayerSpec, type ModelSpec, type ScalarField, type SpecProblem } from '@/server/protocol/spec';
import { FEATURES_MAP, SPEC_MAP, readLayers, readScalar, readSpec } from '@/server/protocol/spec-doc';

export interface SpecSnapshot {
  /** Raw values as the document holds them (possibly invalid), for the inputs. */
  scalars: Record<ScalarField, unknown>;
  features: Record<Feature, boolean>;
  layers: (LayerSpec & { order: number })[];
  /** The parsed spec, or null while it has problems. */
  spec: ModelSpec | null;
  /** Problems keyed by field path; layer problems use "layers.<id>.<field>" (shown via useProblemText). */
  problems: Map<string, ProblemText[]>;
  problemCount: number;
  /** False while the document holds no spec yet (before the first sync). */
  seeded: boolean;
}

/** A spec problem to show: a message key (spec.problems.*) with its values, or the validator's own text. */
export type ProblemText = { key: string; values?: Record<string, string | number> } | { text: string };

/** A message people understand, in their language, instead of the schema library's wording. */
export function humanize(path: string, message: string): ProblemText {
  const scalar = SCALAR_FIELDS[path as ScalarField] as (typeof SCALAR_FIELDS)[ScalarField] | undefined;
  if (scalar && scalar.kind !== 'enum') {
    if (/expected int/i.test(message)) return { key: 'wholeNumber' };
    if (/too (big|small)|expected number/i.test(message)) return { key: 'range', values: { min: String(scalar.min), max: String(scalar.max) } };
  }
  if (scalar?.kind === 'enum') return { key: 'pickOne', values: { options: scalar.options.join(', ') } };
  if (path === 'features' && /too small|>=/i.test(message)) return { key: 'atLeastOneFeature' };
  if (path === 'features' && /single input/i.test(message)) return { key: 'signSingleInput' };
  if (path === 'layers' && /too big|<=/i.test(message)) return { key: 'atMostLayers', values: { max: MAX_HIDDEN_LAYERS } };
  const params = /has ([\d,]+) parameters; at most ([\d,]+)/.exec(message);
  if (path === 'layers' && params) return { key: 'tooManyParams', values: { params: Number(params[1]!.replaceAll(',', '')), max: Number(params[2]!.replaceAll(',', '')) } };
  if (/^layers\.\d+\.units$/.test(path)) return { key: 'units', values: { max: MAX_UNITS } };
  // Anything else (layer shape checks, new validator rules) keeps the validator's plain English.
  return { text: message };
}

/** Rewrites zod's index-based layer paths ("layers.1.units") to id-based ones ("layers.<id>.units"). */
function problemMap(problems: SpecProblem[], layers: { id: string }[]): Map<string, ProblemText[]> {
  const map = new Map<string, ProblemText[]>();
  for (const { path, message } of problems) {
    let key = path;
    const match = /^layers\.(\d+)(\..*)?$/.exec(path);
    if (match) {
      const layer = layers[Number(match[1])];
      if (layer) key = `layers.${layer.id}${match[2] ?? ''}`;
    }
    map.set(key, [...(map.get(key) ?? []), humanize(path, message)]);
  }
  return map;
}

export function snapshot(doc: Y.Doc): SpecSnapshot {
  const scalarMap = doc.getMap(SPEC_MAP);
  const scalars = Object.fromEntries((Object.keys(SCALAR_FIELDS) as ScalarField[]).map((f) => [f, readScalar(doc, f)])) as Record<ScalarField, unknown>;
  const featureMap = doc.getMap<boolean>(FEATURES_MAP);
  const features = Object.fromEntries(FEATURES.map((f) => [f, featureMap.get(f) === true])) as Record<Feature, boolean>;
  const layers = readLayers(doc);
  const { spec, problems } = readSpec(doc);
  return { scalars, features, layers, spec, problems: problemMap(problems, layers), problemCount: problems.length, seeded: scalarMap.size > 0 };
}

/** The spec in the shared document, re-read after every change (local or remote). */
export function useSpec(doc: Y.Doc | null): SpecSnapshot | null {
  const [snap, setSnap] = useState<SpecSnapshot | null>(null);
  useEffect(() => {
    if (!doc) {
      setSnap(null);
      return;
    }
    // Synchronous on purpose: a controlled input must see its own write in the same tick.
    // React batches the state updates of a burst of remote changes.
    const update = () => setSnap(snapshot(doc));
    update();
    doc.on('update', update);
    return () => doc.off('update', update);
  }, [doc]);
  return snap;
}
