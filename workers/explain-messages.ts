import type { ModelSpec } from '../server/protocol/spec';
import type { WeightsManifest } from '../server/protocol/weights';
import type { PlaneEvaluation } from './ml/explain';

/** One held-out digit as the sample strip shows it. */
export interface DigitSample {
  /** Row of the held-out split. */
  index: number;
  /** 28×28 pixels, 0..255. */
  pixels: Uint8Array;
  label: number;
  predicted: number;
  /** Probability the model gives its prediction. */
  confidence: number;
}

/** The model on the held-out digits. */
export interface DigitsEvaluation {
  /** counts[true × 10 + predicted]. */
  confusion: Uint32Array;
  /** Held-out digits evaluated (a prefix when the network is too costly for all of them). */
  evaluated: number;
  total: number;
  accuracy: number;
  samples: DigitSample[];
}

/**
 * Main thread → explain worker. `model` replaces the model every later request uses (messages are
 * handled in order, so a request is always answered with the model posted before it).
 */
export type ExplainRequest =
  | { type: 'model'; key: string; spec: ModelSpec; manifest: WeightsManifest; weights: Float32Array }
  | { type: 'plane'; id: number; key: string }
  | { type: 'digits'; id: number; key: string; samples: number }
  | { type: 'digit'; id: number; key: string; image: Float32Array };

/** Explain worker → main thread; `ms` is the compute time in the worker. */
export type ExplainResponse =
  | { type: 'plane'; id: number; key: string; plane: PlaneEvaluation; ms: number }
  | { type: 'digits'; id: number; key: string; digits: DigitsEvaluation; ms: number }
  | { type: 'digit'; id: number; key: string; probabilities: Float32Array; ms: number }
  | { type: 'error'; id: number | null; key: string; message: string };
