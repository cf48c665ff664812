/**
 * Secure aggregation arithmetic (pairwise masking, Bonawitz et al. 2017, simplified): fixed-point
 * encoding modulo 2³², pairwise masks expanded from a shared seed, mask and unmask. No sockets,
 * no keys: the key agreement lives in workers/secagg-keys.ts, the round state in
 * server/training/secagg.ts.
 *
 * What a client sends is `y_i = enc(n_i·x_i) + Σ_{j>i} PRG(s_ij) − Σ_{j<i} PRG(s_ij)  (mod 2³²)`,
 * with n_i its sample count, x_i its delta (plus a few statistics, see SECAGG_EXTRAS) and s_ij the
 * seed it shares with peer j (ids compared as strings: the lower one adds, the higher subtracts).
 * Summed over every client the masks cancel exactly, so the server learns Σ n_i·x_i and nothing
 * about a single x_i: each y_i alone is uniformly distributed.
 *
 * Overflow: every value is clamped to |v| ≤ SECAGG_BOUND before encoding, and the round's scale
 * 2^scaleBits is the largest power of two with N·B·2^f + K ≤ 2³¹ − 1 (N: the round's declared
 * samples, K: the clients summed, B: the bound), so the true sum of the rounded values always lies
 * in the signed 32-bit range and reads back exactly from the sum modulo 2³². Each rounding costs at
 * most 2^−f/2, so the sample-weighted mean is off by at most K·2^−f/(2N) ≈ K·B/2³² per coordinate.
 */

import { SECAGG_BOUND } from '../../server/protocol/spec';

/** Largest |value| a client encodes; larger values (a diverged update) are clamped to it. */
export { SECAGG_BOUND };
/** Extra coordinates after the delta: Σ n·loss, Σ n over clients with a loss, Σ n·accuracy, Σ n over clients with an accuracy. */
export const SECAGG_EXTRAS = 4;
/** Bytes of a pairwise seed (HKDF output; an AES-256-CTR key for the mask PRG). */
export const SEED_BYTES = 32;

/** The round's scale exponent f: the largest with totalSamples·B·2^f + clients ≤ 2³¹ − 1 (f may be negative for huge rounds). */
export function scaleBitsFor(totalSamples: number, clients: number, bound = SECAGG_BOUND): number {
  if (!(totalSamples >= 1) || !(clients >= 1)) throw new Error('a secure aggregation round needs samples and clients');
  const room = 2 ** 31 - 1 - clients;
  let bits = Math.floor(Math.log2(room / (totalSamples * bound)));
  // log2 in floating point can land one off at exact powers of two: step to the true bound.
  while (totalSamples * bound * 2 ** bits > room) bits -= 1;
  while (totalSamples * bound * 2 ** (bits + 1) <= room) bits += 1;
  return bits;
}

/** What one client's values contribute, as unsigned 32-bit integers: round(weight·clamp(v)·2^f) mod 2³². */
export function encodeFixed(values: ArrayLike<number>, weight: number, scaleBits: number, bound = SECAGG_BOUND): Uint32Array {
  const out = new Uint32Array(values.length);
  const scale = 2 ** scaleBits;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const clamped = Number.isFinite(v) ? Math.max(-bound, Math.min(bound, v)) : 0;
    out[i] = Math.round(weight * clamped * scale) >>> 0;
  }
  return out;
}

/** A sum of encoded values back to numbers: each u32 read as a signed 32-bit integer, divided by 2^f. */
export function decodeFixed(sum: Uint32Array, scaleBits: number): Float64Array {
  const out = new Float64Array(sum.length);
  const scale = 2 ** -scaleBits;
  for (let i = 0; i < sum.length; i++) out[i] = (sum[i]! | 0) * scale;
  return out;
}

/** target += other (mod 2³²), in place. */
export function addInto(target: Uint32Array, other: Uint32Array): Uint32Array {
  if (other.length !== target.length) throw new Error(`length ${other.length} ≠ ${target.length}`);
  for (let i = 0; i < target.length; i++) target[i] = (target[i]! + other[i]!) >>> 0;
  return target;
}

/** target −= other (mod 2³²), in place. */
export function subtractInto(target: Uint32Array, other: Uint32Array): Uint32Array {
  if (other.length !== target.length) throw new Error(`length ${other.length} ≠ ${target.length}`);
  for (let i = 0; i < target.length; i++) target[i] = (target[i]! - other[i]!) >>> 0;
  return target;
}

/** +1 when `self` adds the mask it shares with `peer` (self sorts first), −1 when it subtracts it. */
export function maskSign(self: string, peer: string): 1 | -1 {
  if (self === peer) throw new Error('a client shares no mask with itself');
  return self < peer ? 1 : -1;
}

/**
 * The pseudorandom mask of `length` u32 values a seed expands to: AES-256-CTR keystream (key = the
 * seed, counter block 0, 64-bit counter) read as little-endian u32s. Both peers, and the server
 * when a seed is revealed for a dropped client, expand the same seed to the same mask. WebCrypto:
 * browsers, workers and Node ≥ 20.
 */
export async function expandMask(seed: Uint8Array, length: number): Promise<Uint32Array> {
  if (seed.byteLength !== SEED_BYTES) throw new Error(`a mask seed has ${SEED_BYTES} bytes, not ${seed.byteLength}`);
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('WebCrypto (crypto.subtle) is unavailable: it needs HTTPS or localhost');
  const key = await subtle.importKey('raw', seed as Uint8Array<ArrayBuffer>, { name: 'AES-CTR' }, false, ['encrypt']);
  const stream = await subtle.encrypt({ name: 'AES-CTR', counter: new Uint8Array(16), length: 64 }, key, new Uint8Array(length * 4));
  if (LITTLE_ENDIAN) return new Uint32Array(stream);
  const out = new Uint32Array(length);
  const view = new DataView(stream);
  for (let i = 0; i < length; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Masks `encoded` in place: + the mask of every peer `self` sorts before, − the others'. */
export async function applyMasks(encoded: Uint32Array, self: string, seeds: ReadonlyMap<string, Uint8Array>): Promise<Uint32Array> {
  for (const [peer, seed] of seeds) {
    const mask = await expandMask(seed, encoded.length);
    if (maskSign(self, peer) > 0) addInto(encoded, mask);
    else subtractInto(encoded, mask);
  }
  return encoded;
}

/**
 * Removes from a sum the masks a dropped client left behind: survivor `survivor` masked with
 * `sign(survivor, dropped)·PRG(seed)`, and the dropped client's own opposite mask never arrived.
 */
export async function removeDanglingMask(sum: Uint32Array, survivor: string, dropped: string, seed: Uint8Array): Promise<Uint32Array> {
  const mask = await expandMask(seed, sum.length);
  return maskSign(survivor, dropped) > 0 ? subtractInto(sum, mask) : addInto(sum, mask);
}

/** A client's contribution before masking: n·delta, then the statistics of SECAGG_EXTRAS. */
export function contributionVector(delta: Float32Array, samples: number, trainLoss: number | null, trainAccuracy: number | null, scaleBits: number): Uint32Array {
  const values = new Float64Array(delta.length + SECAGG_EXTRAS);
  values.set(delta);
  const p = delta.length;
  const hasLoss = trainLoss !== null && Number.isFinite(trainLoss);
  const hasAccuracy = trainAccuracy !== null && Number.isFinite(trainAccuracy);
  values[p] = hasLoss ? trainLoss : 0;
  values[p + 1] = hasLoss ? 1 : 0;
  values[p + 2] = hasAccuracy ? trainAccuracy : 0;
  values[p + 3] = hasAccuracy ? 1 : 0;
  return encodeFixed(values, samples, scaleBits);
}

/** The unmasked sum read back: sample-weighted mean delta and the mean training loss and accuracy of those that reported them. */
export function readSum(sum: Uint32Array, scaleBits: number, totalSamples: number): { delta: Float32Array; trainLoss: number | null; trainAccuracy: number | null } {
  const decoded = decodeFixed(sum, scaleBits);
  const p = sum.length - SECAGG_EXTRAS;
  const delta = new Float32Array(p);
  for (let i = 0; i < p; i++) delta[i] = decoded[i]! / totalSamples;
  const lossWeight = Math.round(decoded[p + 1]!);
  const accuracyWeight = Math.round(decoded[p + 3]!);
  return {
    delta,
    trainLoss: lossWeight > 0 ? decoded[p]! / lossWeight : null,
    trainAccuracy: accuracyWeight > 0 ? decoded[p + 2]! / accuracyWeight : null,
  };
}
