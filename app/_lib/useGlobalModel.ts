'use client';

import { useMemo } from 'react';
import type { ModelSpec, RunState } from '@/server/protocol';
import type { WeightsManifest } from '@/server/protocol/weights';
import type { GlobalModel } from '@/workers/client';
import { networkFromWeights, type Network } from '@/workers/ml/explain';

/** The latest global model with the spec it belongs to, ready for the explain views. */
export interface GlobalModelView {
  /** Changes with every new model: `<runId>:<round>`. */
  key: string;
  runId: string;
  /** Rounds aggregated into it (0 = the initial weights). */
  round: number;
  spec: ModelSpec;
  manifest: WeightsManifest;
  weights: Float32Array;
  /** The network with these weights, for cheap main-thread predictions (one point under the pointer). */
  net: Network;
}

/**
 * The latest global weights (from useTraining's `globalModel`) paired with the run's spec; null
 * before the first model of the current run, or when the weights do not fit the spec.
 */
export function useGlobalModel(training: { run: RunState | null; globalModel: GlobalModel | null }): GlobalModelView | null {
  const { run, globalModel } = training;
  const spec = run && globalModel && run.runId === globalModel.runId ? run.spec : null;
  // The run's spec object changes with every state message; its identity for the model is the run.
  const specKey = spec ? `${globalModel!.runId}:${JSON.stringify(spec.layers)}:${spec.features.join(',')}:${spec.dataset.name}` : '';
  return useMemo(() => {
    if (!spec || !globalModel) return null;
    try {
      const net = networkFromWeights(spec, globalModel.manifest, globalModel.weights);
      return { key: `${globalModel.runId}:${globalModel.round}`, runId: globalModel.runId, round: globalModel.round, spec, manifest: globalModel.manifest, weights: globalModel.weights, net };
    } catch {
      return null;
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps -- spec is identified by specKey
  }, [globalModel, specKey]);
}
