/**
 * Private local data: samples a participant clicks, draws or imports in this browser, turned into
 * the {@link Dataset} rows that training uses. They are trained on locally and never sent: only
 * the model update leaves the device. Pure and isomorphic (no TensorFlow.js, no DOM, no Node).
 *
 * - 2-D tasks: points (x, y, label 0/1) in raw coordinates, the generators' coordinate system;
 *   training featurizes them exactly like the built-in datasets (`featurize` in datasets.ts).
 *   The "is x > 0" task lives on a line: its points have y = 0.
 * - MNIST: 28×28 digits, pixels 0..255 (0 background), label 0..9; rows scale them to [0, 1]
 *   as the built-in digits are.
 */
import { z } from 'zod';
import { IMAGE_DATASETS, type DatasetName, type ModelSpec } from '../../server/protocol/spec';
import { classCount } from '../../server/protocol/shapes';
import { datasetSplit, DOMAIN, SIGN_RANGE, type Dataset } from './datasets';
import { partitionIndices } from './partition';
import type { TrainResult, TrainTask } from './train';

export const DIGIT_SIDE = 28;
export const DIGIT_PIXELS = DIGIT_SIDE * DIGIT_SIDE;
/** At most this many private points per 2-D task, and digits per project (localStorage holds ~5 MB). */
export const MAX_PRIVATE_POINTS = 5000;
export const MAX_PRIVATE_DIGITS = 1000;
/** CSV files larger than this are refused before reading (1,000 digits of 784 values fit). */
export const MAX_CSV_BYTES = 4 * 1024 * 1024;
/** Coordinates beyond this are refused: far-out points would saturate the features. */
export const MAX_COORDINATE = 100;

export type PointsTask = Exclude<DatasetName, 'mnist'>;
export type LocalKind = 'points' | 'digits';
export interface PrivatePoint {
  x: number;
  y: number;
  label: number;
}
export interface PrivateDigit {
  label: number;
  /** 784 pixels, row-major, 0..255. */
  pixels: Uint8Array;
}

/**
 * How this browser trains with its private data: not at all ('off'), added to its assigned share
 * of the shared dataset ('with-shard'), or instead of that share ('only').
 */
export const PRIVATE_MODES = ['off', 'with-shard', 'only'] as const;
export type PrivateMode = (typeof PRIVATE_MODES)[number];

/** Private rows handed to training with a task; `key` identifies their content (for caching). */
export interface LocalTrainData {
  rows: Dataset;
  includeShard: boolean;
  key: string;
}

export function localKind(name: DatasetName): LocalKind {
  return IMAGE_DATASETS.includes(name) ? 'digits' : 'points';
}

/** The half-width of the area a task's points are shown in (the sign task's line is longer). */
export function pointDomain(task: PointsTask): number {
  return task === 'sign' ? SIGN_RANGE : DOMAIN;
}

// ---------------------------------------------------------------------------------------------
// Validation of one sample (clicked, typed or read from a file)

/** What is wrong with a sample: `field` names the value (`index`: which pixel, 1-based). */
export type SampleProblem =
  | { code: 'number'; field: 'x' | 'y' | 'pixel'; index?: number }
  | { code: 'range'; field: 'x' | 'y' | 'pixel'; max: number; index?: number }
  | { code: 'label'; max: number };

function checkLabel(label: number, classes: number): SampleProblem | null {
  return Number.isInteger(label) && label >= 0 && label < classes ? null : { code: 'label', max: classes - 1 };
}

/** A clicked or typed point for a task (|x|, |y| ≤ limit), or what is wrong with it. The sign task's y becomes 0. */
export function makePoint(task: PointsTask, x: number, y: number, label: number, limit = MAX_COORDINATE): PrivatePoint | SampleProblem {
  for (const [field, v] of [['x', x], ['y', y]] as const) {
    if (field === 'y' && task === 'sign') continue;
    if (!Number.isFinite(v)) return { code: 'number', field };
    if (Math.abs(v) > limit) return { code: 'range', field, max: limit };
  }
  return checkLabel(label, 2) ?? { x, y: task === 'sign' ? 0 : y, label };
}

export function isProblem(value: object): value is SampleProblem {
  return 'code' in value;
}

// ---------------------------------------------------------------------------------------------
// CSV

export interface CsvLineError {
  /** 1-based line number in the file. */
  line: number;
  problem: SampleProblem | { code: 'fields'; expected: number; found: number } | { code: 'limit'; max: number };
}
export interface CsvResult<T> {
  samples: T[];
  errors: CsvLineError[];
  /** True when line 1 was a header (its first field not a number) and was skipped. */
  header: boolean;
}

/** Splits CSV text into (line number, fields) for non-blank lines; quotes around numbers are dropped. */
function csvLines(text: string): { line: number; fields: string[] }[] {
  const out: { line: number; fields: string[] }[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  lines.forEach((raw, i) => {
    if (raw.trim() === '') return;
    out.push({ line: i + 1, fields: raw.split(',').map((f) => f.trim().replace(/^"(.*)"$/, '$1').trim()) });
  });
  return out;
}

/** A decimal number (no hex, no empty string: `Number('')` is 0). */
function parseNumber(field: string): number {
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(field) ? Number(field) : NaN;
}

function parseCsv<T>(text: string, width: number, max: number, read: (values: number[], fields: string[]) => T | SampleProblem): CsvResult<T> {
  const samples: T[] = [];
  const errors: CsvLineError[] = [];
  const lines = csvLines(text);
  const header = lines.length > 0 && lines[0]!.line === 1 && Number.isNaN(parseNumber(lines[0]!.fields[0] ?? ''));
  for (const { line, fields } of header ? lines.slice(1) : lines) {
    if (fields.length !== width) {
      errors.push({ line, problem: { code: 'fields', expected: width, found: fields.length } });
      continue;
    }
    const sample = read(fields.map(parseNumber), fields);
    if (isProblem(sample as object)) {
      errors.push({ line, problem: sample as SampleProblem });
      continue;
    }
    if (samples.length >= max) {
      errors.push({ line, problem: { code: 'limit', max } });
      continue;
    }
    samples.push(sample as T);
  }
  return { samples, errors, header };
}

/** Rows "x,y,label" (header optional) for a 2-D task; every bad line is reported with its number. */
export function parsePointsCsv(text: string, task: PointsTask, max = MAX_PRIVATE_POINTS): CsvResult<PrivatePoint> {
  return parseCsv(text, 3, max, ([x, y, label], fields) => {
    return makePoint(task, x!, y!, label!);
  });
}

/** Rows "label,p1,…,p784" with pixels 0..255 (header optional), as MNIST's CSV exports are. */
export function parseDigitsCsv(text: string, max = MAX_PRIVATE_DIGITS): CsvResult<PrivateDigit> {
  return parseCsv(text, 1 + DIGIT_PIXELS, max, (values) => {
    const label = values[0]!;
    const bad = checkLabel(label, 10);
    if (bad) return bad;
    const pixels = new Uint8Array(DIGIT_PIXELS);
    for (let i = 0; i < DIGIT_PIXELS; i++) {
      const v = values[i + 1]!;
      if (Number.isNaN(v)) return { code: 'number', field: 'pixel', index: i + 1 };
      if (v < 0 || v > 255) return { code: 'range', field: 'pixel', max: 255, index: i + 1 };
      pixels[i] = Math.round(v);
    }
    return { label, pixels };
  });
}

// ---------------------------------------------------------------------------------------------
// Drawn digits

/**
 * A drawn digit as MNIST preprocesses its digits: the ink's bounding box is scaled (aspect ratio
 * kept, area-averaged so edges turn grey) to fit a 20×20 box, brightened so its strongest pixel
 * is 255, and placed in the 28×28 field with its centre of mass at the centre (moved back inside
 * if that would cut it off). `ink` is width×height intensities (0 = no ink); null when empty.
 */
export function downsampleDigit(ink: ArrayLike<number>, width: number, height: number, threshold = 16): Uint8Array | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x]! < threshold) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  if (x1 < 0) return null;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const scale = 20 / Math.max(w, h);
  const tw = Math.max(1, Math.round(w * scale));
  const th = Math.max(1, Math.round(h * scale));
  const box = new Float64Array(tw * th);
  // Separable area averaging: target cell t covers source [t/scale, (t+1)/scale) along each axis.
  const xs = coverage(w, tw, w / tw);
  const ys = coverage(h, th, h / th);
  for (let ty = 0; ty < th; ty++) {
    for (const [sy, wy] of ys[ty]!) {
      const row = (y0 + sy) * width + x0;
      for (let tx = 0; tx < tw; tx++) {
        let sum = 0;
        for (const [sx, wx] of xs[tx]!) sum += wx * ink[row + sx]!;
        box[ty * tw + tx]! += wy * sum;
      }
    }
  }
  let max = 0;
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = box[y * tw + x]!;
      if (v > max) max = v;
      mass += v;
      mx += v * x;
      my += v * y;
    }
  }
  // MNIST's digits have their centre of mass at pixel index ≈ 14 (the field's centre, 28/2).
  const left = Math.min(DIGIT_SIDE - tw, Math.max(0, Math.round(DIGIT_SIDE / 2 - mx / mass)));
  const top = Math.min(DIGIT_SIDE - th, Math.max(0, Math.round(DIGIT_SIDE / 2 - my / mass)));
  const out = new Uint8Array(DIGIT_PIXELS);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) out[(top + y) * DIGIT_SIDE + left + x] = Math.round((255 * box[y * tw + x]!) / max);
  }
  return out;
}

/** For each of `cells` target cells, the source indices it overlaps and the overlap's share of the cell. */
function coverage(size: number, cells: number, step: number): [index: number, weight: number][][] {
  const out: [number, number][][] = [];
  for (let t = 0; t < cells; t++) {
    const from = t * step;
    const to = Math.min(size, (t + 1) * step);
    const parts: [number, number][] = [];
    for (let s = Math.floor(from); s < to; s++) {
      const overlap = Math.min(to, s + 1) - Math.max(from, s);
      if (overlap > 1e-9) parts.push([s, overlap / step]);
    }
    out.push(parts);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rows for training

export function pointRows(points: readonly PrivatePoint[]): Dataset {
  const x = new Float32Array(points.length * 2);
  const y = new Float32Array(points.length);
  points.forEach((p, k) => {
    x[2 * k] = p.x;
    x[2 * k + 1] = p.y;
    y[k] = p.label;
  });
  return { x, y, dims: 2 };
}

export function digitRows(digits: readonly PrivateDigit[]): Dataset {
  const x = new Float32Array(digits.length * DIGIT_PIXELS);
  const y = new Float32Array(digits.length);
  digits.forEach((d, k) => {
    for (let i = 0; i < DIGIT_PIXELS; i++) x[k * DIGIT_PIXELS + i] = d.pixels[i]! / 255;
    y[k] = d.label;
  });
  return { x, y, dims: DIGIT_PIXELS };
}

/** Rows of `a` then rows of `b` (same dims). */
export function concatRows(a: Dataset, b: Dataset): Dataset {
  if (a.dims !== b.dims) throw new Error(`Cannot join rows of ${a.dims} and ${b.dims} values`);
  const x = new Float32Array(a.x.length + b.x.length);
  x.set(a.x);
  x.set(b.x, a.x.length);
  const y = new Float32Array(a.y.length + b.y.length);
  y.set(a.y);
  y.set(b.y, a.y.length);
  return { x, y, dims: a.dims };
}

/** FNV-1a over the rows' bits: equal keys mean (practically) equal rows, for the trainer's cache. */
export function rowsKey(rows: Dataset): string {
  let h = 0x811c9dc5;
  for (const arr of [rows.x, rows.y]) {
    const bits = new Uint32Array(arr.buffer, arr.byteOffset, arr.length);
    for (let i = 0; i < bits.length; i++) h = Math.imul(h ^ bits[i]!, 0x01000193);
  }
  return `${rows.y.length}:${(h >>> 0).toString(36)}`;
}

/** This browser's private data for a task's dataset, in the chosen mode; null when it adds nothing. */
export function localTrainData(spec: Pick<ModelSpec, 'dataset'>, data: PrivateData, mode: PrivateMode): LocalTrainData | null {
  if (mode === 'off') return null;
  const name = spec.dataset.name;
  const rows = name === 'mnist' ? digitRows(data.digits) : pointRows(data.points[name] ?? []);
  if (rows.y.length === 0) return null;
  return { rows, includeShard: mode === 'with-shard', key: rowsKey(rows) };
}

/** `train` with this participant's private rows attached to every task (looked up per task). */
export function withLocalData(
  train: (task: TrainTask) => Promise<TrainResult>,
  provide: (spec: ModelSpec) => LocalTrainData | null,
): (task: TrainTask) => Promise<TrainResult> {
  return (task) => {
    const local = provide(task.spec);
    return train(local ? { ...task, local } : task);
  };
}

/** Rows per class: counts[c] = how many labels equal c. */
export function labelCounts(labels: ArrayLike<number>, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (c >= 0 && c < classes) counts[c]!++;
  }
  return counts;
}

/** Class counts of one participant's shard of the spec's training split (the spec's partition). */
export function shardLabelCounts(spec: Pick<ModelSpec, 'dataset' | 'partition'>, shard: { part: number; parts: number }): number[] {
  const classes = classCount(spec);
  const train = datasetSplit(spec.dataset).train;
  const indices = partitionIndices(train.y, classes, shard.part, shard.parts, spec.partition, spec.dataset.seed);
  const counts = new Array<number>(classes).fill(0);
  for (let k = 0; k < indices.length; k++) counts[train.y[indices[k]!]!]!++;
  return counts;
}

// ---------------------------------------------------------------------------------------------
// Storage (this browser only): one JSON document per project, validated when read back

export interface PrivateData {
  mode: PrivateMode;
  points: Partial<Record<PointsTask, PrivatePoint[]>>;
  digits: PrivateDigit[];
}
export const EMPTY_PRIVATE_DATA: PrivateData = { mode: 'off', points: {}, digits: [] };

const pointTuple = z.tuple([z.number().min(-MAX_COORDINATE).max(MAX_COORDINATE), z.number().min(-MAX_COORDINATE).max(MAX_COORDINATE), z.union([z.literal(0), z.literal(1)])]);
const storedSchema = z.object({
  version: z.literal(1),
  mode: z.enum(PRIVATE_MODES),
  points: z.partialRecord(z.enum(['spiral', 'circle', 'xor', 'gauss', 'sign']), z.array(pointTuple).max(MAX_PRIVATE_POINTS)),
  digits: z
    .array(z.object({ label: z.number().int().min(0).max(9), pixels: z.string().max(2 * DIGIT_PIXELS) }))
    .max(MAX_PRIVATE_DIGITS),
});

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array | null {
  try {
    const s = atob(text);
    return Uint8Array.from(s, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

export function serializePrivateData(data: PrivateData): string {
  const points = Object.fromEntries(Object.entries(data.points).map(([task, list]) => [task, list.map((p) => [p.x, p.y, p.label])]));
  return JSON.stringify({ version: 1, mode: data.mode, points, digits: data.digits.map((d) => ({ label: d.label, pixels: toBase64(d.pixels) })) });
}

/** Reads stored private data back; anything malformed gives null (the caller starts empty and says so). */
export function parsePrivateData(text: string | null): PrivateData | null {
  if (text === null) return EMPTY_PRIVATE_DATA;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = storedSchema.safeParse(raw);
  if (!parsed.success) return null;
  const digits: PrivateDigit[] = [];
  for (const d of parsed.data.digits) {
    const pixels = fromBase64(d.pixels);
    if (!pixels || pixels.length !== DIGIT_PIXELS) return null;
    digits.push({ label: d.label, pixels });
  }
  const points: PrivateData['points'] = {};
  for (const [task, list] of Object.entries(parsed.data.points)) {
    points[task as PointsTask] = list.map(([x, y, label]) => ({ x, y, label }));
  }
  return { mode: parsed.data.mode, points, digits };
}
