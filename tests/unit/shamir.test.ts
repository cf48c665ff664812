import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FIELD, combineShares, shareFromBytes, shareThreshold, shareToBytes, splitSecret } from '../../workers/ml/shamir';

const secret = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);

/** A seeded source of 32-bit words (xorshift), so failures reproduce. */
function seeded(seed: number) {
  let s = seed >>> 0 || 1;
  return (n: number) =>
    Uint32Array.from({ length: n }, () => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return s >>> 0;
    });
}

describe('Shamir secret sharing over GF(65537)', () => {
  test('any t of n shares rebuild the secret, in any order', () => {
    for (const [t, n] of [[2, 2], [2, 3], [3, 5], [6, 10]] as const) {
      const holders = Array.from({ length: n }, (_, i) => i + 1);
      const shares = splitSecret(secret, t, holders);
      for (let start = 0; start + t <= n; start++) {
        assert.deepEqual(combineShares(shares.slice(start, start + t), t), secret, `t=${t} n=${n} from ${start}`);
        assert.deepEqual(combineShares(shares.slice(start, start + t).reverse(), t), secret);
      }
    }
  });

  test('large holder points (up to 65536) work', () => {
    const shares = splitSecret(secret, 3, [65536, 40000, 7]);
    assert.deepEqual(combineShares(shares, 3), secret);
  });

  test('fewer than t shares say nothing: for a fixed share, every candidate secret word is equally consistent', () => {
    // With t = 2 one share y = s + a·x is uniform whatever s is: over many splits of two different
    // secrets, the first word of the share at x = 1 spreads over the field alike.
    const other = new Uint8Array(32);
    const buckets = (s: Uint8Array, seed: number) => {
      const counts = new Array(8).fill(0);
      const random = seeded(seed);
      for (let k = 0; k < 4000; k++) counts[Math.floor((splitSecret(s, 2, [1, 2], random)[0]!.y[0]! / FIELD) * 8)] += 1;
      return counts;
    };
    for (const counts of [buckets(secret, 7), buckets(other, 9)]) for (const c of counts) assert.ok(c > 400 && c < 600, `bucket ${c} of 4000/8`);
  });

  test('t − 1 shares rebuild something else (wrong threshold given); tampered shares do not rebuild the secret', () => {
    const shares = splitSecret(secret, 3, [1, 2, 3, 4]);
    assert.throws(() => combineShares(shares.slice(0, 2), 3), /3 shares are needed/);
    let rebuilt: Uint8Array | null = null;
    try {
      rebuilt = combineShares(shares.slice(0, 2), 2);
    } catch {
      rebuilt = null;
    }
    assert.notDeepEqual(rebuilt, secret);
    const tampered = shares.map((s) => ({ x: s.x, y: s.y.slice() }));
    tampered[0]!.y[0] = (tampered[0]!.y[0]! + 1) % FIELD;
    let wrong: Uint8Array | null = null;
    try {
      wrong = combineShares(tampered, 3);
    } catch {
      wrong = null;
    }
    assert.notDeepEqual(wrong, secret);
  });

  test('refuses bad parameters and malformed shares', () => {
    assert.throws(() => splitSecret(secret.slice(1), 2, [1, 2]), /32 bytes/);
    assert.throws(() => splitSecret(secret, 3, [1, 2]), /threshold/);
    assert.throws(() => splitSecret(secret, 2, [1, 1]), /distinct/);
    assert.throws(() => splitSecret(secret, 2, [0, 1]), /distinct/);
    const shares = splitSecret(secret, 2, [1, 2]);
    assert.throws(() => combineShares([shares[0]!, { x: 1, y: shares[1]!.y }], 2), /same point/);
    assert.throws(() => combineShares([shares[0]!, { x: 2, y: new Uint32Array(3) }], 2), /16 field elements/);
  });

  test('shares travel as 64 bytes and come back; out-of-field values are refused', () => {
    const [share] = splitSecret(secret, 2, [5, 6]);
    const bytes = shareToBytes(share!.y);
    assert.equal(bytes.byteLength, 64);
    assert.deepEqual(shareFromBytes(bytes), share!.y);
    assert.equal(shareFromBytes(bytes.slice(1)), null);
    const bad = bytes.slice();
    new DataView(bad.buffer).setUint32(0, FIELD, true);
    assert.equal(shareFromBytes(bad), null);
  });

  test('threshold: a strict majority of the roster, at least 2', () => {
    assert.deepEqual([2, 3, 4, 5, 10, 11].map(shareThreshold), [2, 2, 3, 3, 6, 6]);
  });
});
