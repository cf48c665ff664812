/**
 * Pure checks for model versions: an uploaded TensorFlow.js layers model (model.json +
 * weights.bin) is judged here before TensorFlow.js ever sees it, and a checkpoint's manifest is
 * compared with the current spec's before it starts a run. Every refusal is a sentence a person
 * can act on; nothing here allocates more than the input's own size.
 */
import { MAX_IMPORT_MODEL_JSON_BYTES, MAX_IMPORT_WEIGHT_BYTES, MAX_PARAMS, runOriginSchema, type RunOrigin, type WeightsManifest } from '../protocol';

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

const fail = (problem: string): { ok: false; problem: string } => ({ ok: false, problem });

/** A tensor manifest entry as model.json lists it (weightsManifest[].weights[]). */
export interface FileWeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 32;
const MAX_NODES = 50_000;

/** Refuses JSON that is too deep, too large, or carries keys that could reach object prototypes. */
export function checkJsonTree(value: unknown): string | null {
  let nodes = 0;
  const walk = (v: unknown, depth: number): string | null => {
    if (++nodes > MAX_NODES) return `model.json has more than ${MAX_NODES.toLocaleString('en')} values`;
    if (depth > MAX_DEPTH) return `model.json is nested more than ${MAX_DEPTH} levels deep`;
    if (Array.isArray(v)) {
      for (const item of v) {
        const problem = walk(item, depth + 1);
        if (problem) return problem;
      }
    } else if (v && typeof v === 'object') {
      for (const [key, item] of Object.entries(v)) {
        if (FORBIDDEN_KEYS.has(key)) return `model.json contains the key "${key}"`;
        const problem = walk(item, depth + 1);
        if (problem) return problem;
      }
    }
    return null;
  };
  return walk(value, 0);
}

const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const isDim = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_PARAMS;
const shapeText = (shape: readonly number[]) => `[${shape.join(',')}]`;
const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Layer classes of the spec's networks (buildModel in workers/ml/model.ts). */
const SUPPORTED_LAYERS = ['InputLayer', 'Dense', 'Conv2D', 'MaxPooling2D', 'Flatten', 'Dropout'] as const;
const MAX_FILE_LAYERS = 64;

function pair(v: unknown, fallback: number): [number, number] | null {
  if (v === undefined || v === null) return [fallback, fallback];
  if (isDim(v)) return [v, v];
  if (Array.isArray(v) && v.length === 2 && isDim(v[0]) && isDim(v[1])) return [v[0], v[1]];
  return null;
}

/**
 * The model topology of model.json, judged without building it: a Sequential stack of the layer
 * types the spec uses, whose variables add up to at most MAX_PARAMS. TensorFlow.js allocates
 * every variable while it loads a topology, so a hostile file must be refused before that.
 * Output sizes are upper bounds (pooling and strides round up), which is all a bound needs.
 */
export function checkTopology(modelTopology: unknown): Checked<{ params: number; layers: number; weights: WeightsManifest }> {
  let topology = modelTopology;
  if (isRecord(topology) && isRecord(topology.model_config)) topology = topology.model_config;
  if (!isRecord(topology)) return fail('model.json has no modelTopology object');
  const className = topology.class_name;
  if (className !== 'Sequential') return fail(`Only Sequential models can be imported; this model.json holds a ${typeof className === 'string' ? className : 'model of unknown type'}`);
  const config = topology.config;
  const layers = Array.isArray(config) ? config : isRecord(config) ? config.layers : undefined;
  if (!Array.isArray(layers) || layers.length === 0) return fail('model.json lists no layers');
  if (layers.length > MAX_FILE_LAYERS) return fail(`model.json lists ${layers.length} layers; at most ${MAX_FILE_LAYERS} can be imported`);

  let shape: number[] | null = null;
  let params = 0;
  // The variables each layer makes, in the order TensorFlow.js lists them (kernel, then bias).
  const weights: WeightsManifest = [];
  const variables = (layer: string, kernel: number[], bias: number | null) => {
    weights.push({ name: `${layer}/kernel`, shape: kernel });
    if (bias !== null) weights.push({ name: `${layer}/bias`, shape: [bias] });
  };
  for (const [i, layer] of layers.entries()) {
    if (!isRecord(layer) || !isRecord(layer.config)) return fail(`Layer ${i + 1} of model.json has no config`);
    const kind = layer.class_name;
    const c = layer.config;
    const name = typeof c.name === 'string' ? c.name : `#${i + 1}`;
    if (typeof kind !== 'string' || !(SUPPORTED_LAYERS as readonly string[]).includes(kind)) {
      return fail(`Layer ${name} is a ${String(kind)}; only ${SUPPORTED_LAYERS.join(', ')} layers can be imported`);
    }
    if (shape === null) {
      const declared = c.batch_input_shape ?? c.batchInputShape ?? (Array.isArray(c.input_shape) ? [null, ...(c.input_shape as unknown[])] : undefined);
      if (!Array.isArray(declared) || declared.length < 2 || declared.length > 4 || !declared.slice(1).every(isDim)) {
        return fail(`The first layer (${name}) of model.json declares no usable input shape`);
      }
      shape = declared.slice(1) as number[];
      if (product(shape) > MAX_PARAMS) return fail(`The input shape ${shapeText(shape)} of model.json is too large`);
    }
    const useBias = c.use_bias !== false;
    switch (kind) {
      case 'InputLayer':
      case 'Dropout':
        break;
      case 'Flatten':
        shape = [product(shape)];
        break;
      case 'Dense': {
        if (!isDim(c.units)) return fail(`Dense layer ${name} has no valid units`);
        params += shape[shape.length - 1]! * c.units + (useBias ? c.units : 0);
        variables(name, [shape[shape.length - 1]!, c.units], useBias ? c.units : null);
        shape = [...shape.slice(0, -1), c.units];
        break;
      }
      case 'Conv2D':
      case 'MaxPooling2D': {
        if (shape.length !== 3) return fail(`Layer ${name} (${kind}) needs an image input (height × width × channels), not ${shapeText(shape)}`);
        const window = pair(kind === 'Conv2D' ? c.kernel_size : c.pool_size, kind === 'Conv2D' ? 1 : 2);
        const strides = pair(c.strides, kind === 'Conv2D' ? 1 : (window?.[0] ?? 1));
        if (!window || !strides) return fail(`Layer ${name} (${kind}) has an invalid window or stride`);
        const [h, w, channels] = shape as [number, number, number];
        let out = channels;
        if (kind === 'Conv2D') {
          if (!isDim(c.filters)) return fail(`Conv2D layer ${name} has no valid filters`);
          params += window[0] * window[1] * channels * c.filters + (useBias ? c.filters : 0);
          variables(name, [window[0], window[1], channels, c.filters], useBias ? c.filters : null);
          out = c.filters;
        }
        shape = [Math.ceil(h / strides[0]), Math.ceil(w / strides[1]), out];
        break;
      }
    }
    if (params > MAX_PARAMS) return fail(`The network in model.json has more than ${MAX_PARAMS.toLocaleString('en')} parameters`);
    if (product(shape) > 16 * MAX_PARAMS) return fail(`Layer ${name} of model.json outputs ${shapeText(shape)}, which is too large`);
  }
  return { ok: true, value: { params, layers: layers.length, weights } };
}

/** The weights listed by model.json's weightsManifest, in file order (all groups concatenated). */
export function fileWeightSpecs(modelJson: Record<string, unknown>): Checked<FileWeightSpec[]> {
  const groups = modelJson.weightsManifest;
  if (!Array.isArray(groups) || groups.length === 0) return fail('model.json has no weightsManifest (is it a TensorFlow.js layers model?)');
  const specs: FileWeightSpec[] = [];
  for (const group of groups) {
    if (!isRecord(group) || !Array.isArray(group.weights)) return fail('model.json has a weightsManifest entry without weights');
    for (const w of group.weights) {
      if (!isRecord(w) || typeof w.name !== 'string' || w.name.length === 0 || w.name.length > 200) return fail('model.json lists a weight without a name');
      if (!Array.isArray(w.shape) || w.shape.length > 6 || !w.shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0 && d <= MAX_PARAMS)) {
        return fail(`${w.name} has an invalid shape in model.json`);
      }
      if (w.dtype !== 'float32') return fail(`${w.name} is ${String(w.dtype)} in model.json; only float32 weights can be imported`);
      if (w.quantization !== undefined) return fail(`${w.name} is quantised in model.json; only float32 weights can be imported`);
      if (w.group !== undefined && w.group !== 'model') return fail(`model.json includes ${String(w.group)} weights (${w.name}); save the model without them`);
      specs.push({ name: w.name, shape: w.shape as number[], dtype: 'float32' });
      if (specs.length > 4 * MAX_FILE_LAYERS) return fail('model.json lists too many weights');
    }
  }
  return { ok: true, value: specs };
}

/**
 * Compares tensors position by position (names may differ: a Keras file calls h0/kernel
 * dense_1/kernel): null when every shape matches, else the first difference as a sentence.
 */
export function compareShapes(
  given: readonly { name: string; shape: readonly number[] }[],
  expected: WeightsManifest,
  where: { given: string; expected: string },
): string | null {
  const n = Math.min(given.length, expected.length);
  for (let i = 0; i < n; i++) {
    const a = given[i]!;
    const b = expected[i]!;
    if (a.shape.length !== b.shape.length || a.shape.some((d, j) => d !== b.shape[j])) {
      const alias = a.name === b.name ? '' : ` (${b.name})`;
      return `${a.name} is ${shapeText(a.shape)} in ${where.given} but ${shapeText(b.shape)} in ${where.expected}${alias}`;
    }
  }
  if (given.length !== expected.length) {
    const extra = given.length > expected.length ? `${given[n]!.name} ${shapeText(given[n]!.shape)} is not` : `${expected[n]!.name} ${shapeText(expected[n]!.shape)} is missing`;
    return `${where.given} has ${given.length} weight tensors but ${where.expected} has ${expected.length}: ${extra}${given.length > expected.length ? ` in ${where.expected}` : ` from ${where.given}`}`;
  }
  return null;
}

/** Decodes weights.bin (base64) into float32 values for `specs`, refusing wrong sizes and non-finite values. */
export function decodeWeights(base64: string, specs: readonly FileWeightSpec[]): Checked<Float32Array> {
  const expected = specs.reduce((total, s) => total + product(s.shape), 0);
  if (expected * 4 > MAX_IMPORT_WEIGHT_BYTES) return fail(`model.json lists ${expected.toLocaleString('en')} parameters; at most ${MAX_PARAMS.toLocaleString('en')} can be imported`);
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== expected * 4) {
    return fail(`weights.bin has ${bytes.length.toLocaleString('en')} bytes but model.json lists ${expected.toLocaleString('en')} float32 values (${(expected * 4).toLocaleString('en')} bytes)`);
  }
  // Copy into an aligned buffer of its own (Buffer.from may share a pool at any offset).
  const values = new Float32Array(expected);
  new Uint8Array(values.buffer).set(bytes);
  let offset = 0;
  for (const spec of specs) {
    const size = product(spec.shape);
    for (let i = 0; i < size; i++) {
      if (!Number.isFinite(values[offset + i]!)) return fail(`weights.bin holds ${String(values[offset + i])} at index ${i} of ${spec.name}`);
    }
    offset += size;
  }
  return { ok: true, value: values };
}

/** The model.json text size bound, measured as the server would store it. */
export function modelJsonTooLarge(modelJson: unknown): boolean {
  return JSON.stringify(modelJson).length > MAX_IMPORT_MODEL_JSON_BYTES;
}

/** Run.origin as stored (JSON text) → the typed origin, or null when fresh or unreadable. */
export function parseOrigin(stored: string | null): RunOrigin | null {
  if (!stored) return null;
  try {
    const parsed = runOriginSchema.safeParse(JSON.parse(stored));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
