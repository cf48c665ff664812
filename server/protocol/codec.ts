import { z } from 'zod';
import type { WeightsManifest } from './weights';

/**
 * Binary encodings of weight and update vectors (the `weights` and `delta` fields), chosen per
 * run in the spec. Isomorphic: no Node imports, runs in browsers, Web Workers and Node.
 *
 * Layouts (P = manifest values, T = manifest tensors, all little-endian):
 *   float32  P × float32                                    4·P bytes (lossless)
 *   float16  P × IEEE binary16, round-to-nearest-even       2·P bytes
 *   int8     T × bfloat16 scale, then P × int8              2·T + P bytes
 *            per tensor: scale = maxabs / 127 rounded up to a bfloat16 (the top half of a
 *            float32: float32's range, 8 significant bits), q = round(x / scale) in [-127, 127],
 *            x ≈ q·scale; an all-zero tensor has scale 0. Rounding the scale up keeps |q| ≤ 127
 *            and costs at most 1/128 of a step; the 2-byte scale keeps small models' headers small.
 *
 * Typed-array views use host byte order; like `toWire`, this assumes a little-endian host (every
 * browser and Node platform in use). Decoding never trusts the bytes: it checks the exact length
 * for the manifest, copies only when a view would be misaligned, and rejects any NaN/±Infinity,
 * including in int8 scales.
 */
export const VECTOR_ENCODINGS = ['float32', 'float16', 'int8'] as const;
export type VectorEncoding = (typeof VECTOR_ENCODINGS)[number];
export const vectorEncodingSchema = z.enum(VECTOR_ENCODINGS);

export interface DecodeFailure {
  ok: false;
  code: 'bad_update';
  reason: string;
}
export type DecodeResult = { ok: true; values: Float32Array } | DecodeFailure;

const fail = (reason: string): DecodeFailure => ({ ok: false, code: 'bad_update', reason });

/** Values per tensor of a manifest, in order. */
function tensorSizes(manifest: WeightsManifest): number[] {
  return manifest.map((t) => t.shape.reduce((a, b) => a * b, 1));
}

/** Bytes a vector for `manifest` takes in `encoding`. */
export function encodedByteLength(manifest: WeightsManifest, encoding: VectorEncoding): number {
  const p = tensorSizes(manifest).reduce((a, b) => a + b, 0);
  switch (encoding) {
    case 'float32':
      return 4 * p;
    case 'float16':
      return 2 * p;
    case 'int8':
      return 2 * manifest.length + p;
  }
}

// ---- float16 ---------------------------------------------------------------------------------

/**
 * Half bits of a float32 given by its bits: round-to-nearest-even, overflow (|x| ≥ 65520) → ±Inf,
 * NaN → quiet NaN, results below the normal range become half subnormals (or ±0).
 */
export function halfBitsFromFloatBits(f: number): number {
  const sign = (f >>> 16) & 0x8000;
  const a = f & 0x7fffffff;
  if (a >= 0x47800000) return sign | (a > 0x7f800000 ? 0x7e00 : 0x7c00); // |x| ≥ 2^16, Inf, NaN
  if (a >= 0x38800000) {
    // Normal half (|x| ≥ 2^-14): rebias the exponent (127 → 15) and round the 13 dropped bits to
    // nearest even; a carry out of the mantissa bumps the exponent, up to Inf past 65504.
    const t = a - 0x38000000;
    return sign | ((t + 0x0fff + ((t >>> 13) & 1)) >>> 13);
  }
  // Half subnormal or zero: |x| = m·2^(e-150); in units of 2^-24 that is m >> (126 - e).
  const e = a >>> 23;
  if (e < 102) return sign; // |x| < 2^-25 (float32 subnormals included) rounds to ±0
  const m = (a & 0x7fffff) | 0x800000;
  const shift = 126 - e; // 14..24
  const q = m >>> shift;
  const rem = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return sign | (rem > half || (rem === half && (q & 1) === 1) ? q + 1 : q);
}

let halfTable: Uint32Array | null = null;

/** float32 bits of every half value (256 KiB), built on first use: decoding is one lookup per value. */
function halfToFloatBits(): Uint32Array {
  if (halfTable) return halfTable;
  const values = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    const magnitude = e === 0 ? m * 2 ** -24 : e === 31 ? (m === 0 ? Infinity : NaN) : (1024 + m) * 2 ** (e - 25);
    values[h] = h & 0x8000 ? -magnitude : magnitude;
  }
  halfTable = new Uint32Array(values.buffer);
  return halfTable;
}

/** The float32 value of half bits `h` (exact). */
export function floatFromHalfBits(h: number): number {
  const bits = halfToFloatBits()[h & 0xffff]!;
  return new Float32Array(new Uint32Array([bits]).buffer)[0]!;
}

// ---- bfloat16 (int8 scales) -----------------------------------------------------------------

const BF16_NAN = 0x7fc0;
const bf16Scratch = new DataView(new ArrayBuffer(4));

/** The bfloat16 bits of the smallest bfloat16 ≥ x (x finite and ≥ 0). */
export function bfloat16BitsUp(x: number): number {
  bf16Scratch.setFloat32(0, x); // rounds to float32 (nearest); may land a hair below x
  let bits = bf16Scratch.getUint32(0);
  if (bf16Scratch.getFloat32(0) < x) bits += 1; // the next float32 up, so bits ≥ x
  // Rounding up past the largest finite value would give Infinity; the decoder rejects that.
  return (bits & 0xffff) === 0 ? bits >>> 16 : (bits >>> 16) + 1;
}

/** The float a bfloat16 stands for. */
export function floatFromBfloat16Bits(bits: number): number {
  bf16Scratch.setUint32(0, (bits & 0xffff) << 16);
  return bf16Scratch.getFloat32(0);
}

// ---- encode ----------------------------------------------------------------------------------

/**
 * Encodes `values` (manifest order) for the wire. float32 returns a view over `values` (no copy);
 * the others a new buffer. Non-finite values are carried through (NaN/Inf halves, a NaN scale in
 * int8), so the receiver rejects them rather than seeing silently clamped numbers. Throws only
 * when `values` does not match the manifest (a programming error).
 */
export function encodeVector(values: Float32Array, manifest: WeightsManifest, encoding: VectorEncoding): Uint8Array {
  const sizes = tensorSizes(manifest);
  const p = sizes.reduce((a, b) => a + b, 0);
  if (values.length !== p) throw new Error(`Vector has ${values.length} values; the manifest needs ${p}`);
  switch (encoding) {
    case 'float32':
      return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    case 'float16': {
      const bits = new Uint32Array(values.buffer, values.byteOffset, p); // Float32Array offsets are 4-aligned
      const out = new Uint16Array(p);
      for (let i = 0; i < p; i++) out[i] = halfBitsFromFloatBits(bits[i]!);
      return new Uint8Array(out.buffer);
    }
    case 'int8': {
      const header = 2 * sizes.length;
      const out = new Uint8Array(header + p);
      const scales = new DataView(out.buffer, 0, header);
      const q = new Int8Array(out.buffer, header, p);
      let start = 0;
      sizes.forEach((size, t) => {
        const end = start + size;
        let maxAbs = 0;
        let nonFinite = false;
        for (let i = start; i < end; i++) {
          const a = Math.abs(values[i]!);
          if (a > maxAbs) maxAbs = a;
          else if (a !== a) nonFinite = true; // NaN compares false both ways
        }
        // Quantise against the scale as it travels, so the receiver's q·scale is what we meant.
        const scaleBits = nonFinite || maxAbs === Infinity ? BF16_NAN : bfloat16BitsUp(maxAbs / 127);
        scales.setUint16(2 * t, scaleBits, true);
        const scale = floatFromBfloat16Bits(scaleBits);
        if (scale > 0) {
          const inv = 1 / scale; // float64: v·inv is within an ulp of v/scale, far below the rounding step
          for (let i = start; i < end; i++) {
            // Clamp to the symmetric range, then round to nearest (ties up) on a positive shift:
            // floor(v + 128.5) − 128 with |0 as floor. Several times faster than Math.round here.
            let v = values[i]! * inv;
            v = v > 127 ? 127 : v < -127 ? -127 : v;
            q[i] = ((v + 128.5) | 0) - 128;
          }
        } // scale 0 (all zero, or too small for a float32 scale) or NaN: q stays 0
        start = end;
      });
      return out;
    }
  }
}

// ---- decode ----------------------------------------------------------------------------------

function asBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

/** An aligned copy of `bytes` (only used when a typed-array view would be misaligned). */
function alignedCopy(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

/** Name of the tensor holding value `index`, for error messages. */
/**
 * values[i] = q[i]·scale for i in [start, end); returns the first index holding -128, or -1.
 * A small function of its own: V8 compiles this hot loop ~10× faster than inline in the switch.
 */
function dequantize(q: Int8Array, values: Float32Array, start: number, end: number, scale: number): number {
  for (let i = start; i < end; i++) {
    const v = q[i]!;
    if (v === -128) return i;
    values[i] = v * scale;
  }
  return -1;
}

function tensorAt(manifest: WeightsManifest, sizes: number[], index: number): string {
  let start = 0;
  for (let t = 0; t < sizes.length; t++) {
    if (index < start + sizes[t]!) return `${manifest[t]!.name}[${index - start}]`;
    start += sizes[t]!;
  }
  return `#${index}`;
}

/**
 * Decodes a received vector for `manifest` without trusting it: exact byte length, finite values
 * (and finite, non-negative int8 scales; int8 bytes in [-127, 127]). float32 input that is 4-byte
 * aligned is viewed in place (the result aliases the input); everything else gets a fresh buffer.
 * Never throws.
 */
export function decodeVector(data: ArrayBuffer | ArrayBufferView, manifest: WeightsManifest, encoding: VectorEncoding): DecodeResult {
  const bytes = asBytes(data);
  if (!bytes) return fail('The vector must be binary data.');
  const sizes = tensorSizes(manifest);
  const p = sizes.reduce((a, b) => a + b, 0);
  const expected = encodedByteLength(manifest, encoding);
  if (bytes.byteLength !== expected) {
    const layout = encoding === 'int8' ? `${sizes.length}×2 scale bytes + ${p} int8 values` : `${p} ${encoding} values`;
    return fail(`A ${encoding} vector for this manifest is ${expected} bytes (${layout}); got ${bytes.byteLength}.`);
  }
  const nonFinite = (i: number) => fail(`The ${encoding} vector holds a NaN or infinite value at ${tensorAt(manifest, sizes, i)}.`);
  switch (encoding) {
    case 'float32': {
      const values =
        bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, p) : new Float32Array(alignedCopy(bytes));
      const bits = new Uint32Array(values.buffer, values.byteOffset, p);
      for (let i = 0; i < p; i++) if ((bits[i]! & 0x7f800000) === 0x7f800000) return nonFinite(i);
      return { ok: true, values };
    }
    case 'float16': {
      const halves =
        bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, p) : new Uint16Array(alignedCopy(bytes));
      const table = halfToFloatBits();
      const values = new Float32Array(p);
      const out = new Uint32Array(values.buffer);
      for (let i = 0; i < p; i++) {
        const h = halves[i]!;
        if ((h & 0x7c00) === 0x7c00) return nonFinite(i);
        out[i] = table[h]!;
      }
      return { ok: true, values };
    }
    case 'int8': {
      // Scales are read with a DataView and values are bytes: no alignment needed, never a copy.
      const header = new DataView(bytes.buffer, bytes.byteOffset, 2 * sizes.length);
      const q = new Int8Array(bytes.buffer, bytes.byteOffset + 2 * sizes.length, p);
      const values = new Float32Array(p);
      let start = 0;
      for (let t = 0; t < sizes.length; t++) {
        const scale = floatFromBfloat16Bits(header.getUint16(2 * t, true));
        const name = manifest[t]!.name;
        if (!Number.isFinite(scale)) return fail(`The int8 scale of tensor ${name} is NaN or infinite.`);
        if (scale < 0) return fail(`The int8 scale of tensor ${name} is negative (${scale}).`);
        // 127·scale finite in float32 ⇒ every q·scale is finite.
        if (!Number.isFinite(Math.fround(scale * 127))) return fail(`The int8 scale of tensor ${name} overflows float32 (${scale}).`);
        const end = start + sizes[t]!;
        const bad = dequantize(q, values, start, end, scale);
        if (bad >= 0) return fail(`The int8 vector holds -128 (outside [-127, 127]) at ${tensorAt(manifest, sizes, bad)}.`);
        start = end;
      }
      return { ok: true, values };
    }
    default:
      return fail(`Unknown vector encoding ${String(encoding)}.`);
  }
}

// ---- checks ----------------------------------------------------------------------------------

/** Euclidean norm, accumulated in float64; NaN or Infinity when a value is. */
export function l2Norm(values: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  const n = values.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const a = values[i]!;
    const b = values[i + 1]!;
    s0 += a * a;
    s1 += b * b;
  }
  if (i < n) s0 += values[i]! * values[i]!;
  return Math.sqrt(s0 + s1);
}

/**
 * Sanity checks of a decoded update: finite values and, when `maxNorm` is given, an L2 norm no
 * larger than it (a crude guard against a client that diverged or sends garbage).
 */
export function checkUpdate(values: Float32Array, limits: { maxNorm?: number } = {}): { ok: true; norm: number } | DecodeFailure {
  const norm = l2Norm(values);
  if (!Number.isFinite(norm)) {
    // Squares of float32 values cannot overflow float64 here, so a non-finite norm means a non-finite value.
    let i = 0;
    while (i < values.length && Number.isFinite(values[i]!)) i++;
    return fail(`The update holds a NaN or infinite value at index ${i}.`);
  }
  if (limits.maxNorm !== undefined && !(norm <= limits.maxNorm)) {
    return fail(`The update's L2 norm ${norm.toPrecision(4)} exceeds the limit ${limits.maxNorm}.`);
  }
  return { ok: true, norm };
}
