import { RankMeanAggregator, type RankMeanOptions } from './rank-mean';

/**
 * Coordinate-wise β-trimmed mean (Yin et al. 2018): for each value, drop the ⌊βn⌋ smallest and
 * ⌊βn⌋ largest across the n updates and average the rest. β = 0 is the unweighted mean; β near
 * 0.5 approaches the median. Weights are ignored (see RankMeanAggregator).
 */
export class TrimmedMeanAggregator extends RankMeanAggregator {
  /** `beta` is the fraction trimmed from each end, in [0, 0.5). */
  constructor(
    size: number,
    readonly beta: number,
    options: RankMeanOptions = {},
  ) {
    super(size, options);
    if (!(beta >= 0 && beta < 0.5)) throw new Error(`trimBeta must be in [0, 0.5), got ${beta}`);
  }

  protected ranks(n: number): [number, number] {
    // The epsilon keeps β·n that lands a hair under a whole number (0.29 × 100) from losing one.
    const t = Math.floor(this.beta * n + 1e-9);
    return [t, n - t];
  }
}
