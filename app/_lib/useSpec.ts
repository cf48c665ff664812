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
  /** Problems keyed by field path; layer problems use "layers.<id>.<field>". */
  problems: Map<string, string[]>;
  problemCount: number;
  /** False while the document holds no spec yet (before the first sync). */
  seeded: boolean;
}

/** A message people understand, instead of the schema library's wording. */
function humanize(path: string, message: string): string {
  const scalar = SCALAR_FIELDS[path as ScalarField] as (typeof SCALAR_FIELDS)[ScalarField] | undefined;
  if (scalar && scalar.kind !== 'enum') {
    if (/expected int/i.test(message)) return 'Must be a whole number';
    if (/too (big|small)|expected number/i.test(message)) return `Must be from ${scalar.min} to ${scalar.max}`;
  }
  if (scalar?.kind === 'enum') return `Pick one of: ${scalar.options.join(', ')}`;
  // Whole-spec checks (parameter limit, the sign task's single input) already speak plainly.
  if (path === 'features' && /too small|>=/i.test(message)) return 'Pick at least one input feature';
  if (path === 'layers' && /too big|<=/i.test(message)) return `At most ${MAX_HIDDEN_LAYERS} hidden layers`;
  if (/^layers\.\d+\.units$/.test(path)) return `Units must be a whole number from 1 to ${MAX_UNITS}`;
  return message;
}

/** Rewrites zod's index-based layer paths ("layers.1.units") to id-based ones ("layers.<id>.units"). */
function problemMap(problems: SpecProblem[], layers: { id: string }[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
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
