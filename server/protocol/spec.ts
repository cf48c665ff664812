import { z } from 'zod';
import { VECTOR_ENCODINGS, vectorEncodingSchema } from './codec';
import { inferShapes } from './shapes';

/**
 * Version of the model-spec schema; stored with every run's frozen spec. 2 added the gauss and
 * "is x > 0" datasets, the loss, L1/L2 regularisation and the size limits; a version-1 spec
 * (a run stored before) reads as version 2 with the new fields at their defaults.
 */
export const SPEC_VERSION = 2;

export const ACTIVATIONS = ['relu', 'tanh', 'sigmoid', 'linear'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/**
 * 2-D point sets as in TensorFlow Playground; 'sign': "is x > 0" on the line (input x₁ only);
 * 'mnist': the first `samples` of the 10,000 28×28 digits of the `mnist` package, 10 classes.
 */
export const DATASETS = ['spiral', 'circle', 'xor', 'gauss', 'sign', 'mnist'] as const;
/** Datasets of images (input height × width × 1); the others are points with input features. */
export const IMAGE_DATASETS: readonly DatasetName[] = ['mnist'];
export const MNIST_DIGITS = 10_000;
export type DatasetName = (typeof DATASETS)[number];
/** 'sign' data: the 21 integers −10..10 (the classic first example), or `samples` reals from [−10, 10]. */
export const SIGN_POINTS = ['integers', 'reals'] as const;
export const LOSSES = ['crossentropy', 'mse'] as const;
export type Loss = (typeof LOSSES)[number];

/** Input features computed from a 2-D point (x₁, x₂), as in TensorFlow Playground. */
export const FEATURES = ['x1', 'x2', 'x1sq', 'x2sq', 'x1x2', 'sin1', 'sin2'] as const;
export type Feature = (typeof FEATURES)[number];

export const OPTIMIZERS = ['sgd', 'adam'] as const;

/** How clients train each round: FedAvg (local epochs), FedSGD (one mini-batch step), FedProx (FedAvg + proximal term μ). */
export const ALGORITHMS = ['fedavg', 'fedsgd', 'fedprox'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];
/** How the server combines the round's updates. */
export const AGGREGATORS = ['mean', 'median', 'trimmed_mean'] as const;
export type AggregatorKind = (typeof AGGREGATORS)[number];
/** How the server applies the combined update (Reddi et al. 2021, "Adaptive Federated Optimization"). */
export const SERVER_OPTIMIZERS = ['plain', 'momentum', 'adam', 'yogi', 'adagrad'] as const;
export type ServerOptimizerKind = (typeof SERVER_OPTIMIZERS)[number];

export const MAX_HIDDEN_LAYERS = 20;
export const MAX_UNITS = 1024;
/** Largest model: its float32 weights (4 MB) must fit one socket.io frame (see server/app.ts). */
export const MAX_PARAMS = 1_000_000;

export const LAYER_TYPES = ['dense', 'conv2d', 'maxpool', 'flatten', 'dropout'] as const;
export type LayerType = (typeof LAYER_TYPES)[number];
/** Layer types that need an image input (height × width × channels). */
export const IMAGE_LAYER_TYPES: readonly LayerType[] = ['conv2d', 'maxpool'];
export const MAX_FILTERS = 128;

const layerId = z.string().min(1).max(40);
export const denseLayerSchema = z.object({ id: layerId, type: z.literal('dense'), units: z.number().int().min(1).max(MAX_UNITS), activation: z.enum(ACTIVATIONS) });
/** 'same' padding, stride 1: keeps height and width. */
export const conv2dLayerSchema = z.object({
  id: layerId,
  type: z.literal('conv2d'),
  filters: z.number().int().min(1).max(MAX_FILTERS),
  kernelSize: z.number().int().min(1).max(7),
  activation: z.enum(ACTIVATIONS),
});
/** Non-overlapping pooling windows (stride = pool size). */
export const maxpoolLayerSchema = z.object({ id: layerId, type: z.literal('maxpool'), poolSize: z.number().int().min(2).max(4) });
export const flattenLayerSchema = z.object({ id: layerId, type: z.literal('flatten') });
export const dropoutLayerSchema = z.object({ id: layerId, type: z.literal('dropout'), rate: z.number().min(0).max(0.9) });

/** A layer of version 1 had no type: it was dense. */
const withType = (value: unknown) => (value && typeof value === 'object' && !('type' in value) ? { ...value, type: 'dense' } : value);
export const layerSpecSchema = z.preprocess(
  withType,
  z.discriminatedUnion('type', [denseLayerSchema, conv2dLayerSchema, maxpoolLayerSchema, flattenLayerSchema, dropoutLayerSchema]),
);
export type LayerSpec = z.infer<typeof layerSpecSchema>;
export type DenseLayer = z.infer<typeof denseLayerSchema>;
/** A layer in a few words: "12 tanh", "conv 8 × 3×3 relu", "max-pool 2", "flatten", "dropout 0.25". */
export function describeLayer(layer: LayerSpec): string {
  switch (layer.type) {
    case 'dense':
      return `${layer.units} ${layer.activation}`;
    case 'conv2d':
      return `conv ${layer.filters} × ${layer.kernelSize}×${layer.kernelSize} ${layer.activation}`;
    case 'maxpool':
      return `max-pool ${layer.poolSize}`;
    case 'flatten':
      return 'flatten';
    case 'dropout':
      return `dropout ${layer.rate}`;
  }
}

/** What makes a layer's variables and computation, without its id: equal keys build equal layers. */
export function layerKey(layer: LayerSpec): string {
  const { id: _id, ...rest } = layer;
  return canonicalJson(rest);
}

/** Fields a layer of each type has (besides id and type), with their limits, for editors. */
export const LAYER_FIELDS = {
  dense: { units: { kind: 'int', min: 1, max: MAX_UNITS }, activation: { kind: 'enum', options: ACTIVATIONS } },
  conv2d: { filters: { kind: 'int', min: 1, max: MAX_FILTERS }, kernelSize: { kind: 'int', min: 1, max: 7 }, activation: { kind: 'enum', options: ACTIVATIONS } },
  maxpool: { poolSize: { kind: 'int', min: 2, max: 4 } },
  flatten: {},
  dropout: { rate: { kind: 'number', min: 0, max: 0.9, step: 0.05 } },
} as const;
/** A new layer of each type, before anyone edits it. */
export const NEW_LAYER: { [T in LayerType]: Omit<Extract<LayerSpec, { type: T }>, 'id'> } = {
  dense: { type: 'dense', units: 8, activation: 'relu' },
  conv2d: { type: 'conv2d', filters: 8, kernelSize: 3, activation: 'relu' },
  maxpool: { type: 'maxpool', poolSize: 2 },
  flatten: { type: 'flatten' },
  dropout: { type: 'dropout', rate: 0.25 },
};

export const PARTITIONS = ['iid', 'dirichlet', 'classes'] as const;
/** How a round's training data is split among its participants. */
export const partitionSpecSchema = z.object({
  kind: z.enum(PARTITIONS),
  /** dirichlet: concentration α; small (0.1) = very skewed class mixes, large (100) ≈ IID. */
  alpha: z.number().min(0.01).max(100),
  /** classes: how many classes each participant sees. */
  classesPerClient: z.number().int().min(1).max(10),
});
export type PartitionSpec = z.infer<typeof partitionSpecSchema>;
export const DEFAULT_PARTITION: PartitionSpec = { kind: 'iid', alpha: 0.5, classesPerClient: 2 };

export const datasetSpecSchema = z.object({
  name: z.enum(DATASETS),
  /** Total points generated (train + held-out). */
  samples: z.number().int().min(50).max(20_000),
  noise: z.number().min(0).max(0.5),
  seed: z.number().int().min(0).max(2 ** 31 - 1),
  trainRatio: z.number().min(0.5).max(0.95),
  /** 'sign' only: which points (see SIGN_POINTS). */
  points: z.enum(SIGN_POINTS).default('integers'),
});
export type DatasetSpec = z.infer<typeof datasetSpecSchema>;

export const strategySpecSchema = z.object({
  algorithm: z.enum(ALGORITHMS),
  /** FedProx proximal weight μ (ignored by the other algorithms). */
  proximalMu: z.number().min(0).max(10),
  aggregator: z.enum(AGGREGATORS),
  /** Trimmed mean: fraction cut from each end per coordinate. */
  trimBeta: z.number().min(0).max(0.45),
  /** L2 bound each update is clipped to before aggregation; 0 = no clipping. */
  clipNorm: z.number().min(0).max(1e6),
  serverOptimizer: z.enum(SERVER_OPTIMIZERS),
  serverLearningRate: z.number().min(1e-4).max(10),
});
export type StrategySpec = z.infer<typeof strategySpecSchema>;
export const DEFAULT_STRATEGY: StrategySpec = {
  algorithm: 'fedavg',
  proximalMu: 0.01,
  aggregator: 'mean',
  trimBeta: 0.1,
  clipNorm: 0,
  serverOptimizer: 'plain',
  serverLearningRate: 1,
};

export const samplingSpecSchema = z.object({
  /** Fraction of available clients asked to take part in each round. */
  fraction: z.number().min(0.01).max(1),
  /** Fewer available clients than this → the run waits. */
  minClients: z.number().int().min(1).max(1000),
  maxClients: z.number().int().min(1).max(10_000),
});
export type SamplingSpec = z.infer<typeof samplingSpecSchema>;
export const DEFAULT_SAMPLING: SamplingSpec = { fraction: 1, minClients: 1, maxClients: 1000 };

export const SWITCH = ['off', 'on'] as const;
/**
 * Privacy settings. Differential privacy: every client clips its round update to L2 norm
 * `clipNorm` and adds Gaussian noise of std noiseMultiplier·clipNorm before sending it
 * (workers/ml/dp.ts); the server checks the norms and counts the ε spent for `delta`
 * (privacy-accountant.ts). The unit of privacy is one participant's contribution to a round.
 * Secure aggregation: clients mask their updates pairwise so the server only learns their sum
 * (workers/ml/secagg.ts, server/training/secagg.ts); combinations that need individual updates
 * are refused (checkSecureAggregation).
 */
export const privacySpecSchema = z.object({
  differentialPrivacy: z.enum(SWITCH),
  /** L2 bound of each client update before noise. */
  clipNorm: z.number().min(0.01).max(100),
  /** Gaussian noise standard deviation, as a multiple of clipNorm. */
  noiseMultiplier: z.number().min(0).max(10),
  /** δ of the (ε, δ) guarantee the accountant reports ε for. */
  delta: z.number().min(1e-10).max(0.01),
  secureAggregation: z.enum(SWITCH),
});
export type PrivacySpec = z.infer<typeof privacySpecSchema>;
export const DEFAULT_PRIVACY: PrivacySpec = { differentialPrivacy: 'off', clipNorm: 1, noiseMultiplier: 1, delta: 1e-5, secureAggregation: 'off' };

export const regularizationSchema = z.object({
  /** L1 penalty λ₁·Σ|w| over every kernel (not biases). */
  l1: z.number().min(0).max(0.1),
  /** L2 penalty λ₂·Σw² over every kernel (not biases). */
  l2: z.number().min(0).max(0.1),
});
export const DEFAULT_REGULARIZATION = { l1: 0, l2: 0 };

const specObjectSchema = z.object({
  specVersion: z.literal(SPEC_VERSION),
  dataset: datasetSpecSchema,
  features: z.array(z.enum(FEATURES)).min(1).max(FEATURES.length),
  layers: z.array(layerSpecSchema).max(MAX_HIDDEN_LAYERS),
  partition: partitionSpecSchema.default(DEFAULT_PARTITION),
  /** crossentropy (binary: log loss) or mean squared error of the predicted probability. */
  loss: z.enum(LOSSES).default('crossentropy'),
  regularization: regularizationSchema.default(DEFAULT_REGULARIZATION),
  optimizer: z.enum(OPTIMIZERS),
  learningRate: z.number().min(1e-5).max(1),
  batchSize: z.number().int().min(1).max(1024),
  localEpochs: z.number().int().min(1).max(50),
  /** FedAvg/FedProx: 0 = train `localEpochs` whole epochs; N > 0 = exactly N minibatch steps per round instead. */
  localSteps: z.number().int().min(0).max(10_000).default(0),
  rounds: z.number().int().min(1).max(500),
  /** How weights and updates travel (see codec.ts). */
  encoding: vectorEncodingSchema.default('float32'),
  strategy: strategySpecSchema.default(DEFAULT_STRATEGY),
  sampling: samplingSpecSchema.default(DEFAULT_SAMPLING),
  /** A round closes at this deadline with whatever arrived. */
  roundDeadlineSec: z.number().int().min(5).max(3600).default(120),
  /** Fraction of a round's participants whose updates are needed at the deadline; fewer → the round is run again. */
  minCompletion: z.number().min(0).max(1).default(0),
  privacy: privacySpecSchema.default(DEFAULT_PRIVACY),
});

/** A version-1 spec (stored runs, old documents) as version 2: new fields take their defaults. */
function upgrade(value: unknown): unknown {
  if (value && typeof value === 'object' && (value as { specVersion?: unknown }).specVersion === 1) return { ...value, specVersion: 2 };
  return value;
}

/**
 * Secure aggregation: the largest |value| a client encodes in fixed point (workers/ml/secagg.ts);
 * larger ones are clamped. Part of the wire format, so it lives here.
 */
export const SECAGG_BOUND = 1024;
/** Most mask values one client expands in a round: (peers) × (parameters + 4). */
export const SECAGG_MAX_MASK_VALUES = 100_000_000;

/**
 * What cannot work when the server only ever sees a masked sum, each refused on the field to
 * change. Differential privacy can: clients add their noise before masking (the server can no
 * longer check each update's norm, and the sum carries every client's noise).
 */
function checkSecureAggregation(spec: z.infer<typeof specObjectSchema>, ctx: z.RefinementCtx): void {
  const refuse = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (spec.strategy.aggregator !== 'mean') {
    refuse(['strategy', 'aggregator'], 'Secure aggregation only reveals the sum of the updates: a median or trimmed mean needs each update in the clear. Use the mean');
  }
  if (spec.strategy.clipNorm > 0) {
    refuse(['strategy', 'clipNorm'], 'With secure aggregation the server cannot see an update to measure or clip its norm: set 0 (clients can clip with differential privacy)');
  }
  if (spec.encoding !== 'float32') {
    refuse(['encoding'], 'With secure aggregation updates travel as masked 32-bit fixed-point numbers; float16 and int8 quantise each update with its own scale, which masks cannot hide. Use float32');
  }
  if (spec.sampling.minClients < 2) {
    refuse(['sampling', 'minClients'], 'Secure aggregation needs at least 2 clients per round: the sum of one update is that update');
  }
  if (spec.privacy.differentialPrivacy === 'on' && spec.privacy.noiseMultiplier * spec.privacy.clipNorm > SECAGG_BOUND / 8) {
    refuse(['privacy', 'noiseMultiplier'], `With secure aggregation each value must stay within ±${SECAGG_BOUND}: noise multiplier × clip norm may be at most ${SECAGG_BOUND / 8}`);
  }
  const params = inferShapes(spec).params;
  const peers = Math.max(1, Math.min(spec.sampling.maxClients, 10_000) - 1);
  if (peers * (params + 4) > SECAGG_MAX_MASK_VALUES) {
    const most = Math.max(2, Math.floor(SECAGG_MAX_MASK_VALUES / (params + 4)) + 1);
    refuse(['sampling', 'maxClients'], `With secure aggregation every client expands one mask per peer: with ${params.toLocaleString('en')} parameters at most ${most.toLocaleString('en')} clients per round`);
  }
}

/** Limits and combinations a field-by-field check cannot see, each tied to the field to fix. */
function checkWhole(spec: z.infer<typeof specObjectSchema>, ctx: z.RefinementCtx): void {
  if (spec.dataset.name === 'sign' && (spec.features.length !== 1 || spec.features[0] !== 'x1')) {
    ctx.addIssue({ code: 'custom', path: ['features'], message: 'The "is x > 0" task has a single input: use x₁ only' });
  }
  if (spec.privacy.secureAggregation === 'on') checkSecureAggregation(spec, ctx);
  if (spec.privacy.differentialPrivacy === 'on' && spec.privacy.noiseMultiplier === 0) {
    ctx.addIssue({ code: 'custom', path: ['privacy', 'noiseMultiplier'], message: 'Differential privacy needs noise: set a noise multiplier above 0' });
  }
  if (spec.dataset.name === 'mnist' && spec.dataset.samples > MNIST_DIGITS) {
    ctx.addIssue({ code: 'custom', path: ['dataset', 'samples'], message: `MNIST has ${MNIST_DIGITS.toLocaleString('en')} digits` });
  }
  const shapes = inferShapes(spec);
  for (const problem of shapes.problems) ctx.addIssue({ code: 'custom', path: problem.path.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)), message: problem.message });
  if (shapes.params > MAX_PARAMS) {
    ctx.addIssue({ code: 'custom', path: ['layers'], message: `The network has ${shapes.params.toLocaleString('en')} parameters; at most ${MAX_PARAMS.toLocaleString('en')} fit a round` });
  }
}

export const modelSpecSchema = z.preprocess(upgrade, specObjectSchema.superRefine(checkWhole));
/** The model spec every client trains and the server aggregates: one shared, validated shape. */
export type ModelSpec = z.infer<typeof modelSpecSchema>;

/** The spiral template: the default spec of a new project. */
export const DEFAULT_SPEC: ModelSpec = {
  specVersion: SPEC_VERSION,
  dataset: { name: 'spiral', samples: 800, noise: 0.1, seed: 42, trainRatio: 0.8, points: 'integers' },
  features: ['x1', 'x2', 'x1sq', 'x2sq', 'x1x2', 'sin1', 'sin2'],
  layers: [
    { id: 'l1', type: 'dense', units: 12, activation: 'tanh' },
    { id: 'l2', type: 'dense', units: 8, activation: 'tanh' },
  ],
  partition: DEFAULT_PARTITION,
  loss: 'crossentropy',
  regularization: DEFAULT_REGULARIZATION,
  optimizer: 'adam',
  learningRate: 0.03,
  batchSize: 16,
  localEpochs: 3,
  rounds: 20,
  encoding: 'float32',
  strategy: DEFAULT_STRATEGY,
  sampling: DEFAULT_SAMPLING,
  roundDeadlineSec: 120,
  minCompletion: 0,
  localSteps: 0,
  privacy: DEFAULT_PRIVACY,
};

/** Scalar fields of the spec, as edited in the form: path → constraints for inputs. */
export const SCALAR_FIELDS = {
  'dataset.name': { kind: 'enum', options: DATASETS },
  'dataset.samples': { kind: 'int', min: 50, max: 20_000 },
  'dataset.noise': { kind: 'number', min: 0, max: 0.5, step: 0.01 },
  'dataset.seed': { kind: 'int', min: 0, max: 2 ** 31 - 1 },
  'dataset.trainRatio': { kind: 'number', min: 0.5, max: 0.95, step: 0.05 },
  'dataset.points': { kind: 'enum', options: SIGN_POINTS },
  'partition.kind': { kind: 'enum', options: PARTITIONS },
  'partition.alpha': { kind: 'number', min: 0.01, max: 100, step: 0.01 },
  'partition.classesPerClient': { kind: 'int', min: 1, max: 10 },
  loss: { kind: 'enum', options: LOSSES },
  'regularization.l1': { kind: 'number', min: 0, max: 0.1, step: 0.0001 },
  'regularization.l2': { kind: 'number', min: 0, max: 0.1, step: 0.0001 },
  optimizer: { kind: 'enum', options: OPTIMIZERS },
  learningRate: { kind: 'number', min: 1e-5, max: 1, step: 0.001 },
  batchSize: { kind: 'int', min: 1, max: 1024 },
  localEpochs: { kind: 'int', min: 1, max: 50 },
  localSteps: { kind: 'int', min: 0, max: 10_000 },
  rounds: { kind: 'int', min: 1, max: 500 },
  encoding: { kind: 'enum', options: VECTOR_ENCODINGS },
  'strategy.algorithm': { kind: 'enum', options: ALGORITHMS },
  'strategy.proximalMu': { kind: 'number', min: 0, max: 10, step: 0.001 },
  'strategy.aggregator': { kind: 'enum', options: AGGREGATORS },
  'strategy.trimBeta': { kind: 'number', min: 0, max: 0.45, step: 0.05 },
  'strategy.clipNorm': { kind: 'number', min: 0, max: 1e6, step: 0.1 },
  'strategy.serverOptimizer': { kind: 'enum', options: SERVER_OPTIMIZERS },
  'strategy.serverLearningRate': { kind: 'number', min: 1e-4, max: 10, step: 0.01 },
  'sampling.fraction': { kind: 'number', min: 0.01, max: 1, step: 0.05 },
  'sampling.minClients': { kind: 'int', min: 1, max: 1000 },
  'sampling.maxClients': { kind: 'int', min: 1, max: 10_000 },
  roundDeadlineSec: { kind: 'int', min: 5, max: 3600 },
  minCompletion: { kind: 'number', min: 0, max: 1, step: 0.05 },
  'privacy.differentialPrivacy': { kind: 'enum', options: SWITCH },
  'privacy.clipNorm': { kind: 'number', min: 0.01, max: 100, step: 0.01 },
  'privacy.noiseMultiplier': { kind: 'number', min: 0, max: 10, step: 0.1 },
  'privacy.delta': { kind: 'number', min: 1e-10, max: 0.01, step: 1e-6 },
  'privacy.secureAggregation': { kind: 'enum', options: SWITCH },
} as const;

/** The value a scalar field has in a spec (e.g. the default a document written earlier lacks). */
export function scalarValue(spec: ModelSpec, path: ScalarField): unknown {
  const [head, tail] = path.split('.') as [string, string | undefined];
  const top = (spec as unknown as Record<string, unknown>)[head];
  return tail ? (top as Record<string, unknown>)[tail] : top;
}
export type ScalarField = keyof typeof SCALAR_FIELDS;

/** Problems of a spec, each tied to the field path the editor should highlight. */
export interface SpecProblem {
  path: string;
  message: string;
}

/** Validates an unknown value as a spec: the parsed spec, or problems tied to fields. */
export function validateSpec(value: unknown): { ok: true; spec: ModelSpec } | { ok: false; problems: SpecProblem[] } {
  const parsed = modelSpecSchema.safeParse(value);
  if (parsed.success) return { ok: true, spec: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
  };
}

/** Number of trainable parameters of the network the spec describes (see inferShapes). */
export function countParams(spec: Pick<ModelSpec, 'dataset' | 'features' | 'layers'>): number {
  return inferShapes(spec).params;
}

/** A stable JSON form (sorted keys) for hashing and diffing specs. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
