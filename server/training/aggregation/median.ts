import { RankMeanAggregator } from './rank-mean';

/**
 * Coordinate-wise median (Yin et al. 2018, "Byzantine-robust distributed learning"): each value of
 * the result is the median of that value across the updates, so fewer than half the clients
 * cannot drag it arbitrarily far. Weights are ignored (see RankMeanAggregator); with an even
 * number of updates the result is the mean of the two middle values.
 */
export class MedianAggregator extends RankMeanAggregator {
  protected ranks(n: number): [number, number] {
    return n % 2 === 1 ? [(n - 1) / 2, (n + 1) / 2] : [n / 2 - 1, n / 2 + 1];
  }
}
