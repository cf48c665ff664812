import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  floatFromBfloat16Bits,
  bfloat16BitsUp,
  VECTOR_ENCODINGS,
  checkUpdate,
  decodeVector,
  encodeVector,
  encodedByteLength,
  floatFromHalfBits,
  halfBitsFromFloatBits,
  l2Norm,
  type VectorEncoding,
} from '../../server/protocol/codec';
import { manifestSize, type WeightsManifest } from '../../server/protocol/weights';
import { mulberry32, type Rng } from '../../workers/ml/random';

const MANIFEST: WeightsManifest = [
  { name: 'h0/kernel', shape: [7, 12] },
  { name: 'h0/bias', shape: [12] },
  { name: 'h1/kernel', shape: [12, 8] },
  { name: 'h1/bias', shape: [8] },
  { name: 'out/kernel', shape: [8, 1] },
  { name: 'out/bias', shape: [1] },
];
const P = manifestSize(MANIFEST); // 209, odd on purpose

const f32bits = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0]!;
const toHalf = (x: number) => floatFromHalfBits(halfBitsFromFloatBits(f32bits(x)));

/** Random values spanning several magnitudes, different per tensor (as weights and deltas are). */
function randomVector(rng: Rng, n = P): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = (rng() - 0.5) * 10 ** Math.floor(rng() * 6 - 4);
  return v;
}

function decodeOk(bytes: ArrayBuffer | Uint8Array, manifest: WeightsManifest, encoding: VectorEncoding): Float32Array {
  const result = decodeVector(bytes, manifest, encoding);
  if (!result.ok) assert.fail(`decode failed: ${result.reason}`);
  return result.values;
}

/** `bytes` copied to offset 1 of a bigger buffer: a misaligned view, like a pooled Node Buffer slice. */
function misaligned(bytes: Uint8Array): Uint8Array {
  const big = new Uint8Array(bytes.byteLength + 3);
  big.set(bytes, 1);
  return big.subarray(1, 1 + bytes.byteLength);
}

describe('float16 conversion', () => {
  it('every finite half round-trips exactly, including subnormals and -0', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue;
      const x = floatFromHalfBits(h);
      assert.equal(halfBitsFromFloatBits(f32bits(x)), h, `half 0x${h.toString(16)} (${x})`);
    }
    assert.ok(Object.is(toHalf(-0), -0));
    assert.equal(toHalf(2 ** -24), 2 ** -24); // smallest subnormal
    assert.equal(toHalf(65504), 65504); // largest finite
  });

  it('rounds to nearest, ties to even, at every midpoint between adjacent halves', () => {
    for (let h = 0; h < 0x7bff; h++) {
      const lo = floatFromHalfBits(h);
      const hi = floatFromHalfBits(h + 1);
      const mid = (lo + hi) / 2; // exact in float32: halves have 11 significant bits
      const even = (h & 1) === 0 ? h : h + 1;
      assert.equal(halfBitsFromFloatBits(f32bits(mid)), even, `midpoint of 0x${h.toString(16)}`);
      assert.equal(halfBitsFromFloatBits(f32bits(mid) - 1), h, `just below midpoint of 0x${h.toString(16)}`);
      assert.equal(halfBitsFromFloatBits(f32bits(mid) + 1), h + 1, `just above midpoint of 0x${h.toString(16)}`);
      assert.equal(halfBitsFromFloatBits(f32bits(-mid)), even | 0x8000);
    }
  });

  it('overflows to ±Inf, keeps NaN, flushes below 2^-25 to ±0', () => {
    assert.equal(toHalf(65519.99), 65504);
    assert.equal(toHalf(65520), Infinity); // tie between 65504 (odd) and 2^16 → even → Inf
    assert.equal(toHalf(1e6), Infinity);
    assert.equal(toHalf(-1e30), -Infinity);
    assert.equal(toHalf(Infinity), Infinity);
    assert.ok(Number.isNaN(toHalf(NaN)));
    assert.equal(toHalf(2 ** -25), 0); // tie → even (0)
    assert.equal(toHalf(2 ** -25 * 1.0001), 2 ** -24);
    assert.ok(Object.is(toHalf(-(2 ** -26)), -0));
    assert.equal(toHalf(1e-45), 0); // float32 subnormal
    assert.equal(toHalf(3 * 2 ** -25), 2 ** -23); // 1.5 units → tie → even (2 units)
  });
});

describe('encodeVector / decodeVector', () => {
  it('has the exact byte sizes: float32 4·P, float16 2·P, int8 P + 2·tensors', () => {
    const v = randomVector(mulberry32(1));
    assert.equal(encodeVector(v, MANIFEST, 'float32').byteLength, 4 * P);
    assert.equal(encodeVector(v, MANIFEST, 'float16').byteLength, 2 * P);
    assert.equal(encodeVector(v, MANIFEST, 'int8').byteLength, P + 2 * MANIFEST.length);
    for (const e of VECTOR_ENCODINGS) assert.equal(encodedByteLength(MANIFEST, e), encodeVector(v, MANIFEST, e).byteLength);
  });

  it('float32 is lossless and encodes without copying', () => {
    const v = randomVector(mulberry32(2));
    const bytes = encodeVector(v, MANIFEST, 'float32');
    assert.equal(bytes.buffer, v.buffer);
    assert.deepEqual(decodeOk(bytes, MANIFEST, 'float32'), v);
  });

  it('float16 round-trip: relative error ≤ 2^-11 in the normal range', () => {
    const rng = mulberry32(3);
    const n = 20_000;
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = (rng() < 0.5 ? -1 : 1) * 2 ** (-14 + rng() * 29.99); // [2^-14, 65504)
    const manifest = [{ name: 'w', shape: [n] }];
    const back = decodeOk(encodeVector(v, manifest, 'float16'), manifest, 'float16');
    for (let i = 0; i < n; i++) {
      const rel = Math.abs(back[i]! - v[i]!) / Math.abs(v[i]!);
      assert.ok(rel <= 2 ** -11, `value ${v[i]} → ${back[i]} (relative error ${rel})`);
    }
  });

  it('float16 subnormals keep an absolute error ≤ 2^-25', () => {
    const rng = mulberry32(4);
    const v = Float32Array.from({ length: 5000 }, () => (rng() - 0.5) * 2 ** -13);
    const manifest = [{ name: 'w', shape: [v.length] }];
    const back = decodeOk(encodeVector(v, manifest, 'float16'), manifest, 'float16');
    v.forEach((x, i) => assert.ok(Math.abs(back[i]! - x) <= 2 ** -25, `${x} → ${back[i]}`));
  });

  it('int8 round-trip: absolute error ≤ scale/2 per tensor, scale = maxabs/127 rounded up to bfloat16', () => {
    const rng = mulberry32(5);
    for (let trial = 0; trial < 50; trial++) {
      const v = randomVector(rng);
      const bytes = encodeVector(v, MANIFEST, 'int8');
      const scales = new DataView(bytes.buffer, bytes.byteOffset, 2 * MANIFEST.length);
      const back = decodeOk(bytes, MANIFEST, 'int8');
      let start = 0;
      MANIFEST.forEach((tensor, t) => {
        const size = tensor.shape.reduce((a, b) => a * b, 1);
        const slice = v.subarray(start, start + size);
        const maxAbs = slice.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        const scale = floatFromBfloat16Bits(scales.getUint16(2 * t, true));
        // The smallest bfloat16 ≥ maxabs/127: at most 2^-7 relative above it.
        assert.ok(scale >= maxAbs / 127 && scale <= (maxAbs / 127) * (1 + 2 ** -7), `${tensor.name}: ${scale} vs ${maxAbs / 127}`);
        // scale/2 from rounding, plus float32 rounding of q·scale on decode.
        const bound = scale / 2 + maxAbs * 2 ** -23;
        for (let i = 0; i < size; i++) {
          const err = Math.abs(back[start + i]! - slice[i]!);
          assert.ok(err <= bound, `${tensor.name}[${i}]: ${slice[i]} → ${back[start + i]} (error ${err}, bound ${bound})`);
        }
        start += size;
      });
    }
  });

  it('int8 keeps an all-zero tensor exact with scale 0, and ±maxabs within half a step', () => {
    const v = new Float32Array(P);
    v[0] = 0.5;
    v[1] = -0.5;
    const bytes = encodeVector(v, MANIFEST, 'int8');
    assert.equal(new DataView(bytes.buffer).getUint16(2, true), 0); // h0/bias: all zeros
    const back = decodeOk(bytes, MANIFEST, 'int8');
    // The scale is 0.5/127 rounded up to bfloat16, so 0.5 lands within half a step of its q·scale.
    assert.ok(Math.abs(back[0]! - 0.5) <= (0.5 / 127 / 2) * (1 + 2 ** -7), String(back[0]));
    assert.equal(back[1], -back[0]!);
    assert.ok(back.subarray(2).every((x) => x === 0));
  });

  it('decodes misaligned input (byteOffset 1) the same as aligned input, for every encoding', () => {
    const v = randomVector(mulberry32(6));
    for (const e of VECTOR_ENCODINGS) {
      const bytes = encodeVector(v, MANIFEST, e);
      const shifted = misaligned(bytes);
      assert.equal(shifted.byteOffset, 1);
      assert.deepEqual(decodeOk(shifted, MANIFEST, e), decodeOk(bytes, MANIFEST, e), e);
    }
  });

  it('accepts an ArrayBuffer (browser) and a Node Buffer', () => {
    const v = randomVector(mulberry32(7));
    for (const e of VECTOR_ENCODINGS) {
      const bytes = encodeVector(v, MANIFEST, e);
      const expected = decodeOk(bytes, MANIFEST, e);
      assert.deepEqual(decodeOk(bytes.slice().buffer, MANIFEST, e), expected);
      assert.deepEqual(decodeOk(Buffer.from(bytes), MANIFEST, e), expected);
    }
  });

  it('rejects a wrong byte length, with the expected size in the reason', () => {
    const v = randomVector(mulberry32(8));
    for (const e of VECTOR_ENCODINGS) {
      const bytes = encodeVector(v, MANIFEST, e);
      for (const bad of [bytes.subarray(0, bytes.length - 1), new Uint8Array(bytes.length + 1), new Uint8Array(0), encodeVector(v, MANIFEST, 'float32')]) {
        if (bad.byteLength === bytes.byteLength) continue;
        const result = decodeVector(bad, MANIFEST, e);
        assert.equal(result.ok, false);
        if (!result.ok) {
          assert.equal(result.code, 'bad_update');
          assert.match(result.reason, new RegExp(`is ${bytes.byteLength} bytes.*got ${bad.byteLength}`));
        }
      }
    }
    assert.equal(decodeVector('nope' as unknown as Uint8Array, MANIFEST, 'float32').ok, false);
  });

  it('rejects NaN and ±Inf values in float32 and float16, naming the tensor', () => {
    for (const bad of [NaN, Infinity, -Infinity, 1e9 /* overflows float16 */]) {
      const v = randomVector(mulberry32(9));
      v[100] = bad; // h1/kernel[4]
      for (const e of ['float32', 'float16'] as const) {
        if (e === 'float32' && Number.isFinite(bad)) continue;
        const result = decodeVector(encodeVector(v, MANIFEST, e), MANIFEST, e);
        assert.equal(result.ok, false, `${e} ${bad}`);
        if (!result.ok) assert.match(result.reason, /NaN or infinite value at h1\/kernel\[4\]/);
      }
    }
  });

  it('int8: a non-finite value becomes a NaN scale, and NaN/Inf/negative scales or -128 bytes are rejected', () => {
    const v = randomVector(mulberry32(10));
    v[3] = NaN;
    const fromNaN = decodeVector(encodeVector(v, MANIFEST, 'int8'), MANIFEST, 'int8');
    assert.equal(fromNaN.ok, false);
    if (!fromNaN.ok) assert.match(fromNaN.reason, /scale of tensor h0\/kernel is NaN/);
    v[3] = -Infinity;
    assert.equal(decodeVector(encodeVector(v, MANIFEST, 'int8'), MANIFEST, 'int8').ok, false);

    const good = encodeVector(randomVector(mulberry32(11)), MANIFEST, 'int8');
    const withScale = (t: number, scale: number) => {
      const copy = good.slice();
      new DataView(copy.buffer).setUint16(2 * t, scale, true);
      return decodeVector(copy, MANIFEST, 'int8');
    };
    // bfloat16 bits: NaN, +Inf, -Inf, -0.5, 3.39e38 (finite, but 127 × it overflows float32)
    for (const scale of [0x7fc0, 0x7f80, 0xff80, 0xbf00, 0x7f7f]) {
      const result = withScale(4, scale);
      assert.equal(result.ok, false, String(scale));
      if (!result.ok) assert.match(result.reason, /out\/kernel/);
    }
    const withMin = good.slice();
    withMin[2 * MANIFEST.length + 10] = 0x80;
    assert.equal(decodeVector(withMin, MANIFEST, 'int8').ok, false);
  });

  it('encode throws on a vector that does not fit the manifest', () => {
    assert.throws(() => encodeVector(new Float32Array(P - 1), MANIFEST, 'int8'), new RegExp(`manifest needs ${P}`));
  });

  it('fuzz: 1,000 random byte buffers never throw; accepted ones are finite and the right length', () => {
    const rng = mulberry32(12345);
    const manifests: WeightsManifest[] = [MANIFEST, [{ name: 'w', shape: [3] }], [{ name: 'a', shape: [2, 2] }, { name: 'b', shape: [1] }], []];
    let accepted = 0;
    for (let k = 0; k < 1000; k++) {
      const manifest = manifests[Math.floor(rng() * manifests.length)]!;
      const encoding = VECTOR_ENCODINGS[Math.floor(rng() * 3)]!;
      const exact = encodedByteLength(manifest, encoding);
      // Half the buffers have the exact length, so the value checks get exercised too.
      const length = rng() < 0.5 ? exact : Math.floor(rng() * (exact * 2 + 8));
      const offset = Math.floor(rng() * 4);
      const backing = new Uint8Array(length + offset);
      for (let i = 0; i < backing.length; i++) backing[i] = Math.floor(rng() * 256);
      const bytes = backing.subarray(offset);
      let result;
      try {
        result = decodeVector(rng() < 0.2 && offset === 0 ? bytes.buffer : bytes, manifest, encoding);
      } catch (error) {
        assert.fail(`decode threw on case ${k} (${encoding}, ${length} bytes): ${String(error)}`);
      }
      if (result.ok) {
        accepted++;
        assert.equal(result.values.length, manifestSize(manifest));
        assert.ok(result.values.every(Number.isFinite), `case ${k}: non-finite value accepted`);
      } else {
        assert.equal(result.code, 'bad_update');
        assert.ok(result.reason.length > 0);
      }
    }
    assert.ok(accepted > 50, `some random buffers decode (${accepted})`);
  });
});

describe('l2Norm / checkUpdate', () => {
  it('computes the Euclidean norm in float64', () => {
    assert.equal(l2Norm(new Float32Array([3, 4])), 5);
    assert.equal(l2Norm(new Float32Array([3, 4, 12])), 13);
    assert.equal(l2Norm(new Float32Array(0)), 0);
    const huge = l2Norm(new Float32Array([3e38, 3e38])); // squares overflow float32, not float64
    assert.ok(Math.abs(huge / (Math.fround(3e38) * Math.SQRT2) - 1) < 1e-15, String(huge));
  });

  it('rejects non-finite updates and updates above maxNorm', () => {
    assert.deepEqual(checkUpdate(new Float32Array([3, 4]), { maxNorm: 5 }), { ok: true, norm: 5 });
    const big = checkUpdate(new Float32Array([3, 4]), { maxNorm: 4.9 });
    assert.equal(big.ok, false);
    if (!big.ok) assert.match(big.reason, /norm 5\.000 exceeds the limit 4\.9/);
    const nan = checkUpdate(new Float32Array([1, NaN, 2]));
    assert.equal(nan.ok, false);
    if (!nan.ok) assert.match(nan.reason, /at index 1/);
    assert.equal(checkUpdate(new Float32Array([Infinity])).ok, false);
    assert.equal(checkUpdate(new Float32Array([1e30])).ok, true);
  });
});

describe('bfloat16 scales', () => {
  it('rounds up to the nearest bfloat16 and decodes exactly what it encodes', () => {
    assert.equal(floatFromBfloat16Bits(bfloat16BitsUp(0)), 0);
    assert.equal(floatFromBfloat16Bits(bfloat16BitsUp(1)), 1); // exact: no rounding
    assert.equal(floatFromBfloat16Bits(bfloat16BitsUp(1 + 2 ** -10)), 1 + 2 ** -7); // up to the next step
    const rng = mulberry32(12);
    for (let i = 0; i < 1000; i++) {
      const x = (1 + rng()) * 10 ** Math.floor(rng() * 65 - 37); // normal float32 range
      const back = floatFromBfloat16Bits(bfloat16BitsUp(x));
      assert.ok(back >= x && back <= x * (1 + 2 ** -7) + 1e-45, `${x} → ${back}`);
    }
  });
});
