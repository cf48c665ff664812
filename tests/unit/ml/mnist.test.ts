import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  encodeMnistPack,
  interleaveClasses,
  MNIST_HEADER_BYTES,
  MNIST_MAGIC,
  mnistPixel,
  parseMnistPack,
  registeredMnist,
  registerMnist,
  type MnistSet,
} from '../../../workers/ml/mnist';
import { fetchMnist } from '../../../workers/ml/mnist-fetch';

function sample(count = 3, rows = 4, cols = 5): MnistSet {
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  const pixels = Uint8Array.from({ length: count * rows * cols }, (_, i) => (i * 37) % 256);
  return { count, rows, cols, labels, pixels };
}

describe('CMN1 pack', () => {
  it('round-trips through encode and parse, from a Uint8Array or an ArrayBuffer', () => {
    const set = sample();
    const bytes = encodeMnistPack(set);
    assert.equal(bytes.byteLength, MNIST_HEADER_BYTES + 3 + 3 * 4 * 5);
    assert.deepEqual([...bytes.subarray(0, 4)], [0x43, 0x4d, 0x4e, 0x31]); // 'CMN1'
    for (const input of [bytes, bytes.slice().buffer]) {
      const back = parseMnistPack(input);
      assert.equal(back.count, 3);
      assert.equal(back.rows, 4);
      assert.equal(back.cols, 5);
      assert.deepEqual(back.labels, set.labels);
      assert.deepEqual(back.pixels, set.pixels);
    }
  });

  it('parses a pack that sits at an offset inside a larger buffer', () => {
    const bytes = encodeMnistPack(sample());
    const outer = new Uint8Array(bytes.byteLength + 7);
    outer.set(bytes, 3);
    const back = parseMnistPack(outer.subarray(3, 3 + bytes.byteLength));
    assert.deepEqual(back.pixels, sample().pixels);
  });

  it('handles an empty set', () => {
    const back = parseMnistPack(encodeMnistPack(sample(0, 28, 28)));
    assert.equal(back.count, 0);
    assert.equal(back.pixels.length, 0);
  });

  it('rejects a bad magic', () => {
    const bytes = encodeMnistPack(sample());
    new DataView(bytes.buffer).setUint32(0, 0x12345678, true);
    assert.throws(() => parseMnistPack(bytes), /MNIST pack: bad magic 0x12345678 .*'CMN1'/);
    assert.equal(MNIST_MAGIC, 0x314e4d43);
  });

  it('rejects a truncated header or body', () => {
    const bytes = encodeMnistPack(sample());
    assert.throws(() => parseMnistPack(bytes.subarray(0, 10)), /MNIST pack: 10 bytes is shorter than the 16-byte header/);
    assert.throws(() => parseMnistPack(bytes.subarray(0, bytes.length - 1)), /MNIST pack: truncated: 78 bytes, expected exactly 79 for 3 digits of 4×5/);
  });

  it('rejects trailing bytes and a count that does not match the length', () => {
    const bytes = encodeMnistPack(sample());
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    assert.throws(() => parseMnistPack(longer), /MNIST pack: trailing bytes: 80 bytes, expected exactly 79/);
    const wrongCount = bytes.slice();
    new DataView(wrongCount.buffer).setUint32(4, 4, true);
    assert.throws(() => parseMnistPack(wrongCount), /MNIST pack: truncated: 79 bytes, expected exactly 100 for 4 digits/);
    const zeroRows = bytes.slice();
    new DataView(zeroRows.buffer).setUint32(8, 0, true);
    assert.throws(() => parseMnistPack(zeroRows), /MNIST pack: bad image size 0×5/);
  });

  it('rejects label 10', () => {
    const bytes = encodeMnistPack(sample());
    bytes[MNIST_HEADER_BYTES + 2] = 10;
    assert.throws(() => parseMnistPack(bytes), /MNIST pack: label 10 of digit 2 is out of range 0\.\.9/);
  });

  it('refuses to encode an inconsistent set', () => {
    assert.throws(() => encodeMnistPack({ ...sample(), count: 4 }), /4 digits/);
    assert.throws(() => encodeMnistPack({ ...sample(), pixels: new Uint8Array(5) }), /5 pixels, expected 60/);
    assert.throws(() => encodeMnistPack({ ...sample(), labels: Uint8Array.of(0, 1, 10) }), /label 10/);
  });

  it('maps intensities to bytes by round(v·255)', () => {
    assert.equal(mnistPixel(0), 0);
    assert.equal(mnistPixel(1), 255);
    assert.equal(mnistPixel(0.624), 159);
    assert.equal(mnistPixel(1.5), 255);
    assert.equal(mnistPixel(-1), 0);
  });
});

describe('class interleaving', () => {
  it('puts digit i of class c at i·10 + c while every class lasts, then skips exhausted classes', () => {
    const counts = [3, 5, 2, 3, 3, 3, 3, 3, 3, 3];
    const order = interleaveClasses(counts);
    assert.equal(order.length, 31);
    for (let k = 0; k < 20; k++) assert.deepEqual(order[k], [k % 10, Math.floor(k / 10)]);
    // Round 2: class 2 is exhausted.
    assert.deepEqual(order.slice(20, 29).map(([c]) => c), [0, 1, 3, 4, 5, 6, 7, 8, 9]);
    // Rounds 3 and 4: only class 1 is left.
    assert.deepEqual(order.slice(29), [[1, 3], [1, 4]]);
    // Every digit exactly once.
    const seen = new Set(order.map(([c, i]) => `${c}:${i}`));
    assert.equal(seen.size, 31);
  });
});

describe('registry and fetch', () => {
  const realFetch = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  it('registerMnist makes a set available synchronously', () => {
    const set = parseMnistPack(encodeMnistPack(sample()));
    registerMnist(set);
    assert.equal(registeredMnist(), set);
  });

  it('fetchMnist downloads once per base URL, parses, registers, and retries after a failure', async () => {
    const pack = encodeMnistPack(sample(7, 28, 28));
    const calls: string[] = [];
    let fail = true;
    globalThis.fetch = (async (url: string) => {
      calls.push(url);
      if (fail) return new Response('nope', { status: 503 });
      return new Response(pack.slice());
    }) as typeof fetch;
    await assert.rejects(fetchMnist('http://host:1/'), /MNIST: GET http:\/\/host:1\/data\/mnist\.bin failed with HTTP 503/);
    fail = false;
    const [a, b] = await Promise.all([fetchMnist('http://host:1/'), fetchMnist('http://host:1/')]);
    assert.equal(a, b);
    assert.equal(a.count, 7);
    assert.equal(registeredMnist(), a);
    assert.equal(await fetchMnist('http://host:1/'), a);
    assert.deepEqual(calls, ['http://host:1/data/mnist.bin', 'http://host:1/data/mnist.bin']);
  });
});
