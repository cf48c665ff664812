import { WeightedMeanAccumulator } from '../../../workers/ml/aggregate';
import type { Aggregator } from './types';

/**
 * Sample-weighted mean (FedAvg). Streaming: each update is folded into a float64 running sum the
 * moment it arrives (WebAssembly SIMD for large models), so closing a round is one divide pass.
 * Nothing is buffered; the result does not depend on arrival order (see WeightedMeanAccumulator).
 */
export class MeanAggregator extends WeightedMeanAccumulator implements Aggregator {
  delta(): this {
    return this;
  }
}
