import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scratchOffset, WeightedMeanAccumulator, wasmSimdAvailable } from '../../../workers/ml/aggregate';
import { mulberry32 } from '../../../workers/ml/random';
import { randomUpdate } from './contract';

/** The update's bytes at a given misalignment, as a socket.io Buffer slice can be. */
function bytesAt(values: Float32Array, misalign: number): Uint8Array {
  const frame = new Uint8Array(values.byteLength + misalign);
  frame.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), misalign);
  return frame.subarray(misalign);
}

describe('WeightedMeanAccumulator backends', () => {
  it('has WebAssembly SIMD on this Node', () => {
    assert.equal(wasmSimdAvailable(), true);
    assert.equal(new WeightedMeanAccumulator(1 << 16).backend, 'wasm');
    assert.equal(new WeightedMeanAccumulator(10).backend, 'js');
  });

  it('gives the same bits from the wasm kernel and the plain loop, around every chunk edge', () => {
    const rng = mulberry32(21);
    for (const size of [0, 1, 7, 8, 9, 16383, 16384, 16385, 40000]) {
      const wasm = new WeightedMeanAccumulator(size, { backend: 'wasm' });
      const js = new WeightedMeanAccumulator(size, { backend: 'js' });
      for (let k = 0; k < 4; k++) {
        const u = randomUpdate(rng, size);
        const w = 1 + Math.floor(rng() * 300);
        wasm.add(u, w);
        js.add(u, w);
      }
      assert.deepEqual(wasm.finalize(), js.finalize(), `size ${size}`);
    }
  });

  it('takes received bytes at any alignment and agrees with add()', () => {
    const rng = mulberry32(22);
    const size = 20000;
    const updates = Array.from({ length: 5 }, () => randomUpdate(rng, size));
    for (const backend of ['wasm', 'js'] as const) {
      const fromBytes = new WeightedMeanAccumulator(size, { backend });
      const fromFloats = new WeightedMeanAccumulator(size, { backend });
      updates.forEach((u, k) => {
        fromBytes.addBytes(bytesAt(u, k % 4), k + 1);
        fromFloats.add(u, k + 1);
      });
      assert.equal(fromBytes.count, 5);
      assert.equal(fromBytes.totalWeight, 15);
      assert.deepEqual(fromBytes.finalize(), fromFloats.finalize(), backend);
    }
  });

  it('rejects bytes that are not exactly size float32 values', () => {
    const acc = new WeightedMeanAccumulator(3);
    assert.throws(() => acc.addBytes(new Uint8Array(11), 1), /expected 12/);
    assert.equal(acc.count, 0);
  });

  it('finalizes into a buffer at any offset', () => {
    const acc = new WeightedMeanAccumulator(30000, { backend: 'wasm' });
    const u = randomUpdate(mulberry32(23), 30000);
    acc.add(u, 2);
    assert.deepEqual(acc.finalize(), u);
  });
});

describe('scratchOffset', () => {
  it('keeps a chunk half a page away from the JS buffer it is copied to or from, 16-byte aligned', () => {
    for (const offset of [0, 1, 4, 16, 2047, 2048, 4095, 4096, 123457]) {
      const s = scratchOffset(offset);
      assert.equal(s % 16, 0);
      assert.ok(s >= 0 && s <= 4080);
      const apart = (((s - offset) % 4096) + 4096) % 4096;
      assert.ok(apart >= 2032 && apart <= 2048, `offset ${offset}: ${apart} bytes apart`);
    }
  });
});
