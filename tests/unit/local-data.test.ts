import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_SPEC, type ModelSpec } from '../../server/protocol/spec';
import { ensureMnistRegistered } from '../../server/data/mnist';
import type { MnistSet } from '../../workers/ml/mnist';
import { datasetSplit } from '../../workers/ml/datasets';
import { partitionIndices } from '../../workers/ml/partition';
import { initialWeights, type TF } from '../../workers/ml/model';
import { loadNodeTf } from '../../workers/ml/node-tf';
import { disposeTrainer, trainRound } from '../../workers/ml/train';
import {
  DIGIT_PIXELS,
  EMPTY_PRIVATE_DATA,
  MAX_CSV_BYTES,
  concatRows,
  digitRows,
  downsampleDigit,
  labelCounts,
  localTrainData,
  makePoint,
  parseDigitsCsv,
  parsePointsCsv,
  parsePrivateData,
  pointRows,
  rowsKey,
  serializePrivateData,
  shardLabelCounts,
  withLocalData,
  type PrivateData,
} from '../../workers/ml/local-data';

describe('points CSV', () => {
  it('reads x,y,label rows with a header, CRLF line ends, quotes and blank lines', () => {
    const text = 'x,y,label\r\n1.5,-2,1\r\n\r\n"0.25", 3e-1 ,0\r\n';
    const result = parsePointsCsv(text, 'spiral');
    assert.equal(result.header, true);
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.samples, [
      { x: 1.5, y: -2, label: 1 },
      { x: 0.25, y: 0.3, label: 0 },
    ]);
  });

  it('reads a file without a header', () => {
    const result = parsePointsCsv('1,2,0\n3,4,1', 'xor');
    assert.equal(result.header, false);
    assert.equal(result.samples.length, 2);
  });

  it('reports every bad line with its line number and keeps the good ones', () => {
    const text = ['x,y,label', '1,2,0', '1,2', 'a,2,1', '1,2,2', '1,500,0', '', '0x10,1,1', '1,,0', '1,2,0.5', '4,4,1'].join('\n');
    const { samples, errors } = parsePointsCsv(text, 'circle');
    assert.deepEqual(samples, [
      { x: 1, y: 2, label: 0 },
      { x: 4, y: 4, label: 1 },
    ]);
    assert.deepEqual(
      errors.map((e) => [e.line, e.problem.code]),
      [
        [3, 'fields'],
        [4, 'number'],
        [5, 'label'],
        [6, 'range'],
        [8, 'number'],
        [9, 'number'],
        [10, 'label'],
      ],
    );
    assert.deepEqual(errors[0]!.problem, { code: 'fields', expected: 3, found: 2 });
  });

  it('puts the "is x > 0" task\'s points on the line (y = 0)', () => {
    assert.deepEqual(parsePointsCsv('3,7,1', 'sign').samples, [{ x: 3, y: 0, label: 1 }]);
    assert.deepEqual(makePoint('sign', -2, 5, 0), { x: -2, y: 0, label: 0 });
  });

  it('stops at the sample limit and reports the lines beyond it', () => {
    const { samples, errors } = parsePointsCsv('1,1,0\n2,2,1\n3,3,0', 'gauss', 2);
    assert.equal(samples.length, 2);
    assert.deepEqual(errors, [{ line: 3, problem: { code: 'limit', max: 2 } }]);
  });

  it('has a file size limit large enough for the digit limit', () => {
    assert.ok(MAX_CSV_BYTES >= 1000 * (DIGIT_PIXELS * 4 + 2));
  });
});

describe('digits CSV', () => {
  const row = (label: number | string, fill: (i: number) => number | string) => [label, ...Array.from({ length: DIGIT_PIXELS }, (_, i) => fill(i))].join(',');

  it('reads label plus 784 pixels, header optional', () => {
    const header = ['label', ...Array.from({ length: DIGIT_PIXELS }, (_, i) => `${Math.floor(i / 28) + 1}x${(i % 28) + 1}`)].join(',');
    const text = [header, row(7, (i) => (i === 300 ? 255 : 0)), row(0, (i) => i % 256)].join('\n');
    const { samples, errors, header: skipped } = parseDigitsCsv(text);
    assert.equal(skipped, true);
    assert.deepEqual(errors, []);
    assert.equal(samples.length, 2);
    assert.equal(samples[0]!.label, 7);
    assert.equal(samples[0]!.pixels[300], 255);
    assert.equal(samples[0]!.pixels.reduce((a, b) => a + b, 0), 255);
    assert.equal(samples[1]!.pixels[257], 1);
  });

  it('reports bad labels, pixels and widths by line', () => {
    const text = [row(3, () => 0), row(10, () => 0), row(1, (i) => (i === 5 ? 256 : 0)), '1,2,3', row(2, (i) => (i === 9 ? 'x' : 0))].join('\n');
    const { samples, errors } = parseDigitsCsv(text);
    assert.equal(samples.length, 1);
    assert.deepEqual(errors, [
      { line: 2, problem: { code: 'label', max: 9 } },
      { line: 3, problem: { code: 'range', field: 'pixel', max: 255, index: 6 } },
      { line: 4, problem: { code: 'fields', expected: 785, found: 3 } },
      { line: 5, problem: { code: 'number', field: 'pixel', index: 10 } },
    ]);
  });
});

/** A W×H ink canvas with a filled rectangle. */
function canvasWithRect(width: number, height: number, x0: number, y0: number, w: number, h: number): Uint8Array {
  const ink = new Uint8Array(width * height);
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) ink[y * width + x] = 255;
  return ink;
}

/** Bounding box and centre of mass of a 28×28 digit. */
function describeDigit(pixels: Uint8Array) {
  let x0 = 28, y0 = 28, x1 = -1, y1 = -1, mass = 0, mx = 0, my = 0;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const v = pixels[y * 28 + x]!;
      if (v === 0) continue;
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      mass += v; mx += v * x; my += v * y;
    }
  }
  return { width: x1 - x0 + 1, height: y1 - y0 + 1, cx: mx / mass, cy: my / mass, max: Math.max(...pixels) };
}

describe('digit downsampling', () => {
  it('gives null for an empty canvas', () => {
    assert.equal(downsampleDigit(new Uint8Array(280 * 280), 280, 280), null);
  });

  it('fits the ink\'s bounding box into 20×20, keeping its aspect ratio, and centres its mass', () => {
    // A tall bar in a corner of a wide canvas: 60×200 px → 6×20 cells.
    const pixels = downsampleDigit(canvasWithRect(400, 300, 10, 50, 60, 200), 400, 300)!;
    const d = describeDigit(pixels);
    assert.equal(d.height, 20);
    assert.equal(d.width, 6);
    assert.ok(Math.abs(d.cx - 14) <= 0.5 && Math.abs(d.cy - 14) <= 0.5, `centre of mass ${d.cx}, ${d.cy}`);
    assert.equal(d.max, 255);
  });

  it('scales a small mark up to the 20-pixel box and greys partly covered cells', () => {
    const pixels = downsampleDigit(canvasWithRect(100, 100, 40, 45, 7, 3), 100, 100)!;
    const d = describeDigit(pixels);
    assert.equal(d.width, 20);
    assert.ok(d.height >= 8 && d.height <= 9, `height ${d.height}`);
  });

  it('moves an off-centre mass back inside the field rather than cutting the digit', () => {
    // An L shape whose mass sits near one corner of its box: the box must still fit in 28×28.
    const ink = canvasWithRect(200, 200, 0, 0, 200, 40);
    for (let y = 0; y < 200; y++) for (let x = 0; x < 10; x++) ink[y * 200 + x] = 255;
    const d = describeDigit(downsampleDigit(ink, 200, 200)!);
    assert.equal(d.width, 20);
    assert.equal(d.height, 20);
  });

  it('reproduces real MNIST digits drawn ten times larger on a canvas', async () => {
    const set: MnistSet = await ensureMnistRegistered();
    for (let k = 0; k < 20; k++) {
      const original = set.pixels.subarray(k * DIGIT_PIXELS, (k + 1) * DIGIT_PIXELS);
      const big = new Uint8Array(280 * 280);
      for (let y = 0; y < 280; y++) for (let x = 0; x < 280; x++) big[y * 280 + x] = original[Math.floor(y / 10) * 28 + Math.floor(x / 10)]!;
      const back = downsampleDigit(big, 280, 280, 1)!;
      // MNIST's digits already fill a 20-pixel box around their centre of mass, so the round trip
      // should land close to the original (correlation of the pixel values).
      let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
      for (let i = 0; i < DIGIT_PIXELS; i++) {
        const a = original[i]!, b = back[i]!;
        sa += a; sb += b; saa += a * a; sbb += b * b; sab += a * b;
      }
      const n = DIGIT_PIXELS;
      const r = (sab - (sa * sb) / n) / Math.sqrt((saa - (sa * sa) / n) * (sbb - (sb * sb) / n));
      assert.ok(r > 0.95, `digit ${k}: correlation ${r.toFixed(3)}`);
    }
  });
});

describe('private rows', () => {
  const data: PrivateData = {
    mode: 'only',
    points: { spiral: [{ x: 1, y: 2, label: 1 }, { x: -3, y: 0.5, label: 0 }] },
    digits: [{ label: 4, pixels: new Uint8Array(DIGIT_PIXELS).fill(255) }],
  };

  it('turns points and digits into Dataset rows like the built-in ones', () => {
    assert.deepEqual(pointRows(data.points.spiral!), { x: Float32Array.from([1, 2, -3, 0.5]), y: Float32Array.from([1, 0]), dims: 2 });
    const digits = digitRows(data.digits);
    assert.equal(digits.dims, DIGIT_PIXELS);
    assert.equal(digits.x[0], 1);
    assert.deepEqual([...digits.y], [4]);
    assert.throws(() => concatRows(pointRows([]), digits), /Cannot join rows of 2 and 784/);
  });

  it('picks the rows of the task\'s dataset in the chosen mode', () => {
    const spiral = { dataset: { ...DEFAULT_SPEC.dataset, name: 'spiral' as const } };
    assert.equal(localTrainData(spiral, data, 'off'), null);
    assert.equal(localTrainData({ dataset: { ...spiral.dataset, name: 'xor' } }, data, 'only'), null, 'no points for xor');
    const only = localTrainData(spiral, data, 'only')!;
    assert.equal(only.includeShard, false);
    assert.equal(only.rows.y.length, 2);
    assert.equal(localTrainData(spiral, data, 'with-shard')!.includeShard, true);
    const mnist = localTrainData({ dataset: { ...spiral.dataset, name: 'mnist' } }, data, 'only')!;
    assert.equal(mnist.rows.dims, DIGIT_PIXELS);
  });

  it('keys rows by content', () => {
    const a = pointRows([{ x: 1, y: 2, label: 1 }]);
    assert.equal(rowsKey(a), rowsKey(pointRows([{ x: 1, y: 2, label: 1 }])));
    assert.notEqual(rowsKey(a), rowsKey(pointRows([{ x: 1, y: 2.0001, label: 1 }])));
    assert.notEqual(rowsKey(a), rowsKey(pointRows([{ x: 1, y: 2, label: 0 }])));
  });

  it('stores and reads back this browser\'s data, and refuses what does not validate', () => {
    const back = parsePrivateData(serializePrivateData(data))!;
    assert.equal(back.mode, 'only');
    assert.deepEqual(back.points, data.points);
    assert.deepEqual([...back.digits[0]!.pixels], [...data.digits[0]!.pixels]);
    assert.deepEqual(parsePrivateData(null), EMPTY_PRIVATE_DATA);
    assert.equal(parsePrivateData('{'), null);
    assert.equal(parsePrivateData(JSON.stringify({ version: 1, mode: 'only', points: { spiral: [[1, 2, 3]] }, digits: [] })), null);
    assert.equal(parsePrivateData(JSON.stringify({ version: 1, mode: 'only', points: {}, digits: [{ label: 1, pixels: 'AAAA' }] })), null);
    assert.equal(parsePrivateData(JSON.stringify({ version: 1, mode: 'share', points: {}, digits: [] })), null);
  });
});

describe('class histogram counts', () => {
  it('counts a shard of the spec\'s partition class by class', () => {
    const spec = { dataset: DEFAULT_SPEC.dataset, partition: { kind: 'classes' as const, alpha: 0.5, classesPerClient: 1 } };
    const train = datasetSplit(spec.dataset).train;
    for (let part = 0; part < 2; part++) {
      const counts = shardLabelCounts(spec, { part, parts: 2 });
      const indices = partitionIndices(train.y, 2, part, 2, spec.partition, spec.dataset.seed);
      assert.equal(counts[0]! + counts[1]!, indices.length);
      assert.equal(counts.filter((c) => c > 0).length, 1, 'one class per participant');
    }
    assert.deepEqual(labelCounts([0, 1, 1, 9], 10), [1, 2, 0, 0, 0, 0, 0, 0, 0, 1]);
  });
});

describe('training with private rows', () => {
  let tf: TF;
  const spec: ModelSpec = { ...DEFAULT_SPEC, dataset: { ...DEFAULT_SPEC.dataset, name: 'gauss', samples: 200 }, localEpochs: 2 };
  before(async () => {
    tf = await loadNodeTf('cpu');
  });
  after(() => disposeTrainer());

  it('trains on the private rows alone or with the shard, and says how many it used', async () => {
    const { manifest, weights } = initialWeights(tf, spec, 3);
    const task = { spec, manifest, weights, shard: { part: 0, parts: 4 } };
    const data: PrivateData = { mode: 'only', points: { gauss: [{ x: 2.5, y: 2.5, label: 0 }, { x: -2.5, y: -2.5, label: 1 }, { x: 3, y: 1, label: 0 }] }, digits: [] };
    const shardSize = partitionIndices(datasetSplit(spec.dataset).train.y, 2, 0, 4, spec.partition, spec.dataset.seed).length;

    const plain = await trainRound(tf, { ...task, weights: weights.slice() });
    assert.equal(plain.samples, shardSize);
    const only = await withLocalData((t) => trainRound(tf, t), (s) => localTrainData(s, data, 'only'))({ ...task, weights: weights.slice() });
    assert.equal(only.samples, 3);
    const both = await trainRound(tf, { ...task, weights: weights.slice(), local: localTrainData(spec, data, 'with-shard')! });
    assert.equal(both.samples, shardSize + 3);
    assert.ok(only.delta.some((v, i) => Math.abs(v - plain.delta[i]!) > 1e-6), 'private rows change the update');
  });

  it('refuses private rows of the wrong shape instead of training on them', async () => {
    const { manifest, weights } = initialWeights(tf, spec, 3);
    const local = { rows: digitRows([{ label: 1, pixels: new Uint8Array(DIGIT_PIXELS) }]), includeShard: true, key: 'x' };
    await assert.rejects(trainRound(tf, { spec, manifest, weights, shard: { part: 0, parts: 1 }, local }), /Cannot join rows/);
  });
});
