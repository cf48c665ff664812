import { DEFAULT_SPEC, SPEC_VERSION, type ModelSpec } from './spec';

/**
 * Specs a new project can start from. Each trains to a sensible held-out accuracy through the
 * product (tests/integration/templates.test.ts trains every one with headless clients).
 */
export const TEMPLATE_NAMES = ['sign', 'spiral', 'mnist_mlp', 'mnist_cnn'] as const;
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
  layers: [{ id: 'l1', type: 'dense', units: 2, activation: 'sigmoid' }],
  optimizer: 'adam',
  learningRate: 0.1,
  batchSize: 8,
  localEpochs: 20,
  rounds: 10,
};

/** A small multilayer perceptron on 3,000 MNIST digits. */
const mnistMlp: ModelSpec = {
  ...DEFAULT_SPEC,
  dataset: { name: 'mnist', samples: 3000, noise: 0, seed: 42, trainRatio: 0.8, points: 'integers' },
  layers: [{ id: 'l1', type: 'dense', units: 64, activation: 'relu' }],
  optimizer: 'adam',
  learningRate: 0.003,
  batchSize: 32,
  localEpochs: 2,
  rounds: 8,
};

/**
 * A small convolutional network on 2,000 MNIST digits, cheap enough for laptops without a GPU:
 * pool to 14×14 → conv 8 → pool to 7×7 → dense.
 */
const mnistCnn: ModelSpec = {
  ...mnistMlp,
  dataset: { ...mnistMlp.dataset, samples: 2000 },
  layers: [
    { id: 'l1', type: 'maxpool', poolSize: 2 },
    { id: 'l2', type: 'conv2d', filters: 8, kernelSize: 3, activation: 'relu' },
    { id: 'l3', type: 'maxpool', poolSize: 2 },
    { id: 'l4', type: 'flatten' },
    { id: 'l5', type: 'dense', units: 32, activation: 'relu' },
  ],
  learningRate: 0.005,
  localEpochs: 1,
  rounds: 8,
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
  mnist_mlp: {
    title: 'MNIST digits · MLP',
    description: 'Handwritten digits 0–9 with one hidden layer of 64 ReLU units.',
    spec: mnistMlp,
  },
  mnist_cnn: {
    title: 'MNIST digits · CNN',
    description: 'Two small convolution + max-pooling blocks, then a dense layer.',
    spec: mnistCnn,
  },
};
