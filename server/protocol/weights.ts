import { z } from 'zod';

/** One tensor of a flattened model: its layer-variable name and shape. Order = order in the buffer. */
export const tensorManifestSchema = z.object({
  name: z.string().max(200),
  shape: z.array(z.number().int().min(1).max(1_000_000)).max(6),
});
export type TensorManifest = z.infer<typeof tensorManifestSchema>;
export const weightsManifestSchema = z.array(tensorManifestSchema).max(200);
export type WeightsManifest = TensorManifest[];

/** Number of float32 values a manifest describes. */
export function manifestSize(manifest: WeightsManifest): number {
  return manifest.reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
}

/**
 * Views received binary (Node Buffer, Uint8Array or browser ArrayBuffer) as float32 without
 * trusting it: the byte length must be exactly `expected` floats. Copies only when the bytes are
 * not 4-byte aligned. Returns null when the length is wrong.
 */
export function viewFloat32(data: ArrayBuffer | ArrayBufferView, expected: number): Float32Array | null {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.byteLength !== expected * 4) return null;
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, expected);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

/** True when every value is a finite number (no NaN, no ±Infinity). */
export function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) return false;
  }
  return true;
}

/** Bytes to send for a float32 vector: a Uint8Array over the same memory (no copy). */
export function toWire(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}
