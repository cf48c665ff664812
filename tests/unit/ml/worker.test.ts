import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { DEFAULT_SPEC } from '../../../server/protocol/spec';
import { initialWeights, type TF } from '../../../workers/ml/model';
import { loadNodeTf, nodeWasmDir } from '../../../workers/ml/node-tf';
import { createTrainerBridge, type TrainerBridge } from '../../../workers/worker-bridge';

type Handler = ((event: { data: unknown }) => void) | null;

/**
 * Runs train.worker.ts in this process behind a fake Worker: messages go through structuredClone
 * with the same transfer lists a browser would use, so detaching and copying behave as there.
 */
async function inProcessWorker(): Promise<Worker> {
  const scope: { onmessage: Handler; postMessage: (msg: unknown, transfer?: Transferable[]) => void } = {
    onmessage: null,
    postMessage: (msg, transfer = []) => {
      const data = structuredClone(msg, { transfer: transfer as Transferable[] as never });
      setImmediate(() => worker.onmessage?.({ data } as MessageEvent));
    },
  };
  const worker = {
    onmessage: null as ((event: MessageEvent) => void) | null,
    onerror: null,
    onmessageerror: null,
    postMessage: (msg: unknown, transfer: Transferable[] = []) => {
      const data = structuredClone(msg, { transfer: transfer as never });
      setImmediate(() => scope.onmessage?.({ data }));
    },
    terminate: () => {},
  };
  (globalThis as { self?: unknown }).self = scope;
  await import('../../../workers/train.worker');
  return worker as unknown as Worker;
}

let bridge: TrainerBridge;
let tf: TF;
before(async () => {
  // The same tfjs singleton as the worker's (one process): used here only to make weights.
  tf = await loadNodeTf('cpu');
  bridge = createTrainerBridge(await inProcessWorker());
});

describe('train.worker via worker-bridge', () => {
  it('init rejects when no candidate backend starts, then succeeds with wasm/cpu', async () => {
    await assert.rejects(bridge.init({ wasmBase: nodeWasmDir(), candidates: ['webgl'] }), /No TensorFlow.js backend could start/);
    const ready = await bridge.init({ wasmBase: nodeWasmDir(), candidates: ['wasm', 'cpu'] });
    assert.ok(ready.backend === 'wasm' || ready.backend === 'cpu');
    assert.ok(ready.probeMs > 0);
  });

  it('trains a round: weights are transferred in, the delta comes back', async () => {
    const { manifest, weights } = initialWeights(tf, DEFAULT_SPEC, 5);
    const sent = weights.slice();
    const result = await bridge.train({ spec: DEFAULT_SPEC, manifest, weights: sent, shard: { part: 0, parts: 2 } });
    assert.equal(sent.buffer.byteLength, 0, 'the weights buffer was transferred');
    assert.ok(result.delta instanceof Float32Array);
    assert.equal(result.delta.length, weights.length);
    assert.equal(result.samples, 320);
  });

  it('predicts at points and reports errors for the request that failed', async () => {
    const { manifest, weights } = initialWeights(tf, DEFAULT_SPEC, 5);
    const points = new Float32Array([0, 0, 3, -3, -5, 5]);
    const [values, bad] = await Promise.allSettled([
      bridge.predict(DEFAULT_SPEC, manifest, weights, points),
      bridge.train({ spec: DEFAULT_SPEC, manifest: manifest.slice(1), weights, shard: { part: 0, parts: 2 } }),
    ]);
    assert.equal(values.status, 'fulfilled');
    assert.equal(values.value.length, 3);
    assert.ok(values.value.every((v) => v > 0 && v < 1));
    assert.equal(points.length, 6, 'predict inputs are copied, not transferred');
    assert.equal(bad.status, 'rejected');
    assert.match(String(bad.reason), /manifest does not match/);
  });
});
