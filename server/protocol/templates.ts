import { DEFAULT_SPEC, SPEC_VERSION, type ModelSpec } from './spec';

/**
 * Specs a new project can start from. Each trains to a sensible held-out accuracy through the
 * product (tests/integration/templates.test.ts trains every one with headless clients).
 */
export const TEMPLATE_NAMES = ['sign', 'spiral'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

export interface Template {
  title: string;
  description: string;
  spec: ModelSpec;
}

/** The classic first example: 1 input → 2 sigmoid units → 1 sigmoid output learns "is x > 0". */
const sign: ModelSpec = {
  ...DEFAULT_SPEC,
  specVersion: SPEC_VERSION,
  dataset: { name: 'sign', samples: 200, noise: 0, seed: 42, trainRatio: 0.8, points: 'integers' },
  features: ['x1'],
  layers: [{ id: 'l1', units: 2, activation: 'sigmoid' }],
  optimizer: 'adam',
  learningRate: 0.1,
  batchSize: 8,
  localEpochs: 20,
  rounds: 10,
};

export const TEMPLATES: Record<TemplateName, Template> = {
  sign: {
    title: 'Is x > 0?',
    description: 'The classic first example: one input, two sigmoid units, one output, on the integers −10…10.',
    spec: sign,
  },
  spiral: {
    title: 'Spiral',
    description: 'TensorFlow Playground’s two interleaved spirals: seven input features, two tanh layers.',
    spec: DEFAULT_SPEC,
  },
};
