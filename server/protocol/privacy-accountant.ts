import { z } from 'zod';

/**
 * Rényi-DP accountant for the sampled Gaussian mechanism: how much privacy (ε for a chosen δ) a
 * run of differentially private rounds has spent. Pure and isomorphic (browser and server).
 *
 * - RDP of the Gaussian mechanism (Mironov 2017, "Rényi Differential Privacy"): α / (2σ²) per
 *   use, adding up over rounds.
 * - With sampling rate q < 1, the sampled Gaussian mechanism (Mironov, Talwar & Zhang 2019,
 *   "Rényi Differential Privacy of the Sampled Gaussian Mechanism", §3.3): log A_α by a binomial
 *   expansion for integer α and by the two-sided erfc series for fractional α, as TensorFlow
 *   Privacy's and Opacus's RDP accountants compute it.
 * - RDP → (ε, δ) at the best of the standard orders: 'classic' is Mironov 2017 Prop. 3,
 *   ε = rdp + log(1/δ)/(α−1); 'improved' (the default; what Opacus and dp_accounting report) is
 *   Balle et al. 2020, "Hypothesis testing interpretations and Rényi DP", Thm. 21:
 *   ε = rdp + log((α−1)/α) − (log δ + log α)/(α−1). Both are valid upper bounds.
 *
 * One "step" here is one federated round; σ is the run's noise multiplier and q the fraction of
 * available clients sampled into the round. Like TF Privacy and Opacus, q is treated as Poisson
 * sampling at that rate.
 */

/** The default orders of TF Privacy's and Opacus's RDP accountants: 1.1, 1.2, …, 10.9, then 12, 13, …, 63. */
export const RDP_ORDERS: readonly number[] = [...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10), ...Array.from({ length: 52 }, (_, i) => 12 + i)];

export type EpsilonConversion = 'classic' | 'improved';

// ---- log-space arithmetic ------------------------------------------------------------------------

/** log(e^a + e^b). */
function logAdd(a: number, b: number): number {
  const hi = Math.max(a, b);
  const lo = Math.min(a, b);
  if (lo === -Infinity) return hi;
  return Math.log1p(Math.exp(lo - hi)) + hi;
}

/** log(e^x − e^y) for x ≥ y. */
function logSub(x: number, y: number): number {
  if (x < y) throw new Error('logSub: the difference must be non-negative');
  if (y === -Infinity) return x;
  if (x === y) return -Infinity;
  const gap = Math.expm1(x - y);
  return Number.isFinite(gap) ? Math.log(gap) + y : x;
}

const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);

/**
 * log(erfc(x)), accurate far into the tail (erfc(30) ≈ 10⁻³⁹¹ underflows a double, its log does
 * not). |x| < 2.5: 1 − erf(x) from erf's all-positive series; x ≥ 2.5: −x² − ½log π + log of
 * erfc's continued fraction 1/(x + ½/(x + 1/(x + ³⁄₂/(x + …)))) (modified Lentz).
 */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < -2.5) return Math.log(2 - Math.exp(logErfc(-x)));
  if (x < 2.5) return Math.log(1 - erfSeries(x));
  if (x === Infinity) return -Infinity;
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 5000; n++) {
    const a = n / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const step = c * d;
    f *= step;
    if (Math.abs(step - 1) < 1e-16) break;
  }
  return -x * x - LOG_SQRT_PI - Math.log(f);
}

/** erf(x) = (2/√π)·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)): every term positive, no cancellation. */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 500; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
}

// ---- RDP of the sampled Gaussian mechanism ------------------------------------------------------

/** log A_α for integer α: Σᵢ C(α,i)·qⁱ(1−q)^(α−i)·exp((i²−i)/(2σ²)). */
function logAInt(q: number, sigma: number, alpha: number): number {
  let logA = -Infinity;
  let logBinom = 0; // log C(α, i), built up term by term
  for (let i = 0; i <= alpha; i++) {
    if (i > 0) logBinom += Math.log((alpha - i + 1) / i);
    const term = logBinom + i * Math.log(q) + (alpha - i) * Math.log1p(-q) + (i * i - i) / (2 * sigma * sigma);
    logA = logAdd(logA, term);
  }
  return logA;
}

/** log A_α for fractional α: the integrals over (−∞, z₀] and [z₀, ∞) as series (MTZ 2019, §3.3). */
function logAFrac(q: number, sigma: number, alpha: number): number {
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const s2 = Math.SQRT2 * sigma;
  let logCoef = 0; // log |C(α, i)|
  let positive = true; // sign of C(α, i)
  for (let i = 0; i < 100_000; i++) {
    if (i > 0) {
      const factor = (alpha - i + 1) / i;
      logCoef += Math.log(Math.abs(factor));
      if (factor < 0) positive = !positive;
    }
    const j = alpha - i;
    const logT0 = logCoef + i * Math.log(q) + j * Math.log1p(-q);
    const logT1 = logCoef + j * Math.log(q) + i * Math.log1p(-q);
    const logE0 = Math.log(0.5) + logErfc((i - z0) / s2);
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / s2);
    const logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
    if (positive) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < -30) break;
  }
  return logAdd(logA0, logA1);
}

/**
 * RDP at order α of one use of the sampled Gaussian mechanism with sampling rate q and noise
 * multiplier σ (noise std / L2 sensitivity). q = 1 is the plain Gaussian mechanism, α/(2σ²).
 */
export function rdpSampledGaussian(q: number, sigma: number, alpha: number): number {
  if (!(q >= 0 && q <= 1)) throw new Error(`sampling rate must be in [0, 1], got ${q}`);
  if (!(alpha > 1)) throw new Error(`RDP order must be > 1, got ${alpha}`);
  if (q === 0) return 0;
  if (!(sigma > 0)) return Infinity;
  if (q === 1) return alpha / (2 * sigma * sigma);
  if (alpha === Infinity) return Infinity;
  const logA = Number.isInteger(alpha) ? logAInt(q, sigma, alpha) : logAFrac(q, sigma, alpha);
  return logA / (alpha - 1);
}

/** RDP at every order of `steps` uses of the sampled Gaussian mechanism (composition adds). */
export function rdpVector(q: number, sigma: number, steps: number, orders: readonly number[] = RDP_ORDERS): number[] {
  return orders.map((alpha) => steps * rdpSampledGaussian(q, sigma, alpha));
}

/** The smallest ε, over the orders, for which the RDP curve `rdp` gives (ε, δ)-DP. */
export function epsilonFromRdp(
  rdp: readonly number[],
  delta: number,
  options: { orders?: readonly number[]; conversion?: EpsilonConversion } = {},
): { epsilon: number; order: number } {
  const orders = options.orders ?? RDP_ORDERS;
  const conversion = options.conversion ?? 'improved';
  if (rdp.length !== orders.length) throw new Error('one RDP value per order is needed');
  if (!(delta > 0 && delta < 1)) throw new Error(`δ must be in (0, 1), got ${delta}`);
  let best = { epsilon: Infinity, order: NaN };
  orders.forEach((alpha, k) => {
    const r = rdp[k]!;
    const epsilon =
      conversion === 'classic'
        ? r - Math.log(delta) / (alpha - 1)
        : r + Math.log((alpha - 1) / alpha) - (Math.log(delta) + Math.log(alpha)) / (alpha - 1);
    if (epsilon < best.epsilon) best = { epsilon, order: alpha };
  });
  return { epsilon: Math.max(0, best.epsilon), order: best.order };
}

// ---- the accountant --------------------------------------------------------------------------------

/** A run of rounds with the same sampling rate and noise multiplier. */
export const privacyLedgerEntrySchema = z.object({
  sampleRate: z.number().min(0).max(1),
  noiseMultiplier: z.number().positive().max(1e6),
  rounds: z.number().int().min(1),
});
/** What the accountant has counted, as stored with each checkpoint (loopState.privacy). */
export const privacyLedgerSchema = z.object({ entries: z.array(privacyLedgerEntrySchema).max(100_000) });
export type PrivacyLedger = z.infer<typeof privacyLedgerSchema>;

/**
 * Counts privacy spent round by round. Its ledger (rounds grouped by (q, σ), like Opacus's
 * RDPAccountant history) is what gets stored; the summed RDP curve is kept alongside, so a round
 * costs one RDP evaluation and ε for any δ is a minimum over the orders.
 */
export class PrivacyAccountant {
  private readonly entries: PrivacyLedger['entries'] = [];
  private readonly rdp: number[];

  constructor(
    ledger: PrivacyLedger = { entries: [] },
    readonly orders: readonly number[] = RDP_ORDERS,
  ) {
    this.rdp = orders.map(() => 0);
    for (const entry of ledger.entries) this.step(entry.sampleRate, entry.noiseMultiplier, entry.rounds);
  }

  /** Counts `rounds` rounds at sampling rate q with noise multiplier σ. */
  step(sampleRate: number, noiseMultiplier: number, rounds = 1): void {
    if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`rounds must be a whole number ≥ 1, got ${rounds}`);
    const add = rdpVector(sampleRate, noiseMultiplier, rounds, this.orders);
    add.forEach((value, k) => (this.rdp[k] = this.rdp[k]! + value));
    const last = this.entries[this.entries.length - 1];
    if (last && last.sampleRate === sampleRate && last.noiseMultiplier === noiseMultiplier) last.rounds += rounds;
    else this.entries.push({ sampleRate, noiseMultiplier, rounds });
  }

  /** Rounds counted so far. */
  get rounds(): number {
    return this.entries.reduce((sum, e) => sum + e.rounds, 0);
  }

  /** ε spent so far for this δ (0 before any round). */
  epsilon(delta: number, conversion: EpsilonConversion = 'improved'): number {
    if (this.entries.length === 0) return 0;
    return epsilonFromRdp(this.rdp, delta, { orders: this.orders, conversion }).epsilon;
  }

  /** ε for this δ after `rounds` more rounds at rate q and multiplier σ (this accountant is left as it is). */
  epsilonAfter(rounds: number, sampleRate: number, noiseMultiplier: number, delta: number): number {
    if (rounds < 1) return this.epsilon(delta);
    const more = rdpVector(sampleRate, noiseMultiplier, rounds, this.orders);
    return epsilonFromRdp(this.rdp.map((value, k) => value + more[k]!), delta, { orders: this.orders }).epsilon;
  }

  /**
   * ε for this δ as if every counted round had q = 1: what a participant who took part in every
   * round has spent against anyone who knows who took part (the server does).
   */
  epsilonUnsampled(delta: number, conversion: EpsilonConversion = 'improved'): number {
    if (this.entries.length === 0) return 0;
    const rdp = this.orders.map(() => 0);
    for (const e of this.entries) rdpVector(1, e.noiseMultiplier, e.rounds, this.orders).forEach((value, k) => (rdp[k] = rdp[k]! + value));
    return epsilonFromRdp(rdp, delta, { orders: this.orders, conversion }).epsilon;
  }

  /** The ledger to store with a checkpoint (a copy). */
  ledger(): PrivacyLedger {
    return { entries: this.entries.map((e) => ({ ...e })) };
  }
}

/**
 * ε after `rounds` rounds at one sampling rate: what a run will have spent at its end if q and σ
 * stay as they are (the editor's preview; the live budget's projection).
 */
export function projectedEpsilon(options: { sampleRate: number; noiseMultiplier: number; rounds: number; delta: number }): number {
  if (options.rounds < 1) return 0;
  const accountant = new PrivacyAccountant();
  accountant.step(options.sampleRate, options.noiseMultiplier, options.rounds);
  return accountant.epsilon(options.delta);
}
