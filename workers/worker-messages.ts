import type { ModelSpec } from '../server/protocol/spec';
import type { WeightsManifest } from '../server/protocol/weights';
import type { BackendName } from './ml/backend';
import type { TrainResult, TrainTask } from './ml/train';

export type { BackendName, TrainResult, TrainTask };

/** Main thread → training worker. Float32Array buffers are transferred, so the sender's copy is detached. */
export type WorkerRequest =
  | { type: 'init'; candidates?: BackendName[]; wasmBase: string }
  | { type: 'train'; id: number; task: TrainTask }
  | { type: 'predict'; id: number; spec: ModelSpec; manifest: WeightsManifest; weights: Float32Array; points: Float32Array }
  | { type: 'classes'; id: number; spec: ModelSpec; shard: TrainTask['shard'] };

/** Training worker → main thread. An error answers the request with the same id; id null = init failed. */
export type WorkerResponse =
  | { type: 'probing'; backend: BackendName; step: number; of: number }
  | { type: 'ready'; backend: BackendName; probeMs: number }
  | { type: 'result'; id: number; result: TrainResult }
  | { type: 'prediction'; id: number; values: Float32Array }
  | { type: 'classes'; id: number; counts: number[] }
  | { type: 'error'; id: number | null; message: string };
