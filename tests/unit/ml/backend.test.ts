import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SPEC } from '../../../server/protocol/spec';
import { pickBackend } from '../../../workers/ml/backend';
import { evaluate } from '../../../workers/ml/evaluate';
import { initialWeights } from '../../../workers/ml/model';
import { loadNodeTf, nodeWasmDir } from '../../../workers/ml/node-tf';
import { disposeTrainer, trainRound } from '../../../workers/ml/train';

describe('backends in Node', () => {
  it('pickBackend probes what starts here (not WebGL), picks the fastest quickly, and leaks nothing', async () => {
    const tf = await loadNodeTf('cpu');
    const before = tf.memory().numTensors;
    const started = performance.now();
    const steps: string[] = [];
    const picked = await pickBackend(tf, ['webgl', 'wasm', 'cpu'], { wasmBase: nodeWasmDir(), onProbe: (b, step, of) => steps.push(`${b} ${step}/${of}`) });
    const elapsed = performance.now() - started;
    assert.ok(picked.backend === 'wasm' || picked.backend === 'cpu', picked.backend);
    assert.equal(tf.getBackend(), picked.backend);
    assert.equal(picked.timings.webgl, undefined);
    assert.ok(picked.timings.wasm! > 0 && picked.timings.cpu! > 0);
    assert.equal(picked.probeMs, Math.min(picked.timings.wasm!, picked.timings.cpu!));
    // The brief allows ~1–2 s; leave headroom for a busy shared machine.
    assert.ok(elapsed < 4000, `probe took ${elapsed} ms`);
    assert.equal(tf.memory().numTensors, before);
    // Each candidate is announced as it starts, for the page's progress bar.
    assert.deepEqual(steps, ['webgl 1/3', 'wasm 2/3', 'cpu 3/3']);
  });

  it('loadNodeTf("wasm") trains and evaluates on the wasm backend', async () => {
    const tf = await loadNodeTf('wasm');
    assert.equal(tf.getBackend(), 'wasm');
    const spec = { ...DEFAULT_SPEC, localEpochs: 1 };
    const { manifest, weights } = initialWeights(tf, spec, 1);
    const result = await trainRound(tf, { spec, manifest, weights, shard: { part: 0, parts: 4 } });
    assert.equal(result.samples, 160);
    assert.ok(result.delta.every(Number.isFinite));
    const metrics = await evaluate(tf, spec, manifest, weights);
    assert.ok(metrics.accuracy >= 0 && metrics.accuracy <= 1 && metrics.loss > 0);
    disposeTrainer();
  });

  // Last in this file: the stalled backend stays marked for the rest of the process.
  it('a backend whose probe stalls (a starved GPU) is abandoned after the timeout and never picked', async () => {
    const tf = await loadNodeTf('cpu');
    const probe = async (): Promise<number> => (tf.getBackend() === 'wasm' ? new Promise<number>(() => undefined) : 5);
    const started = performance.now();
    const picked = await pickBackend(tf, ['wasm', 'cpu'], { wasmBase: nodeWasmDir(), probe, probeTimeoutMs: 300 });
    const elapsed = performance.now() - started;
    assert.equal(picked.backend, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.deepEqual(picked.stalled, ['wasm']);
    assert.equal(picked.timings.wasm, undefined);
    assert.ok(elapsed >= 300 && elapsed < 3000, `gave up after ${elapsed} ms`);
    // Probing again skips it at once.
    const again = await pickBackend(tf, ['wasm', 'cpu'], { probe, probeTimeoutMs: 300 });
    assert.equal(again.backend, 'cpu');
    assert.deepEqual(again.stalled, ['wasm']);
    // With nothing else to fall back on, the failure says so instead of hanging.
    await assert.rejects(pickBackend(tf, ['wasm'], { probe, probeTimeoutMs: 300 }), /No TensorFlow.js backend could start/);
  });
});
