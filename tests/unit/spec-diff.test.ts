import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_SPEC, LIVE_FIELDS, applyLive, specDiff, type ModelSpec } from '../../server/protocol';

const edited = (patch: Partial<ModelSpec>): ModelSpec => ({ ...DEFAULT_SPEC, ...patch });

describe('specDiff', () => {
  test('finds nothing between a spec and itself', () => {
    assert.deepEqual(specDiff(DEFAULT_SPEC, structuredClone(DEFAULT_SPEC)), []);
  });

  test('lists scalar changes readably, marking the live ones', () => {
    const after = edited({ learningRate: 0.1, localEpochs: 5, sampling: { ...DEFAULT_SPEC.sampling, minClients: 3 } });
    assert.deepEqual(specDiff(DEFAULT_SPEC, after), [
      { path: 'learningRate', before: '0.03', after: '0.1', live: true },
      { path: 'localEpochs', before: '3', after: '5', live: false },
      { path: 'sampling.minClients', before: '1', after: '3', live: true },
    ]);
  });

  test('lists feature and hidden-layer changes by position, including added and removed layers', () => {
    const after = edited({
      features: ['x1', 'x2'],
      layers: [{ id: 'l1', type: 'dense', units: 12, activation: 'relu' }, { id: 'l2', type: 'dense', units: 8, activation: 'tanh' }, { id: 'l3', type: 'dense', units: 4, activation: 'tanh' }],
    });
    assert.deepEqual(specDiff(DEFAULT_SPEC, after), [
      { path: 'features', before: 'x1, x2, x1sq, x2sq, x1x2, sin1, sin2', after: 'x1, x2', live: false },
      { path: 'layers.1', before: '12 tanh', after: '12 relu', live: false },
      { path: 'layers.3', before: '(none)', after: '4 tanh', live: false },
    ]);
    assert.deepEqual(specDiff(after, DEFAULT_SPEC).find((c) => c.path === 'layers.3'), { path: 'layers.3', before: '4 tanh', after: '(none)', live: false });
  });
});

describe('applyLive', () => {
  test('takes exactly the live fields from the current spec and keeps the rest frozen', () => {
    const current = edited({ learningRate: 0.2, roundDeadlineSec: 30, sampling: { fraction: 0.5, minClients: 2, maxClients: 9 }, localEpochs: 7, rounds: 99 });
    const next = applyLive(DEFAULT_SPEC, current);
    assert.deepEqual(new Set(specDiff(DEFAULT_SPEC, next).map((c) => c.path)), new Set(LIVE_FIELDS));
    assert.equal(next.localEpochs, DEFAULT_SPEC.localEpochs);
    assert.equal(next.rounds, DEFAULT_SPEC.rounds);
  });
});

