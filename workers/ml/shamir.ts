/**
 * Shamir secret sharing of a secure aggregation self-mask seed, over the prime field GF(65537):
 * the 32-byte seed is 16 words of 16 bits, each shared by its own random polynomial of degree
 * t − 1, so any t shares rebuild the seed and fewer say nothing about it. A share is the 16
 * polynomial values at the holder's x (1 … 65536) as little-endian u32s (64 bytes). Pure apart
 * from the randomness (the platform's CSPRNG, or a given source in tests).
 */

export const FIELD = 65537;
const WORDS = 16;
/** Bytes of one share: 16 field elements as u32. */
export const SHARE_BYTES = WORDS * 4;

export interface Share {
  /** The holder's point, 1 … 65536 (never 0: the secret lives there). */
  x: number;
  y: Uint32Array;
}

/** Uniform field elements from 32-bit random words (rejection sampling: no modulo bias). */
function randomElements(count: number, random: (n: number) => Uint32Array): Uint32Array {
  const out = new Uint32Array(count);
  const limit = Math.floor(2 ** 32 / FIELD) * FIELD;
  let filled = 0;
  while (filled < count) {
    for (const word of random(count - filled)) {
      if (word >= limit) continue;
      out[filled++] = word % FIELD;
      if (filled === count) break;
    }
  }
  return out;
}

function cryptoWords(n: number): Uint32Array {
  return globalThis.crypto.getRandomValues(new Uint32Array(n));
}

const mul = (a: number, b: number) => (a * b) % FIELD; // < 2^33: exact in doubles
const add = (a: number, b: number) => (a + b) % FIELD;
const sub = (a: number, b: number) => (a - b + FIELD) % FIELD;

function pow(base: number, exponent: number): number {
  let result = 1;
  let b = base % FIELD;
  for (let e = exponent; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) result = mul(result, b);
    b = mul(b, b);
  }
  return result;
}

const inverse = (a: number) => pow(a, FIELD - 2);

/** Splits a 32-byte secret into one share per x in `holders`, any `threshold` of which rebuild it. */
export function splitSecret(secret: Uint8Array, threshold: number, holders: readonly number[], random: (n: number) => Uint32Array = cryptoWords): Share[] {
  if (secret.byteLength !== WORDS * 2) throw new Error(`a shared secret has ${WORDS * 2} bytes, not ${secret.byteLength}`);
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > holders.length) throw new Error(`threshold ${threshold} must be 1 … ${holders.length}`);
  if (new Set(holders).size !== holders.length || holders.some((x) => !Number.isInteger(x) || x < 1 || x >= FIELD)) throw new Error('holders need distinct points in 1 … 65536');
  const words = new DataView(secret.buffer, secret.byteOffset, secret.byteLength);
  // coefficients[w * threshold + k]: word w's polynomial, k = 0 the secret word itself.
  const coefficients = new Uint32Array(WORDS * threshold);
  const randomPart = randomElements(WORDS * (threshold - 1), random);
  for (let w = 0; w < WORDS; w++) {
    coefficients[w * threshold] = words.getUint16(w * 2, true);
    for (let k = 1; k < threshold; k++) coefficients[w * threshold + k] = randomPart[w * (threshold - 1) + k - 1]!;
  }
  return holders.map((x) => {
    const y = new Uint32Array(WORDS);
    for (let w = 0; w < WORDS; w++) {
      // Horner: c0 + x(c1 + x(c2 + …)).
      let value = 0;
      for (let k = threshold - 1; k >= 0; k--) value = add(mul(value, x), coefficients[w * threshold + k]!);
      y[w] = value;
    }
    return { x, y };
  });
}

/** Rebuilds the secret from at least `threshold` shares (the first `threshold` are used); throws on malformed shares. */
export function combineShares(shares: readonly Share[], threshold: number): Uint8Array {
  if (shares.length < threshold) throw new Error(`${threshold} shares are needed, ${shares.length} given`);
  const used = shares.slice(0, threshold);
  if (new Set(used.map((s) => s.x)).size !== used.length) throw new Error('two shares at the same point');
  for (const s of used) if (s.y.length !== WORDS || s.y.some((v) => v >= FIELD)) throw new Error('a share holds 16 field elements');
  // Lagrange basis at 0: ℓ_i(0) = Π_{j≠i} x_j / (x_j − x_i).
  const basis = used.map((si, i) => {
    let num = 1;
    let den = 1;
    used.forEach((sj, j) => {
      if (j === i) return;
      num = mul(num, sj.x);
      den = mul(den, sub(sj.x, si.x));
    });
    return mul(num, inverse(den));
  });
  const out = new Uint8Array(WORDS * 2);
  const view = new DataView(out.buffer);
  for (let w = 0; w < WORDS; w++) {
    let value = 0;
    used.forEach((s, i) => (value = add(value, mul(s.y[w]!, basis[i]!))));
    // A wrong or tampered share set can land on 65536, which no 16-bit word is.
    if (value >= 2 ** 16) throw new Error('the shares do not rebuild a secret');
    view.setUint16(w * 2, value, true);
  }
  return out;
}

/** A share as bytes (16 little-endian u32) and back. */
export function shareToBytes(y: Uint32Array): Uint8Array {
  const out = new Uint8Array(SHARE_BYTES);
  const view = new DataView(out.buffer);
  y.forEach((v, i) => view.setUint32(i * 4, v, true));
  return out;
}

export function shareFromBytes(bytes: Uint8Array): Uint32Array | null {
  if (bytes.byteLength !== SHARE_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const y = new Uint32Array(WORDS);
  for (let i = 0; i < WORDS; i++) {
    const v = view.getUint32(i * 4, true);
    if (v >= FIELD) return null;
    y[i] = v;
  }
  return y;
}

/** The threshold for a roster of `members`: a strict majority, at least 2 (a lone share would be the secret). */
export function shareThreshold(members: number): number {
  return Math.max(2, Math.floor(members / 2) + 1);
}
