import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MedianAggregator, TrimmedMeanAggregator } from '../../../server/training/aggregation';
import { robustKernel, sortingNetwork } from '../../../server/training/aggregation/robust-kernel';
import { mulberry32 } from '../../../workers/ml/random';
import { randomUpdate } from './contract';

function applyNetwork(network: Int32Array, values: number[]): number[] {
  const v = [...values];
  for (let p = 0; p < network.length; p += 2) {
    const i = network[p]!;
    const j = network[p + 1]!;
    if (v[i]! > v[j]!) [v[i], v[j]] = [v[j]!, v[i]!];
  }
  return v;
}

describe('sortingNetwork', () => {
  it('sorts every 0/1 input up to 14 values (so, by the 0-1 principle, every input)', () => {
    for (let n = 1; n <= 14; n++) {
      const network = sortingNetwork(n);
      for (let bits = 0; bits < 1 << n; bits++) {
        const input = Array.from({ length: n }, (_, i) => (bits >> i) & 1);
        const out = applyNetwork(network, input);
        for (let i = 1; i < n; i++) if (out[i - 1]! > out[i]!) assert.fail(`n = ${n}, input ${input.join('')}: got ${out.join('')}`);
      }
    }
  });

  it('sorts seeded random inputs of up to 130 values', () => {
    const rng = mulberry32(31);
    for (let n = 15; n <= 130; n += 5) {
      const input = Array.from({ length: n }, () => Math.floor(rng() * 20));
      assert.deepEqual(applyNetwork(sortingNetwork(n), input), [...input].sort((a, b) => a - b), `n = ${n}`);
    }
  });

  it('only ever compares a lower position with a higher one', () => {
    const network = sortingNetwork(50);
    for (let p = 0; p < network.length; p += 2) assert.ok(network[p]! < network[p + 1]! && network[p + 1]! < 50);
  });
});

describe('robust aggregators on the wasm kernel', () => {
  it('has the kernel on this Node', () => {
    assert.notEqual(robustKernel(), null);
  });

  /** Updates with ties, signed zeros and infinities mixed into ordinary values. */
  function awkwardUpdates(seed: number, n: number, size: number): Float32Array[] {
    const rng = mulberry32(seed);
    const specials = [0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1, -1];
    return Array.from({ length: n }, () => {
      const u = randomUpdate(rng, size);
      for (let i = 0; i < size; i++) if (rng() < 0.15) u[i] = specials[Math.floor(rng() * specials.length)]!;
      return u;
    });
  }

  const makers = {
    median: (size: number, backend: 'wasm' | 'js') => new MedianAggregator(size, { backend }),
    'trimmed mean β = 0.2': (size: number, backend: 'wasm' | 'js') => new TrimmedMeanAggregator(size, 0.2, { backend }),
    'trimmed mean β = 0': (size: number, backend: 'wasm' | 'js') => new TrimmedMeanAggregator(size, 0, { backend }),
  };

  for (const [name, make] of Object.entries(makers)) {
    it(`${name}: gives the same bits as the plain loop, ties, ±0 and ±∞ included`, () => {
      for (const [n, size] of [[1, 9], [2, 9], [3, 4099], [8, 5000], [50, 4101]] as const) {
        const updates = awkwardUpdates(40 + n, n, size);
        const wasm = make(size, 'wasm');
        const js = make(size, 'js');
        updates.forEach((u, k) => {
          wasm.add(u, k + 1);
          js.add(u, k + 1);
        });
        const a = wasm.finalize();
        const b = js.finalize();
        for (let i = 0; i < size; i++) {
          if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) assert.fail(`n ${n}, value ${i}: wasm ${a[i]}, js ${b[i]}`);
        }
      }
    });
  }

  it('sums ranks in sorted order, so cancellation cannot depend on arrival order', () => {
    // In float64, (1e30 + 1) − 1e30 is 0 but (−1e30 + 1e30) + 1 is 1: only a fixed order is safe.
    const orders = [[1, 1e30, -1e30], [1e30, -1e30, 1], [-1e30, 1, 1e30], [1e30, 1, -1e30]];
    for (const backend of ['wasm', 'js'] as const) {
      const results = orders.map((order) => {
        const agg = new TrimmedMeanAggregator(1, 0, { backend });
        order.forEach((v) => agg.add(new Float32Array([v]), 1));
        return agg.finalize()[0];
      });
      assert.deepEqual(results, results.map(() => 0), backend); // sorted: (−1e30 + 1) + 1e30 = 0
    }
  });

  it('picks the kernel by itself for large models', () => {
    const size = 5000;
    const updates = awkwardUpdates(77, 7, size).map((u) => u.map((x) => (Number.isFinite(x) ? x : 0)));
    const auto = new MedianAggregator(size);
    const js = new MedianAggregator(size, { backend: 'js' });
    updates.forEach((u) => (auto.add(u, 1), js.add(u, 1)));
    assert.deepEqual(auto.finalize(), js.finalize());
  });
});
