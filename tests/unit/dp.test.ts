import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addGaussianNoise, clipToNorm, cryptoRng, l2Norm, plausibleNormRange, privatizeUpdate } from '../../workers/ml/dp';
import { decodeVector, encodeVector } from '../../server/protocol/codec';
import { mulberry32 } from '../../workers/ml/random';

function randomVector(length: number, scale: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length }, () => (rng() * 2 - 1) * scale);
}

function moments(values: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return { mean, std: Math.sqrt(squares / (values.length - 1)) };
}

describe('clipping', () => {
  test('an update longer than clipNorm comes back with norm ≤ clipNorm, pointing the same way', () => {
    for (const [seed, length, scale, clip] of [
      [1, 10, 5, 1],
      [2, 10_000, 1, 0.5],
      [3, 1_000_000, 0.3, 2],
      [4, 3, 1e4, 0.01],
    ] as const) {
      const delta = randomVector(length, scale, seed);
      assert.ok(l2Norm(delta) > clip, 'the test vector must be longer than the bound');
      const clipped = clipToNorm(delta, clip);
      const norm = l2Norm(clipped);
      assert.ok(norm <= clip, `norm ${norm} > clipNorm ${clip}`);
      assert.ok(norm > clip * (1 - 1e-6), `clipping shrank more than needed: ${norm}`);
      const ratio = clipped[0]! / delta[0]!;
      for (let i = 0; i < Math.min(length, 100); i++) assert.ok(Math.abs(clipped[i]! - delta[i]! * ratio) <= 1e-6 * Math.abs(delta[i]!) + 1e-30);
    }
  });

  test('an update within clipNorm is unchanged (and the input is never modified)', () => {
    const delta = randomVector(1000, 0.01, 5);
    const copy = delta.slice();
    const norm = l2Norm(delta);
    assert.deepEqual(clipToNorm(delta, norm * 1.5), delta);
    assert.deepEqual(clipToNorm(delta, norm), delta);
    const clipped = clipToNorm(delta, norm / 2);
    assert.deepEqual(delta, copy);
    assert.notEqual(clipped, delta);
  });

  test('refuses a non-positive bound and non-finite updates', () => {
    assert.throws(() => clipToNorm(new Float32Array(3), 0), /clipNorm/);
    assert.throws(() => clipToNorm(Float32Array.from([1, Infinity]), 1), /non-finite/);
  });
});

describe('Gaussian noise', () => {
  test('has mean ≈ 0 and std ≈ σ·C over many coordinates (seeded)', () => {
    const length = 200_000;
    const settings = { clipNorm: 0.5, noiseMultiplier: 1.3 };
    const noised = privatizeUpdate(new Float32Array(length), settings, mulberry32(42));
    const { mean, std } = moments(noised);
    const sigmaC = settings.noiseMultiplier * settings.clipNorm;
    // Standard errors: of the mean σC/√n ≈ 0.0015, of the std σC/√(2n) ≈ 0.001; allow 5 of each.
    assert.ok(Math.abs(mean) < (5 * sigmaC) / Math.sqrt(length), `mean ${mean}`);
    assert.ok(Math.abs(std - sigmaC) < (5 * sigmaC) / Math.sqrt(2 * length), `std ${std} vs ${sigmaC}`);
    // Gaussian tails: about 4.55 % of draws beyond 2σ.
    const beyond = noised.filter((v) => Math.abs(v) > 2 * sigmaC).length / length;
    assert.ok(Math.abs(beyond - 0.0455) < 0.003, `beyond 2σ: ${beyond}`);
  });

  test('the crypto source gives the same statistics and a different draw every time', () => {
    const a = addGaussianNoise(new Float32Array(100_000), 2, cryptoRng());
    const b = addGaussianNoise(new Float32Array(100_000), 2, cryptoRng());
    const { mean, std } = moments(a);
    assert.ok(Math.abs(mean) < (5 * 2) / Math.sqrt(100_000), `mean ${mean}`);
    assert.ok(Math.abs(std - 2) < (5 * 2) / Math.sqrt(200_000), `std ${std}`);
    assert.notDeepEqual(a.subarray(0, 10), b.subarray(0, 10));
    const rng = cryptoRng();
    for (let i = 0; i < 40_000; i++) {
      const u = rng();
      assert.ok(u >= 0 && u < 1);
    }
  });

  test('odd lengths get noise on every coordinate, the last one too', () => {
    for (const length of [1, 3, 10_001]) {
      const noised = addGaussianNoise(new Float32Array(length), 1, mulberry32(length));
      assert.ok(noised.every((v) => v !== 0), `length ${length}`);
    }
  });

  test('noise multiplier 0 leaves the clipped update as it is', () => {
    const delta = randomVector(100, 1, 9);
    assert.deepEqual(privatizeUpdate(delta, { clipNorm: 100, noiseMultiplier: 0 }, mulberry32(1)), delta);
  });
});

describe('plausible update norms (the server-side check)', () => {
  const manifest = (n: number) => [{ name: 'w', shape: [n] }];

  test('every honest DP update, in every encoding, decodes to a norm inside the range', () => {
    for (const encoding of ['float32', 'float16', 'int8'] as const) {
      for (const [length, clipNorm, noiseMultiplier, seed] of [
        [50, 1, 1.1, 1],
        [5_000, 0.1, 0.5, 2],
        [100_000, 2, 3, 3],
        [20, 1, 0.1, 4],
      ] as const) {
        for (const scale of [1e-3, 10]) {
          const settings = { clipNorm, noiseMultiplier };
          const sent = privatizeUpdate(randomVector(length, scale, seed), settings, mulberry32(seed + 100));
          const decoded = decodeVector(encodeVector(sent, manifest(length), encoding), manifest(length), encoding);
          assert.ok(decoded.ok);
          const norm = l2Norm(decoded.values);
          const { min, max } = plausibleNormRange(length, settings, encoding);
          assert.ok(norm >= min && norm <= max, `${encoding} d=${length}: ${norm} not in [${min}, ${max}]`);
        }
      }
    }
  });

  test('an unclipped or scaled-up update is out of range, and so is one that carries no noise', () => {
    const length = 10_000;
    const settings = { clipNorm: 1, noiseMultiplier: 1 };
    const { min, max } = plausibleNormRange(length, settings, 'float32');
    const honest = privatizeUpdate(randomVector(length, 1, 1), settings, mulberry32(2));
    const scaled = honest.map((v) => v * 10);
    assert.ok(l2Norm(scaled) > max, 'a 10× boosted update');
    const noiseless = clipToNorm(randomVector(length, 1, 1), 1);
    assert.ok(l2Norm(noiseless) < min, 'a clipped update without noise');
    assert.equal(plausibleNormRange(length, settings, 'int8').min, 0, 'int8 may round small values to 0: no lower bound');
  });
});
