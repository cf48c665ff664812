/**
 * Hostile-client update transforms for robustness experiments (`npm run bots -- --attack …`).
 * Pure functions over a client's honest delta: no sockets, no TensorFlow, no global randomness.
 */
import { gaussian, type Rng } from './ml/random';

export const ATTACKS = ['signflip', 'scale', 'noise'] as const;
export type AttackKind = (typeof ATTACKS)[number];

/** Default strength S of every attack (the factor for signflip/scale, the std σ for noise). */
export const DEFAULT_ATTACK_SCALE = 10;

/** −S·delta: pushes the global model away from where the honest clients pull it. */
export function signflip(delta: Float32Array, scale: number): Float32Array {
  const out = new Float32Array(delta.length);
  for (let i = 0; i < delta.length; i++) out[i] = -scale * delta[i]!;
  return out;
}

/** S·delta: an honest direction with an outsized step (model replacement / boosting). */
export function scaleDelta(delta: Float32Array, scale: number): Float32Array {
  const out = new Float32Array(delta.length);
  for (let i = 0; i < delta.length; i++) out[i] = scale * delta[i]!;
  return out;
}

/** Gaussian noise N(0, σ²) of the delta's length; the honest delta is ignored. */
export function gaussianNoise(length: number, sigma: number, rng: Rng): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = sigma * gaussian(rng);
  return out;
}

/** The update a hostile client sends instead of `delta`. `rng` is used by 'noise' only. */
export function applyAttack(kind: AttackKind, delta: Float32Array, scale: number, rng: Rng): Float32Array {
  switch (kind) {
    case 'signflip':
      return signflip(delta, scale);
    case 'scale':
      return scaleDelta(delta, scale);
    case 'noise':
      return gaussianNoise(delta.length, scale, rng);
    default: {
      const unexpected: never = kind;
      throw new Error(`Unknown attack ${String(unexpected)}`);
    }
  }
}

/**
 * Whether client `index` (1-based) of `count` is hostile when `attackers` of them are: the last
 * `attackers` clients are, so `--count 10 --attackers 3` makes clients 8, 9 and 10 hostile.
 */
export function isHostile(index: number, count: number, attackers: number): boolean {
  return index > count - attackers && index <= count;
}
