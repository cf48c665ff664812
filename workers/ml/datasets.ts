import type { DatasetSpec, Feature } from '../../server/protocol/spec';
import { registeredMnist } from './mnist';
import { deriveSeed, gaussian, mulberry32, permutation, uniform, type Rng } from './random';

/**
 * Rows of `dims` values each (row-major: 2-D points, or 28×28 images with values in [0, 1]) and
 * their labels (0/1, or the class index 0..9 for MNIST).
 */
export interface Dataset {
  x: Float32Array;
  y: Float32Array;
  dims: number;
}

/** Half-width of the square the points live in ([-DOMAIN, DOMAIN]²), e.g. for a heatmap grid. */
export const DOMAIN = 6;
/** Radius of the generators, as in TensorFlow Playground; noise can push points a bit beyond. */
const RADIUS = 5;

type Generator = (n: number, noise: number, rng: Rng, x: Float32Array, y: Float32Array) => void;

// The generators follow TensorFlow Playground's (same shapes, same meaning of `noise` in 0..0.5),
// so the difficulty users know from there carries over; labels are 0/1 instead of -1/1.
const spiral: Generator = (n, noise, rng, x, y) => {
  const half = Math.ceil(n / 2);
  for (let k = 0; k < n; k++) {
    const label = k < half ? 1 : 0;
    const i = label === 1 ? k : k - half;
    const count = label === 1 ? half : n - half;
    const r = (i / count) * RADIUS;
    const t = ((1.75 * i) / count) * 2 * Math.PI + (label === 1 ? 0 : Math.PI);
    x[2 * k] = r * Math.sin(t) + uniform(rng, -1, 1) * noise;
    x[2 * k + 1] = r * Math.cos(t) + uniform(rng, -1, 1) * noise;
    y[k] = label;
  }
};

const circle: Generator = (n, noise, rng, x, y) => {
  const half = Math.ceil(n / 2);
  for (let k = 0; k < n; k++) {
    const inside = k < half;
    const r = inside ? uniform(rng, 0, RADIUS * 0.5) : uniform(rng, RADIUS * 0.7, RADIUS);
    const angle = uniform(rng, 0, 2 * Math.PI);
    const px = r * Math.sin(angle);
    const py = r * Math.cos(angle);
    // Noise moves the point used for the label, not the point itself: labels near the rim flip.
    const nx = px + uniform(rng, -RADIUS, RADIUS) * noise;
    const ny = py + uniform(rng, -RADIUS, RADIUS) * noise;
    x[2 * k] = px;
    x[2 * k + 1] = py;
    y[k] = Math.hypot(nx, ny) < RADIUS * 0.5 ? 1 : 0;
  }
};

const xor: Generator = (n, noise, rng, x, y) => {
  const padding = 0.3; // keeps points off the axes, where the label flips
  for (let k = 0; k < n; k++) {
    let px = uniform(rng, -RADIUS, RADIUS);
    px += px > 0 ? padding : -padding;
    let py = uniform(rng, -RADIUS, RADIUS);
    py += py > 0 ? padding : -padding;
    const nx = px + uniform(rng, -RADIUS, RADIUS) * noise;
    const ny = py + uniform(rng, -RADIUS, RADIUS) * noise;
    x[2 * k] = px;
    x[2 * k + 1] = py;
    y[k] = nx * ny >= 0 ? 1 : 0;
  }
};

/** Two Gaussian blobs around (2, 2) (label 1) and (−2, −2) (label 0); noise 0..0.5 widens them (variance 0.5..4). */
const gauss: Generator = (n, noise, rng, x, y) => {
  const sigma = Math.sqrt(0.5 + (noise / 0.5) * 3.5);
  const half = Math.ceil(n / 2);
  for (let k = 0; k < n; k++) {
    const label = k < half ? 1 : 0;
    const c = label === 1 ? 2 : -2;
    x[2 * k] = c + gaussian(rng) * sigma;
    x[2 * k + 1] = c + gaussian(rng) * sigma;
    y[k] = label;
  }
};

/** The sign task's range: x in [−SIGN_RANGE, SIGN_RANGE]. */
export const SIGN_RANGE = 10;

/**
 * "Is x > 0" on the line (stored as points (x, 0), so the 2-D pipeline carries it; the spec uses
 * the single feature x₁): the 21 integers −10..10, the classic first example, or `n` reals drawn
 * from [−10, 10]. Noise flips labels within `noise·10` of zero.
 */
function sign(points: DatasetSpec['points']): Generator {
  return (n, noise, rng, x, y) => {
    for (let k = 0; k < n; k++) {
      const v = points === 'integers' ? k - SIGN_RANGE : uniform(rng, -SIGN_RANGE, SIGN_RANGE);
      const seen = v + uniform(rng, -SIGN_RANGE, SIGN_RANGE) * noise;
      x[2 * k] = v;
      x[2 * k + 1] = 0;
      y[k] = seen > 0 ? 1 : 0;
    }
  };
}

const GENERATORS: Record<Exclude<DatasetSpec['name'], 'sign' | 'mnist'>, Generator> = { spiral, circle, xor, gauss };

/** The first `n` digits of the registered MNIST set (class-balanced prefix), pixels scaled to [0, 1]. */
function mnistRows(n: number): Dataset {
  const set = registeredMnist();
  if (!set) throw new Error('The MNIST digits are not loaded in this process (load them with fetchMnist() or ensureMnistRegistered() first)');
  const count = Math.min(n, set.count);
  const dims = set.rows * set.cols;
  const x = new Float32Array(count * dims);
  for (let i = 0; i < x.length; i++) x[i] = set.pixels[i]! / 255;
  const y = Float32Array.from(set.labels.subarray(0, count));
  return { x, y, dims };
}

/** How many points a dataset spec yields: `samples`, except the sign task's 21 integers. */
export function datasetSize(spec: Pick<DatasetSpec, 'name' | 'samples' | 'points'>): number {
  return spec.name === 'sign' && spec.points === 'integers' ? 2 * SIGN_RANGE + 1 : spec.samples;
}

/** Generates the spec's dataset: identical on every client for the same spec (seeded). */
export function generateDataset(spec: Pick<DatasetSpec, 'name' | 'samples' | 'noise' | 'seed'> & Partial<Pick<DatasetSpec, 'points'>>): Dataset {
  if (spec.name === 'mnist') return mnistRows(spec.samples);
  const points = spec.points ?? 'integers';
  const n = datasetSize({ ...spec, points });
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  const generate = spec.name === 'sign' ? sign(points) : GENERATORS[spec.name];
  generate(n, spec.noise, mulberry32(deriveSeed(spec.seed, `data:${spec.name}`)), x, y);
  return { x, y, dims: 2 };
}

/** Rows `indices` of a dataset, in that order. */
export function selectRows(data: Dataset, indices: ArrayLike<number>): Dataset {
  const { dims } = data;
  const x = new Float32Array(indices.length * dims);
  const y = new Float32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (dims === 2) {
      x[2 * k] = data.x[2 * i]!;
      x[2 * k + 1] = data.x[2 * i + 1]!;
    } else x.set(data.x.subarray(i * dims, (i + 1) * dims), k * dims);
    y[k] = data.y[i]!;
  }
  return { x, y, dims };
}

/** Seeded shuffle, then the first round(n·trainRatio) points train and the rest are held out. */
export function splitDataset(data: Dataset, trainRatio: number, seed: number): { train: Dataset; test: Dataset } {
  const n = data.y.length;
  // Keep both splits non-empty so evaluation and training always have data.
  const nTrain = Math.min(n - 1, Math.max(1, Math.round(n * trainRatio)));
  const order = permutation(n, mulberry32(deriveSeed(seed, 'split')));
  return { train: selectRows(data, order.subarray(0, nTrain)), test: selectRows(data, order.subarray(nTrain)) };
}

/** Indices of a client's shard of the training split: i with i % parts === part. */
export function shardIndices(nTrain: number, part: number, parts: number): Uint32Array {
  if (!Number.isInteger(parts) || parts < 1 || !Number.isInteger(part) || part < 0 || part >= parts) {
    throw new Error(`Invalid shard ${part}/${parts}: need integers with 0 <= part < parts`);
  }
  const out = new Uint32Array(part < nTrain ? Math.ceil((nTrain - part) / parts) : 0);
  for (let k = 0, i = part; i < nTrain; i += parts, k++) out[k] = i;
  return out;
}

/**
 * Input features of points (n×2) → n×features.length. Coordinates are divided by the generator
 * radius so every feature is O(1) (raw squares reach ~36 and saturate tanh units); sin uses the
 * raw coordinate so it keeps TensorFlow Playground's frequency.
 */
export function featurize(x: Float32Array, features: readonly Feature[]): Float32Array {
  const n = x.length >> 1;
  const f = features.length;
  const out = new Float32Array(n * f);
  for (let k = 0; k < n; k++) {
    const a = x[2 * k]!;
    const b = x[2 * k + 1]!;
    const sa = a / RADIUS;
    const sb = b / RADIUS;
    for (let j = 0; j < f; j++) {
      let v: number;
      switch (features[j]!) {
        case 'x1': v = sa; break;
        case 'x2': v = sb; break;
        case 'x1sq': v = sa * sa; break;
        case 'x2sq': v = sb * sb; break;
        case 'x1x2': v = sa * sb; break;
        case 'sin1': v = Math.sin(a); break;
        case 'sin2': v = Math.sin(b); break;
      }
      out[k * f + j] = v;
    }
  }
  return out;
}

/** Cache key of everything that determines the generated data and its split. */
export function datasetKey(spec: DatasetSpec): string {
  return [spec.name, spec.samples, spec.noise, spec.seed, spec.trainRatio, spec.points].join('|');
}

// A few entries: a server evaluates several projects' runs in turn.
const MAX_CACHED_SPLITS = 8;
const splits = new Map<string, { train: Dataset; test: Dataset }>();

/** The spec's train/held-out split, generated once and reused while the dataset spec is unchanged. */
export function datasetSplit(spec: DatasetSpec): { train: Dataset; test: Dataset } {
  const key = datasetKey(spec);
  let split = splits.get(key);
  if (split) {
    splits.delete(key); // re-insert: the Map's order is then least recently used first
  } else {
    split = splitDataset(generateDataset(spec), spec.trainRatio, spec.seed);
    if (splits.size >= MAX_CACHED_SPLITS) splits.delete(splits.keys().next().value!);
  }
  splits.set(key, split);
  return split;
}
