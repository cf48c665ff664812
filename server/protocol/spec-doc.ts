import * as Y from 'yjs';
import {
  DEFAULT_SPEC,
  FEATURES,
  LAYER_FIELDS,
  LAYER_TYPES,
  SCALAR_FIELDS,
  SPEC_VERSION,
  scalarValue,
  validateSpec,
  type Feature,
  NEW_LAYER,
  type LayerSpec,
  type LayerType,
  type ModelSpec,
  type ScalarField,
  type SpecProblem,
} from './spec';

/**
 * How a model spec lives in a Yjs document, so concurrent edits merge into a valid spec:
 * - `spec` (Y.Map): one key per scalar field path ("dataset.noise", "learningRate", …);
 * - `features` (Y.Map): feature name → boolean;
 * - `layers` (Y.Map): layer id → Y.Map {units, activation, order}; `order` is a number, so a move
 *   is one field write and never duplicates a layer (yjs 13 has no Y.Array move);
 * - `notes` (Y.Text): free-form project notes.
 */
export const SPEC_MAP = 'spec';
export const FEATURES_MAP = 'features';
export const LAYERS_MAP = 'layers';
export const NOTES_TEXT = 'notes';

type LayerMap = Y.Map<number | string>;

/** A scalar as the document holds it; fields added to the spec after the document was written read as their default. */
export function readScalar(doc: Y.Doc, path: ScalarField): unknown {
  const value = doc.getMap(SPEC_MAP).get(path);
  return value === undefined ? scalarValue(DEFAULT_SPEC, path) : value;
}

/** Fills an empty document with a spec; does nothing if the document already holds one. */
export function seedSpecDoc(doc: Y.Doc, spec: ModelSpec = DEFAULT_SPEC): void {
  const scalars = doc.getMap(SPEC_MAP);
  if (scalars.size > 0) return;
  doc.transact(() => {
    for (const path of Object.keys(SCALAR_FIELDS) as ScalarField[]) scalars.set(path, scalarValue(spec, path));
    const features = doc.getMap<boolean>(FEATURES_MAP);
    for (const f of FEATURES) features.set(f, spec.features.includes(f));
    const layers = doc.getMap<LayerMap>(LAYERS_MAP);
    spec.layers.forEach((layer, index) => layers.set(layer.id, makeLayerMap(layer, index + 1)));
  });
}

/** A layer's fields without its id (its type and the type's own fields). */
export type LayerFields = DistributiveOmit<LayerSpec, 'id'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A layer as the document holds it, with its order key; fields may be invalid mid-edit. */
export type LayerEntry = LayerSpec & { order: number };

function makeLayerMap(layer: LayerFields, order: number): LayerMap {
  const map = new Y.Map<number | string>();
  for (const [key, value] of Object.entries(layer)) map.set(key, value as number | string);
  map.set('order', order);
  return map;
}

/** Hidden layers in display order (by order key, ties broken by id so every peer agrees). */
export function readLayers(doc: Y.Doc): LayerEntry[] {
  const layers: LayerEntry[] = [];
  doc.getMap<LayerMap>(LAYERS_MAP).forEach((map, id) => {
    // Version-1 documents stored dense layers without a type.
    const entry: Record<string, unknown> = { id, type: 'dense' };
    map.forEach((value, key) => (entry[key] = value));
    entry.order = Number(entry.order ?? 0);
    layers.push(entry as LayerEntry);
  });
  return layers.sort((a, b) => a.order - b.order || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The root types a spec document may have; a hostile client must not add others. */
export const DOC_ROOTS: readonly string[] = [SPEC_MAP, FEATURES_MAP, LAYERS_MAP, NOTES_TEXT];

type FieldRule = { kind: 'enum'; options: readonly string[] } | { kind: 'int' | 'number' };
const LAYER_FIELD_RULES: Record<string, FieldRule> = Object.assign({}, ...Object.values(LAYER_FIELDS));

function typeFits(rule: FieldRule, value: unknown): boolean {
  if (rule.kind === 'enum') return typeof value === 'string' && rule.options.includes(value);
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * Places where the document holds a value of the wrong TYPE for its field: an unknown key or
 * root, an enum value not among the options, a non-finite or non-numeric number, a layer that is
 * not a map or has an unknown type. Ranges are not checked here: the editor writes out-of-range
 * numbers on purpose (everyone sees the problem and can fix it), but it never writes any of
 * these, so the server refuses an edit that introduces one (see server/collab/doc-guard.ts).
 */
export function docTypeProblems(doc: Y.Doc): string[] {
  const problems: string[] = [];
  for (const root of doc.share.keys()) if (!DOC_ROOTS.includes(root)) problems.push(`root ${root}`);
  doc.getMap(SPEC_MAP).forEach((value, key) => {
    const rule = (SCALAR_FIELDS as Record<string, FieldRule>)[key];
    if (!rule || !typeFits(rule, value)) problems.push(`spec.${key}`);
  });
  doc.getMap(FEATURES_MAP).forEach((value, key) => {
    if (!(FEATURES as readonly string[]).includes(key) || typeof value !== 'boolean') problems.push(`features.${key}`);
  });
  doc.getMap(LAYERS_MAP).forEach((layer, id) => {
    if (!(layer instanceof Y.Map)) return problems.push(`layers.${id}`);
    layer.forEach((value, key) => {
      const fits =
        key === 'type' ? typeof value === 'string' && (LAYER_TYPES as readonly string[]).includes(value)
        : key === 'order' ? typeof value === 'number' && Number.isFinite(value)
        : key === 'id' ? typeof value === 'string'
        : LAYER_FIELD_RULES[key] !== undefined && typeFits(LAYER_FIELD_RULES[key], value);
      if (!fits) problems.push(`layers.${id}.${key}`);
    });
  });
  return problems;
}

/** The spec as the document holds it right now: parsed, or the problems tied to fields. */
export function readSpec(doc: Y.Doc): { spec: ModelSpec | null; problems: SpecProblem[] } {
  const raw: Record<string, unknown> = { specVersion: SPEC_VERSION };
  for (const path of Object.keys(SCALAR_FIELDS) as ScalarField[]) {
    const [head, tail] = path.split('.') as [string, string | undefined];
    if (tail) ((raw[head] ??= {}) as Record<string, unknown>)[tail] = readScalar(doc, path);
    else raw[head] = readScalar(doc, path);
  }
  const features = doc.getMap<boolean>(FEATURES_MAP);
  raw.features = FEATURES.filter((f) => features.get(f) === true);
  raw.layers = readLayers(doc).map(({ order: _order, ...layer }) => layer);
  const result = validateSpec(raw);
  return result.ok ? { spec: result.spec, problems: [] } : { spec: null, problems: result.problems };
}

export function setScalar(doc: Y.Doc, path: ScalarField, value: string | number): void {
  doc.getMap(SPEC_MAP).set(path, value);
}

export function setFeature(doc: Y.Doc, feature: Feature, on: boolean): void {
  doc.getMap<boolean>(FEATURES_MAP).set(feature, on);
}

function newLayerId(): string {
  return `l${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/** Adds a hidden layer at the end (or after `afterId`); returns its id. */
export function addLayer(doc: Y.Doc, layer: LayerFields = { type: 'dense', units: 4, activation: 'tanh' }, afterId?: string): string {
  const list = readLayers(doc);
  const found = afterId ? list.findIndex((l) => l.id === afterId) : -1;
  // An unknown afterId (deleted by someone meanwhile) means "at the end".
  const at = found >= 0 ? found : list.length - 1;
  const before = list[at]?.order ?? 0;
  const after = list[at + 1]?.order ?? before + 2;
  const id = newLayerId();
  doc.getMap<LayerMap>(LAYERS_MAP).set(id, makeLayerMap(layer, (before + after) / 2));
  return id;
}

export function removeLayer(doc: Y.Doc, id: string): void {
  doc.getMap<LayerMap>(LAYERS_MAP).delete(id);
}

/** Sets fields of a layer (not its type: see setLayerType), in one transaction. */
export function updateLayer(doc: Y.Doc, id: string, patch: Record<string, number | string | undefined>): void {
  const map = doc.getMap<LayerMap>(LAYERS_MAP).get(id);
  if (!map) return;
  doc.transact(() => {
    for (const [key, value] of Object.entries(patch)) if (value !== undefined && key !== 'type' && key !== 'order') map.set(key, value);
  });
}

/**
 * Changes a layer's type: fields the new type shares (an activation) keep their value, the others
 * take the new type's defaults, and fields it does not have are removed. Every field of the new
 * type is written, kept ones too: a concurrent retype to another type deletes only the values it
 * saw, so whichever type wins the merge still has all of its fields.
 */
export function setLayerType(doc: Y.Doc, id: string, type: LayerType): void {
  const map = doc.getMap<LayerMap>(LAYERS_MAP).get(id);
  if (!map) return;
  const fresh: Record<string, number | string> = { ...NEW_LAYER[type] };
  doc.transact(() => {
    for (const key of [...map.keys()]) if (key !== 'order' && !(key in fresh)) map.delete(key);
    for (const [key, value] of Object.entries(fresh)) {
      const kept = map.get(key);
      map.set(key, key === 'type' || kept === undefined ? value : kept);
    }
  });
}

/** Moves a layer one place up (-1) or down (+1) by giving it an order key between its new neighbours. */
export function moveLayer(doc: Y.Doc, id: string, direction: -1 | 1): void {
  const list = readLayers(doc);
  const index = list.findIndex((l) => l.id === id);
  const target = index + direction;
  if (index < 0 || target < 0 || target >= list.length) return;
  const neighbour = list[target]!.order;
  const beyond = list[target + direction]?.order ?? neighbour + direction * 2;
  const layers = doc.getMap<LayerMap>(LAYERS_MAP);
  if (Math.abs(beyond - neighbour) < 1e-6) {
    // Repeated moves in one gap halve it each time; renumber everyone before floats run out.
    const reordered = list.filter((l) => l.id !== id);
    reordered.splice(target, 0, list[index]!);
    doc.transact(() => reordered.forEach((l, i) => layers.get(l.id)?.set('order', i + 1)));
    return;
  }
  layers.get(id)?.set('order', (neighbour + beyond) / 2);
}
