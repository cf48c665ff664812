/// <reference lib="webworker" />
// The explain views' worker: evaluates the global model off the UI thread (plain typed-array
// math from ml/explain.ts, no TensorFlow.js), so a big network never stalls the page.
import type { ModelSpec } from '../server/protocol/spec';
import { datasetSplit } from './ml/datasets';
import { evaluatePlane, forward, networkFromWeights, planeResolution, predictedClasses, confusionMatrix, type Network } from './ml/explain';
import { fetchMnist } from './ml/mnist-fetch';
import type { DigitSample, DigitsEvaluation, ExplainRequest, ExplainResponse } from './explain-messages';

const scope = self as unknown as DedicatedWorkerGlobalScope;
/** Multiply-adds one held-out evaluation may cost (~0.3–0.6 s in a worker). */
const DIGITS_BUDGET = 300_000_000;

let current: { key: string; spec: ModelSpec; net: Network } | null = null;

function reply(message: ExplainResponse, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

function model(key: string): { spec: ModelSpec; net: Network } {
  if (!current || current.key !== key) throw new Error('No model loaded for this request');
  return current;
}

async function digits(key: string, sampleCount: number): Promise<DigitsEvaluation> {
  const { spec, net } = model(key);
  await fetchMnist();
  const test = datasetSplit(spec.dataset).test;
  const total = test.y.length;
  const evaluated = Math.max(Math.min(total, sampleCount), Math.min(total, Math.floor(DIGITS_BUDGET / Math.max(1, net.cost))));
  const { output } = forward(net, test.x, evaluated);
  const predicted = predictedClasses(output, evaluated, net.outputs);
  const labels = test.y.subarray(0, evaluated);
  const confusion = confusionMatrix(labels, predicted, net.outputs);
  let right = 0;
  for (let i = 0; i < evaluated; i++) if (predicted[i] === labels[i]) right++;
  const samples: DigitSample[] = [];
  for (let i = 0; i < Math.min(sampleCount, evaluated); i++) {
    const pixels = new Uint8Array(test.dims);
    for (let p = 0; p < test.dims; p++) pixels[p] = Math.round(test.x[i * test.dims + p]! * 255);
    samples.push({ index: i, pixels, label: labels[i]!, predicted: predicted[i]!, confidence: output[i * net.outputs + predicted[i]!]! });
  }
  return { confusion, evaluated, total, accuracy: evaluated > 0 ? right / evaluated : 0, samples };
}

async function handle(request: ExplainRequest): Promise<void> {
  const start = performance.now();
  switch (request.type) {
    case 'model':
      current = null; // a model that does not fit its spec must not answer for it
      current = { key: request.key, spec: request.spec, net: networkFromWeights(request.spec, request.manifest, request.weights) };
      return;
    case 'plane': {
      const { spec, net } = model(request.key);
      const plane = evaluatePlane(spec, net, planeResolution(net));
      reply({ type: 'plane', id: request.id, key: request.key, plane, ms: performance.now() - start }, [plane.output.buffer, ...plane.neurons.map((n) => n.values.buffer)]);
      return;
    }
    case 'digits': {
      const result = await digits(request.key, request.samples);
      reply({ type: 'digits', id: request.id, key: request.key, digits: result, ms: performance.now() - start });
      return;
    }
    case 'digit': {
      const { net } = model(request.key);
      const probabilities = forward(net, request.image, 1).output;
      reply({ type: 'digit', id: request.id, key: request.key, probabilities, ms: performance.now() - start }, [probabilities.buffer]);
      return;
    }
  }
}

let queue: Promise<void> = Promise.resolve();
scope.onmessage = (event: MessageEvent<ExplainRequest>) => {
  const request = event.data;
  queue = queue.then(() =>
    handle(request).catch((error: unknown) => {
      reply({ type: 'error', id: request.type === 'model' ? null : request.id, key: request.key, message: error instanceof Error ? error.message : String(error) });
    }),
  );
};
