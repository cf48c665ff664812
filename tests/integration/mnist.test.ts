import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ensureMnistRegistered, loadMnist, loadMnistFrom, MNIST_CACHE_FILE } from '../../server/data/mnist';
import { parseMnistPack, registeredMnist, registerMnist, type MnistSet } from '../../workers/ml/mnist';
import { fetchMnist } from '../../workers/ml/mnist-fetch';
import { startTestServer, type TestServer } from '../helpers/server';

const CLASS_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

function classCounts(labels: Uint8Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const label of labels) counts[label]!++;
  return counts;
}

function sameSet(a: MnistSet, b: MnistSet): void {
  assert.equal(a.count, b.count);
  assert.equal(a.rows, b.rows);
  assert.equal(a.cols, b.cols);
  assert.ok(Buffer.from(a.labels).equals(b.labels), 'labels differ');
  assert.ok(Buffer.from(a.pixels).equals(b.pixels), 'pixels differ');
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** node:http, so the raw (possibly gzipped) bytes and headers are seen as sent. */
function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('MNIST from the mnist package', () => {
  test('building from the JSON writes a cache that later loads read instead', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cotrain-mnist-'));
    try {
      const file = path.join(dir, 'sub', 'mnist.bin');
      let t = performance.now();
      const built = await loadMnistFrom(file);
      const buildMs = performance.now() - t;
      assert.equal(built.fromCache, false);
      assert.ok(existsSync(file) && existsSync(`${file}.key`));
      assert.ok(readFileSync(file).equals(built.bytes));
      t = performance.now();
      const cached = await loadMnistFrom(file);
      const cachedMs = performance.now() - t;
      assert.equal(cached.fromCache, true);
      sameSet(cached.set, built.set);
      assert.ok(cachedMs < buildMs, `cached load ${cachedMs.toFixed(0)} ms vs build ${buildMs.toFixed(0)} ms`);
      // A damaged cache is rebuilt, not trusted.
      const damaged = Buffer.from(built.bytes);
      damaged[16] = 42;
      await import('node:fs/promises').then((fs) => fs.writeFile(file, damaged));
      const rebuilt = await loadMnistFrom(file);
      assert.equal(rebuilt.fromCache, false);
      sameSet(rebuilt.set, built.set);
      // Temp files are renamed into place, none left behind.
      assert.deepEqual(
        (await import('node:fs/promises').then((fs) => fs.readdir(path.dirname(file)))).sort(),
        ['mnist.bin', 'mnist.bin.key'],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('loadMnist gives the 10,000 digits, 28×28, about 1000 of each class', async () => {
    const set = await loadMnist();
    assert.equal(set.count, 10_000);
    assert.equal(set.rows, 28);
    assert.equal(set.cols, 28);
    assert.equal(set.labels.length, 10_000);
    assert.equal(set.pixels.length, 10_000 * 784);
    assert.deepEqual(classCounts(set.labels), CLASS_COUNTS);
    assert.ok(existsSync(MNIST_CACHE_FILE), 'data/mnist.bin is written');
    // Pixels use the whole 0..255 range; every digit has ink.
    let max = 0;
    for (let i = 0; i < set.count; i++) {
      const image = set.pixels.subarray(i * 784, (i + 1) * 784);
      const ink = image.reduce((a, v) => a + (v > 127 ? 1 : 0), 0);
      assert.ok(ink > 0, `digit ${i} is blank`);
      for (const v of image) if (v > max) max = v;
    }
    assert.equal(max, 255);
  });

  test('digits are interleaved by class: every prefix is balanced, and they match the JSON', async () => {
    const set = await loadMnist();
    assert.deepEqual(classCounts(set.labels.subarray(0, 100)), new Array(10).fill(10));
    for (const n of [10, 1000, 8630]) {
      for (const count of classCounts(set.labels.subarray(0, n))) assert.equal(count, n / 10);
    }
    // Digit i of class c sits at i·10 + c (while every class lasts): compare with the source.
    const dir = path.dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
    const threes = (JSON.parse(readFileSync(path.join(dir, 'src', 'digits', '3.json'), 'utf8')) as { data: number[] }).data;
    for (const i of [0, 1, 500, 862]) {
      const k = i * 10 + 3;
      assert.equal(set.labels[k], 3);
      const expected = threes.slice(i * 784, (i + 1) * 784).map((v) => Math.round(v * 255));
      assert.deepEqual([...set.pixels.subarray(k * 784, (k + 1) * 784)], expected);
    }
  });

  test('a second load is memoized; ensureMnistRegistered registers the set', async () => {
    const t = performance.now();
    const again = await loadMnist();
    assert.ok(performance.now() - t < 50);
    assert.equal(again, await loadMnist());
    registerMnist({ count: 0, rows: 28, cols: 28, labels: new Uint8Array(0), pixels: new Uint8Array(0) });
    const set = await ensureMnistRegistered();
    assert.equal(registeredMnist(), set);
    assert.equal(set, again);
  });
});

describe('GET /data/mnist.bin', () => {
  let t: TestServer;
  let set: MnistSet;
  before(async () => {
    t = await startTestServer();
    set = await loadMnist();
  });
  after(async () => {
    await t.close();
  });

  test('sends gzip when asked, with an ETag and a day of caching', async () => {
    const res = await get(`${t.url}/data/mnist.bin`, { 'accept-encoding': 'gzip, deflate, br' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.equal(res.headers['vary'], 'accept-encoding');
    assert.equal(res.headers['cache-control'], 'public, max-age=86400');
    assert.match(String(res.headers.etag), /^"[0-9a-f]{32}-gzip"$/);
    assert.equal(Number(res.headers['content-length']), res.body.length);
    assert.ok(res.body.length < 2_000_000, `gzip is ${res.body.length} bytes`);
    sameSet(parseMnistPack(gunzipSync(res.body)), set);
  });

  test('sends the raw pack without gzip in accept-encoding', async () => {
    for (const headers of [{}, { 'accept-encoding': 'identity' }, { 'accept-encoding': 'gzip;q=0, br' }] as Record<string, string>[]) {
      const res = await get(`${t.url}/data/mnist.bin`, headers);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-encoding'], undefined);
      assert.match(String(res.headers.etag), /^"[0-9a-f]{32}"$/);
      assert.equal(res.body.length, 16 + 10_000 + 10_000 * 784);
      sameSet(parseMnistPack(res.body), set);
    }
  });

  test('answers If-None-Match with 304, for either encoding', async () => {
    const raw = await get(`${t.url}/data/mnist.bin`, { 'accept-encoding': 'identity' });
    const zipped = await get(`${t.url}/data/mnist.bin`, { 'accept-encoding': 'gzip' });
    for (const [tag, encoding] of [
      [raw.headers.etag, 'identity'],
      [zipped.headers.etag, 'gzip'],
      [`W/${zipped.headers.etag}`, 'gzip'],
      [`"nope", ${raw.headers.etag}`, 'gzip'],
    ] as const) {
      const res = await get(`${t.url}/data/mnist.bin`, { 'if-none-match': String(tag), 'accept-encoding': encoding });
      assert.equal(res.status, 304, `If-None-Match: ${tag}`);
      assert.equal(res.body.length, 0);
      assert.equal(res.headers.etag, encoding === 'gzip' ? zipped.headers.etag : raw.headers.etag);
    }
    const stale = await get(`${t.url}/data/mnist.bin`, { 'if-none-match': '"0000"' });
    assert.equal(stale.status, 200);
  });

  test('HEAD sends headers only; other methods are refused', async () => {
    const head = await get(`${t.url}/data/mnist.bin`, { 'accept-encoding': 'gzip' }, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-encoding'], 'gzip');
    assert.ok(Number(head.headers['content-length']) > 1_000_000);
    assert.equal(head.body.length, 0);
    const post = await get(`${t.url}/data/mnist.bin`, {}, 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    assert.equal((await get(`${t.url}/data/other.bin`)).status, 404);
  });

  test('fetchMnist (the browser loader) gets the same set through fetch', async () => {
    const fetched = await fetchMnist(t.url);
    sameSet(fetched, set);
    assert.equal(registeredMnist(), fetched);
    assert.equal(await fetchMnist(t.url), fetched);
  });
});
