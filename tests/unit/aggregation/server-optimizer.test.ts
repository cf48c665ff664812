import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultsFor, ServerOptimizer, type ServerOptimizerConfig, type ServerOptimizerKind } from '../../../server/training/aggregation/server-optimizer';
import { WeightedMeanAccumulator } from '../../../workers/ml/aggregate';
import { mulberry32 } from '../../../workers/ml/random';
import { assertClose, randomUpdate } from './contract';

const f32 = (...v: number[]) => new Float32Array(v);
const KINDS: ServerOptimizerKind[] = ['plain', 'momentum', 'adam', 'yogi', 'adagrad'];
const BACKENDS = ['js', 'wasm'] as const;

/** Two steps from w0 with deltas d1, d2; returns [w1, w2]. */
function twoSteps(config: ServerOptimizerConfig, w0: number[], d1: number[], d2: number[], backend: 'js' | 'wasm'): [Float32Array, Float32Array] {
  const opt = new ServerOptimizer(config, w0.length, backend);
  const w1 = opt.step(new Float32Array(w0), new Float32Array(d1));
  const w2 = opt.step(w1, new Float32Array(d2));
  assert.equal(opt.steps, 2);
  return [w1, w2];
}

for (const backend of BACKENDS) {
  describe(`server optimizers, ${backend} backend, against hand-computed steps`, () => {
    it('plain adds η·Δ', () => {
      // η = 0.5: w1 = 1 + 0.5·2 = 2, w2 = 2 + 0.5·(−4) = 0
      const [w1, w2] = twoSteps({ kind: 'plain', lr: 0.5 }, [1, 0], [2, 1], [-4, 3], backend);
      assert.deepEqual(w1, f32(2, 0.5));
      assert.deepEqual(w2, f32(0, 2));
    });

    it('plain with the default η = 1 is FedAvg: w + Δ exactly', () => {
      const [w1] = twoSteps({ kind: 'plain' }, [0.1, -0.3], [0.2, 0.7], [0, 0], backend);
      assert.deepEqual(w1, f32(Math.fround(0.1) + Math.fround(0.2), Math.fround(-0.3) + Math.fround(0.7)));
    });

    it('momentum keeps a velocity: u = μu + Δ, w += η·u', () => {
      // μ = 0.5, η = 1. Step 1: u = 1, w = 1. Step 2: u = 0.5 + 2 = 2.5, w = 3.5.
      const [w1, w2] = twoSteps({ kind: 'momentum', lr: 1, momentum: 0.5 }, [0], [1], [2], backend);
      assert.deepEqual(w1, f32(1));
      assert.deepEqual(w2, f32(3.5));
    });

    it('adam: m = β1m + (1−β1)Δ, v = β2v + (1−β2)Δ², w += η·m/(√v + τ), v₀ = τ²', () => {
      // β1 = 0.5, β2 = 0.5, τ = 1 (v₀ = 1), η = 1, Δ1 = 2, Δ2 = 4.
      // Step 1: m = 1, v = 0.5 + 0.5·4 = 2.5, w = 1/(√2.5 + 1) = 0.3874258867227933
      // Step 2: m = 0.5 + 2 = 2.5, v = 1.25 + 8 = 9.25, w = 0.38742588… + 2.5/(√9.25 + 1) = 0.9866474655…
      const [w1, w2] = twoSteps({ kind: 'adam', lr: 1, beta1: 0.5, beta2: 0.5, tau: 1 }, [0], [2], [4], backend);
      assertClose(w1, f32(0.3874258867227933));
      assertClose(w2, f32(0.3874258867227933 + 2.5 / (Math.sqrt(9.25) + 1)));
    });

    it('yogi moves v toward Δ² by (1−β2)Δ², up or down, never overshooting in sign', () => {
      // β1 = 0.5, β2 = 0.5, τ = 1 (v₀ = 1), η = 1, Δ1 = [2, 0.5], Δ2 = [0, 1].
      // Step 1: m = [1, 0.25]; v0 = 1 < 4 → v = 1 + 2 = 3; v1 = 1 > 0.25 → v = 1 − 0.125 = 0.875.
      //   w = [1/(√3 + 1), 0.25/(√0.875 + 1)]
      // Step 2: m = [0.5, 0.625]; v0 = 3 > 0 → v = 3 − 0 = 3; v1 = 0.875 < 1 → v = 0.875 + 0.5 = 1.375.
      const [w1, w2] = twoSteps({ kind: 'yogi', lr: 1, beta1: 0.5, beta2: 0.5, tau: 1 }, [0, 0], [2, 0.5], [0, 1], backend);
      const a = 1 / (Math.sqrt(3) + 1);
      const b = 0.25 / (Math.sqrt(0.875) + 1);
      assertClose(w1, f32(a, b));
      assertClose(w2, f32(a + 0.5 / (Math.sqrt(3) + 1), b + 0.625 / (Math.sqrt(1.375) + 1)));
    });

    it('adagrad sums squares: v = v + Δ²', () => {
      // β1 = 0, τ = 1 (v₀ = 1), η = 2, Δ1 = 3, Δ2 = −1.
      // Step 1: m = 3, v = 10, w = 6/(√10 + 1). Step 2: m = −1, v = 11, w −= 2/(√11 + 1).
      const [w1, w2] = twoSteps({ kind: 'adagrad', lr: 2, beta1: 0, tau: 1 }, [0], [3], [-1], backend);
      assertClose(w1, f32(6 / (Math.sqrt(10) + 1)));
      assertClose(w2, f32(6 / (Math.sqrt(10) + 1) - 2 / (Math.sqrt(11) + 1)));
    });
  });
}

describe('server optimizer state', () => {
  for (const kind of KINDS) {
    it(`${kind}: resuming from saved state gives bit-identical next rounds`, () => {
      const rng = mulberry32(7);
      const size = 4099; // not a multiple of 4 or of a chunk: exercises the kernel's padding
      const deltas = Array.from({ length: 6 }, () => randomUpdate(rng, size));
      const original = new ServerOptimizer({ kind }, size);
      let w = randomUpdate(rng, size);
      for (const d of deltas.slice(0, 3)) w = original.step(w, d);
      const saved = original.saveState();
      let expected = w;
      for (const d of deltas.slice(3)) expected = original.step(expected, d);
      for (const backend of BACKENDS) {
        const resumed = ServerOptimizer.loadState(saved, backend);
        assert.equal(resumed.steps, 3);
        assert.deepEqual(resumed.config, original.config);
        let again = w;
        for (const d of deltas.slice(3)) again = resumed.step(again, d);
        assert.deepEqual(again, expected, `resumed on ${backend}`);
        assert.deepEqual(resumed.saveState(), original.saveState());
      }
    });
  }

  it('rejects bytes that are not a saved state', () => {
    const saved = new ServerOptimizer({ kind: 'adam' }, 10).saveState();
    assert.throws(() => ServerOptimizer.loadState(saved.subarray(0, 20)), /too short/);
    assert.throws(() => ServerOptimizer.loadState(saved.subarray(0, saved.length - 4)), /expected/);
    const bad = saved.slice();
    bad[0] = 0;
    assert.throws(() => ServerOptimizer.loadState(bad), /magic/);
  });

  it('reads a state that sits at an odd offset inside a larger buffer', () => {
    const opt = new ServerOptimizer({ kind: 'momentum' }, 5);
    opt.step(new Float32Array(5), f32(1, 2, 3, 4, 5));
    const saved = opt.saveState();
    const framed = new Uint8Array(saved.length + 3);
    framed.set(saved, 3);
    assert.deepEqual(ServerOptimizer.loadState(framed.subarray(3)).saveState(), saved);
  });
});

describe('server optimizer backends', () => {
  for (const kind of KINDS) {
    it(`${kind}: the wasm kernel and the plain loop give the same bits`, () => {
      const rng = mulberry32(9);
      for (const size of [1, 7, 16384, 16389]) {
        const js = new ServerOptimizer({ kind, lr: 0.3 }, size, 'js');
        const wasm = new ServerOptimizer({ kind, lr: 0.3 }, size, 'wasm');
        let a = randomUpdate(rng, size);
        let b = a;
        for (let step = 0; step < 3; step++) {
          const d = randomUpdate(rng, size);
          a = js.step(a, d);
          b = wasm.step(b, d);
        }
        assert.deepEqual(b, a, `size ${size}`);
        assert.deepEqual(wasm.saveState(), js.saveState());
      }
    });
  }

  it('streams the mean straight from an accumulator, with the same result as its finalize()', () => {
    const rng = mulberry32(10);
    for (const size of [5, 16384 * 2 + 3]) {
      const acc = new WeightedMeanAccumulator(size);
      for (let k = 0; k < 3; k++) acc.add(randomUpdate(rng, size), k + 1);
      const w = randomUpdate(rng, size);
      for (const backend of BACKENDS) {
        const streamed = new ServerOptimizer({ kind: 'yogi' }, size, backend).step(w, acc);
        const materialised = new ServerOptimizer({ kind: 'yogi' }, size, backend).step(w, acc.finalize());
        assert.deepEqual(streamed, materialised, `${backend}, size ${size}`);
      }
    }
    assert.throws(() => new ServerOptimizer({ kind: 'plain' }, 4).step(new Float32Array(4), new WeightedMeanAccumulator(5)), /delta 5/);
  });

  it('can update the weights in place', () => {
    const opt = new ServerOptimizer({ kind: 'adam' }, 3);
    const w = f32(1, 2, 3);
    const expected = new ServerOptimizer({ kind: 'adam' }, 3).step(w, f32(0.1, 0.2, 0.3));
    assert.equal(opt.step(w, f32(0.1, 0.2, 0.3), w), w);
    assert.deepEqual(w, expected);
  });
});

describe('server optimizer config', () => {
  it('fills in the documented defaults', () => {
    assert.deepEqual(new ServerOptimizer({ kind: 'adam' }, 1).config, { kind: 'adam', lr: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-3, momentum: 0.9 });
    assert.equal(defaultsFor('yogi').lr, 0.01);
    assert.equal(defaultsFor('plain').lr, 1);
  });

  it('rejects out-of-range settings, naming the field', () => {
    assert.throws(() => new ServerOptimizer({ kind: 'plain', lr: 0 }, 1), /lr/);
    assert.throws(() => new ServerOptimizer({ kind: 'adam', beta1: 1 }, 1), /beta1/);
    assert.throws(() => new ServerOptimizer({ kind: 'yogi', beta2: -0.1 }, 1), /beta2/);
    assert.throws(() => new ServerOptimizer({ kind: 'momentum', momentum: 1.5 }, 1), /momentum/);
    assert.throws(() => new ServerOptimizer({ kind: 'adagrad', tau: 0 }, 1), /tau/);
    assert.throws(() => new ServerOptimizer({ kind: 'sgd' as never }, 1), /kind/);
  });

  it('rejects weights or deltas of the wrong length', () => {
    assert.throws(() => new ServerOptimizer({ kind: 'plain' }, 2).step(f32(1), f32(1, 2)), /holds 2/);
  });
});
