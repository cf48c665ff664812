/**
 * Client-side differential privacy for one round's update: L2 clipping to `clipNorm`, then
 * Gaussian noise N(0, (noiseMultiplier·clipNorm)²) on every coordinate (the Gaussian mechanism
 * of DP-FedAvg, McMahan et al. 2018, run by each client on its own update).
 *
 * Unit of privacy: one participant's whole contribution to a round (user-level DP). Each client
 * clips and noises its update itself before it leaves the device, so the guarantee also holds
 * against the server. Neighbouring inputs are "this participant's data" vs "no data" (a zero
 * update), which moves the clipped update by at most clipNorm: the L2 sensitivity is clipNorm and
 * each update is a Gaussian mechanism with noise multiplier σ (see server/protocol/privacy-accountant.ts).
 *
 * Pure: no TensorFlow, no sockets. Production noise comes from crypto.getRandomValues (the server
 * must not be able to predict, and so subtract, it); tests pass a seeded Rng.
 */
import { gaussian, type Rng } from './random';

export interface DpSettings {
  clipNorm: number;
  noiseMultiplier: number;
}

/** Euclidean norm of a float32 vector, summed in float64. */
export function l2Norm(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  return Math.sqrt(sum);
}

/**
 * `values` scaled down to L2 norm `clipNorm` when longer (a new array; the input is untouched).
 * The scale is shrunk by a few float32 ulps so rounding never leaves the result above clipNorm.
 */
export function clipToNorm(values: Float32Array, clipNorm: number): Float32Array {
  if (!(clipNorm > 0 && Number.isFinite(clipNorm))) throw new Error(`clipNorm must be a finite number > 0, got ${clipNorm}`);
  const norm = l2Norm(values);
  if (!Number.isFinite(norm)) throw new Error('cannot clip an update with non-finite values');
  if (norm <= clipNorm) return values.slice();
  const scale = (clipNorm / norm) * (1 - 4 * 2 ** -24);
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]! * scale;
  return out;
}

/**
 * values + N(0, std²) per coordinate, sampled in float64 and stored as float32 (a new array).
 * Box–Muller gives two independent normals per pair of uniforms; both are used.
 */
export function addGaussianNoise(values: Float32Array, std: number, rng: Rng): Float32Array {
  if (!(std >= 0 && Number.isFinite(std))) throw new Error(`noise std must be a finite number ≥ 0, got ${std}`);
  const out = values.slice();
  if (std === 0) return out;
  const last = out.length - 1;
  for (let i = 0; i < last; i += 2) {
    // 1 − u keeps the log argument in (0, 1], so no log(0).
    const radius = std * Math.sqrt(-2 * Math.log(1 - rng()));
    const angle = 2 * Math.PI * rng();
    out[i] = out[i]! + radius * Math.cos(angle);
    out[i + 1] = out[i + 1]! + radius * Math.sin(angle);
  }
  if (out.length % 2 === 1) out[last] = out[last]! + std * gaussian(rng);
  return out;
}

/** The update a DP client sends: clipped to clipNorm, plus N(0, (σ·clipNorm)²) per coordinate. */
export function privatizeUpdate(delta: Float32Array, settings: DpSettings, rng: Rng = cryptoRng()): Float32Array {
  return addGaussianNoise(clipToNorm(delta, settings.clipNorm), settings.noiseMultiplier * settings.clipNorm, rng);
}

/**
 * Uniform [0, 1) floats with 53 random bits each from the platform's CSPRNG (Web Crypto, in
 * browsers, Web Workers and Node ≥ 19), drawn in 64 KiB batches (getRandomValues' limit).
 */
export function cryptoRng(): Rng {
  const crypto = globalThis.crypto;
  if (!crypto?.getRandomValues) throw new Error('No cryptographic random source (crypto.getRandomValues) on this platform');
  const buffer = new Uint32Array(16_384);
  let next = buffer.length;
  return () => {
    if (next + 2 > buffer.length) {
      crypto.getRandomValues(buffer);
      next = 0;
    }
    const high = buffer[next++]! >>> 5; // 27 bits
    const low = buffer[next++]! >>> 6; // 26 bits
    return (high * 67_108_864 + low) / 9_007_199_254_740_992;
  };
}

/**
 * How far the norm of a decoded float vector can stray from the norm of what was encoded, as a
 * factor: float32 is lossless; float16 rounds each value within 2⁻¹¹ relative; int8 rounds a value either to 0
 * (smaller) or to within half a quantisation step, which is at most the value itself, so never
 * more than doubles it. Tiny absolute errors (float16 subnormals) hide in the t·σC margin below.
 */
const ENCODING_SLACK = { float32: 1 + 1e-6, float16: 1 + 2 ** -10, int8: 2 } as const;
/**
 * Gaussian concentration: ‖N(0, s²I_d)‖ lies within s·(√d ± t) except with probability
 * exp(−t²/2); t = 10 makes a false rejection a 2·10⁻²² event.
 */
const NOISE_TAIL = 10;

/**
 * The range of L2 norms an honest DP client's update of `length` values can have, as the server
 * decodes it: at most ‖clip‖ + ‖noise‖ ≤ C + σC(√d + t); at least ‖noise‖ − C ≥ σC(√d − t) − C
 * (0 when that is negative, and for int8, which may round small values to 0). Outside it the
 * update was not clipped, or carries no noise: a client that ignores the run's privacy settings.
 */
export function plausibleNormRange(length: number, settings: DpSettings, encoding: keyof typeof ENCODING_SLACK): { min: number; max: number } {
  const { clipNorm: c, noiseMultiplier: sigma } = settings;
  const root = Math.sqrt(length);
  const max = (c + sigma * c * (root + NOISE_TAIL)) * ENCODING_SLACK[encoding];
  const lower = sigma * c * (root - NOISE_TAIL) - c;
  const min = encoding === 'int8' || lower <= 0 ? 0 : lower / ENCODING_SLACK[encoding];
  return { min, max };
}
