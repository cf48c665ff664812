import { assertNever } from '../../protocol/errors';
import { ClippedAggregator } from './clip';
import { MeanAggregator } from './mean';
import { MedianAggregator } from './median';
import { TrimmedMeanAggregator } from './trimmed-mean';
import type { Aggregator, AggregatorConfig } from './types';

export type { Aggregator, AggregatorConfig } from './types';
export { ClippedAggregator, l2Norm } from './clip';
export { MeanAggregator } from './mean';
export { MedianAggregator } from './median';
export { RankMeanAggregator, type RankMeanOptions } from './rank-mean';
export { TrimmedMeanAggregator } from './trimmed-mean';
export {
  defaultsFor,
  resolveServerOptimizerConfig,
  ServerOptimizer,
  type DeltaSource,
  type ResolvedServerOptimizerConfig,
  type ServerOptimizerConfig,
  type ServerOptimizerKind,
} from './server-optimizer';

/** Default fraction trimmed from each end by 'trimmed_mean' when the config gives none. */
export const DEFAULT_TRIM_BETA = 0.1;

/** A fresh aggregator for one round of updates of `size` values. */
export function createAggregator(config: AggregatorConfig, size: number): Aggregator {
  const inner = createInner(config, size);
  const clip = config.clipNorm;
  return clip === null || clip === undefined ? inner : new ClippedAggregator(inner, clip);
}

function createInner(config: AggregatorConfig, size: number): Aggregator {
  switch (config.kind) {
    case 'mean':
      return new MeanAggregator(size);
    case 'median':
      return new MedianAggregator(size);
    case 'trimmed_mean':
      return new TrimmedMeanAggregator(size, config.trimBeta ?? DEFAULT_TRIM_BETA);
    default:
      return assertNever(config.kind, 'aggregator kind');
  }
}

