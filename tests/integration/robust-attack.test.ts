import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { robustRun } from '../../bench/robust';

// Attackers' absurd updates make the server log; keep the output readable.
process.env.TEST_LOG_LEVEL ??= 'error';

/**
 * Issue 6 §6: with 20 % of the clients sending sign-flipped updates scaled ×10, the trimmed mean
 * and the median stay within 2 percentage points of a clean run on the same seed, while the plain
 * mean loses far more. Real server, sockets, database and TensorFlow.js training.
 */
describe('robust aggregation under a sign-flip attack (2 of 10 clients, ×10)', () => {
  const options = { clients: 10, rounds: 10, dataset: 'circle' as const, seed: 11 };

  test('trimmed mean and median hold; the plain mean collapses', { timeout: 240_000 }, async () => {
    const clean = await robustRun('mean', 0, options);
    assert.ok(clean.accuracy >= 85, `the clean run should learn the task (got ${clean.accuracy.toFixed(1)} %)`);

    const trimmed = await robustRun('trimmed_mean', 2, options);
    const median = await robustRun('median', 2, options);
    const mean = await robustRun('mean', 2, options);

    assert.ok(clean.accuracy - trimmed.accuracy <= 2, `trimmed mean lost ${(clean.accuracy - trimmed.accuracy).toFixed(1)} points`);
    assert.ok(clean.accuracy - median.accuracy <= 2, `median lost ${(clean.accuracy - median.accuracy).toFixed(1)} points`);
    assert.ok(clean.accuracy - mean.accuracy >= 20, `the plain mean should lose far more; it lost ${(clean.accuracy - mean.accuracy).toFixed(1)} points`);
    // Every round really had all ten clients (the attack was in every aggregate).
    assert.ok(mean.history.slice(1).every((m) => m.participants === 10), 'all ten clients in every round');
  });
});
