import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  SECAGG_BOUND,
  SECAGG_EXTRAS,
  addInto,
  applyMasks,
  contributionVector,
  decodeFixed,
  encodeFixed,
  expandMask,
  readSum,
  scaleBitsFor,
  subtractInto,
} from '../../workers/ml/secagg';
import { deriveSeed, generateRoundKeys, sealedShareBytes } from '../../workers/secagg-keys';
import { SHARE_BYTES } from '../../workers/ml/shamir';
import { SecAggClientRound, type SecAggContribution } from '../../workers/secagg-session';
import { SecAggRound, unmask } from '../../server/training/secagg';
import { Coordinator, type Decision } from '../../server/training/coordinator';
import { DEFAULT_SPEC, validateSpec, type ModelSpec, type SecAggRevealRequestMessage, type SecAggRosterMessage } from '../../server/protocol';
import { correlation } from '../helpers/stats';

/** mulberry32: reproducible test data. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomDelta(n: number, random: () => number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale);
}

/** Client ids sort like the room's (`<memberId>:<socketId>`). */
const ids = (n: number) => Array.from({ length: n }, (_, i) => `m${String.fromCharCode(97 + i)}:sock${i}`);

/** n clients of one round: real ECDH keys, masked for a roster of all of them (vectors and sealed shares). */
async function maskedRound(contributions: SecAggContribution[], at = { runId: 'run', round: 1, session: '1.1' }) {
  const clientIds = ids(contributions.length);
  const clients = await Promise.all(contributions.map((c, i) => SecAggClientRound.start({ ...at, self: clientIds[i]! }, c)));
  const total = contributions.reduce((s, c) => s + c.samples, 0);
  const scaleBits = scaleBitsFor(total, contributions.length);
  const roster: SecAggRosterMessage = { type: 'secagg_roster', ...at, scaleBits, members: clients.map((c, i) => ({ clientId: clientIds[i]!, publicKey: c.publicKey })), deadlineMs: 1000 };
  const sent = await Promise.all(clients.map((c) => c.mask(roster)));
  const masked = sent.map((m) => new Uint32Array(m.masked.slice().buffer));
  return { clientIds, clients, roster, masked, shares: sent.map((m) => m.shares), scaleBits, total };
}

/** The reveal request the server sends survivor `id`. */
function revealRequest(server: SecAggRound, id: string, at = { runId: 'run', round: 1, session: '1.1' }): SecAggRevealRequestMessage {
  return { type: 'secagg_reveal_request', ...at, survivors: server.survivors, dropped: [...server.dropped], shares: server.sharesFor(id), deadlineMs: 1000 };
}

/** A whole attempt through the server round: keys, masked vectors of `delivering`, reveals, then the opened sum. */
async function serverRound(contributions: SecAggContribution[], delivering: number[]) {
  const round = await maskedRound(contributions);
  const { clients, clientIds, masked, shares } = round;
  const server = new SecAggRound('1.1', clientIds, masked[0]!.length - SECAGG_EXTRAS);
  for (const [i, c] of clients.entries()) assert.equal(server.addKey(clientIds[i]!, c.publicKey, contributions[i]!.samples), null);
  server.closeKeys();
  for (const i of delivering) assert.equal(server.addMasked(clientIds[i]!, contributions[i]!.samples, masked[i]!, shares[i]!), null);
  assert.equal(server.closeMasking(), 'revealing');
  for (const i of delivering) {
    const { seeds, shares: revealed } = await clients[i]!.reveal(revealRequest(server, clientIds[i]!));
    assert.equal(server.addReveal(clientIds[i]!, seeds, revealed), null);
  }
  assert.ok(server.revealsComplete());
  return { ...round, server, opened: await unmask(server.unmaskJob()) };
}

describe('secure aggregation: fixed point modulo 2^32', () => {
  test('a value round-trips within half a step (2^-f / 2) for every scale', () => {
    const random = rng(1);
    for (const bits of [-3, 0, 4, 10, 16, 20]) {
      const values = randomDelta(2000, random, SECAGG_BOUND);
      const decoded = decodeFixed(encodeFixed(values, 1, bits), bits);
      const step = 2 ** -bits;
      for (let i = 0; i < values.length; i++) assert.ok(Math.abs(decoded[i]! - values[i]!) <= step / 2, `f=${bits}: ${values[i]} → ${decoded[i]}`);
    }
  });

  test('values beyond the bound are clamped to it, non-finite ones count as 0', () => {
    const bits = 8;
    const decoded = decodeFixed(encodeFixed([5000, -5000, Number.NaN, Number.POSITIVE_INFINITY], 1, bits), bits);
    assert.deepEqual([...decoded], [SECAGG_BOUND, -SECAGG_BOUND, 0, 0]);
  });

  test('the scale is the largest power of two for which samples × bound × 2^f + clients stays below 2^31', () => {
    for (const [samples, clients] of [[1, 1], [600, 3], [19_000, 10], [69_000, 10], [24_000_000, 1000], [2 ** 21, 2]] as const) {
      const f = scaleBitsFor(samples, clients);
      assert.ok(samples * SECAGG_BOUND * 2 ** f + clients <= 2 ** 31 - 1, `${samples}, ${clients}: f=${f} fits`);
      assert.ok(samples * SECAGG_BOUND * 2 ** (f + 1) + clients > 2 ** 31 - 1, `${samples}, ${clients}: f=${f} is the largest`);
    }
  });

  test('the worst case cannot overflow: every client at ±bound with all the round\'s samples sums exactly', () => {
    const samples = [19_000, 5000, 1, 777];
    const total = samples.reduce((a, b) => a + b, 0);
    const f = scaleBitsFor(total, samples.length);
    for (const sign of [1, -1]) {
      const sum = new Uint32Array(1);
      for (const n of samples) addInto(sum, encodeFixed([sign * SECAGG_BOUND], n, f));
      assert.equal(decodeFixed(sum, f)[0], sign * SECAGG_BOUND * total, 'no wrap-around');
      // One more sample's worth would not fit for some scale one step finer.
      const finer = new Uint32Array(1);
      for (const n of samples) addInto(finer, encodeFixed([sign * SECAGG_BOUND], n, f + 2));
      assert.notEqual(decodeFixed(finer, f + 2)[0], sign * SECAGG_BOUND * total, 'a finer scale would wrap (the bound is tight)');
    }
  });
});

describe('secure aggregation: pairwise masks', () => {
  test('both peers derive the same seed from ECDH + HKDF, bound to run, round, session and pair', async () => {
    const [a, b, c] = await Promise.all([generateRoundKeys(), generateRoundKeys(), generateRoundKeys()]);
    const at = { runId: 'r', round: 3, session: '3.1' };
    const ab = await deriveSeed(a.privateKey, b.publicKey, { ...at, self: 'a', peer: 'b' });
    const ba = await deriveSeed(b.privateKey, a.publicKey, { ...at, self: 'b', peer: 'a' });
    assert.deepEqual(ab, ba);
    assert.equal(ab.byteLength, 32);
    assert.notDeepEqual(await deriveSeed(a.privateKey, c.publicKey, { ...at, self: 'a', peer: 'c' }), ab, 'another pair, another seed');
    assert.notDeepEqual(await deriveSeed(a.privateKey, b.publicKey, { ...at, round: 4, self: 'a', peer: 'b' }), ab, 'another round, another seed');
    assert.notDeepEqual(await deriveSeed(a.privateKey, b.publicKey, { ...at, session: '3.2', self: 'a', peer: 'b' }), ab, 'another attempt, another seed');
    await assert.rejects(deriveSeed(a.privateKey, new Uint8Array(65), { ...at, self: 'a', peer: 'b' }), 'a point not on the curve is refused');
  });

  test('a seed expands deterministically to a uniform-looking mask', async () => {
    const seed = new Uint8Array(32).fill(7);
    const m1 = await expandMask(seed, 100_000);
    assert.deepEqual(m1, await expandMask(seed, 100_000));
    const mean = m1.reduce((s, v) => s + v / 2 ** 32, 0) / m1.length;
    assert.ok(Math.abs(mean - 0.5) < 0.005, `mean ${mean}`);
    assert.notDeepEqual((await expandMask(new Uint8Array(32).fill(8), 10)), m1.subarray(0, 10));
  });

  for (const n of [2, 3, 5]) {
    test(`pairwise masks of ${n} clients cancel exactly: the masked sum equals the plain fixed-point sum bit for bit`, async () => {
      const random = rng(n);
      const at = { runId: 'r', round: 1, session: '1.1' };
      const clientIds = ids(n);
      const keys = await Promise.all(clientIds.map(() => generateRoundKeys()));
      const vectors = clientIds.map(() => encodeFixed(randomDelta(257, random), 3, 12));
      const sum = new Uint32Array(257);
      const plain = new Uint32Array(257);
      for (const [i, self] of clientIds.entries()) {
        addInto(plain, vectors[i]!);
        const seeds = new Map<string, Uint8Array>();
        for (const [j, peer] of clientIds.entries()) if (j !== i) seeds.set(peer, await deriveSeed(keys[i]!.privateKey, keys[j]!.publicKey, { ...at, self, peer }));
        addInto(sum, await applyMasks(vectors[i]!.slice(), self, seeds));
      }
      assert.deepEqual(sum, plain);
    });
  }

  for (const n of [2, 3, 5, 8]) {
    test(`a round of ${n} clients (self-masks and pairwise masks) opens to their sample-weighted mean within the fixed-point step`, async () => {
      const random = rng(n);
      const contributions = Array.from({ length: n }, (_, i) => ({ delta: randomDelta(257, random), samples: 10 + i * 7, computeMs: 1, trainLoss: 0.3 + i / 10, trainAccuracy: 0.5 }));
      const { opened, scaleBits, total, masked } = await serverRound(contributions, contributions.map((_, i) => i));
      // Without the self-masks removed, the masked sum is noise: the self-masks do not cancel by themselves.
      const raw = new Uint32Array(masked[0]!.length);
      for (const m of masked) addInto(raw, m);
      const plain = new Uint32Array(raw.length);
      for (const c of contributions) addInto(plain, contributionVector(c.delta, c.samples, c.trainLoss, c.trainAccuracy, scaleBits));
      assert.notDeepEqual(raw, plain);
      const step = 2 ** -scaleBits;
      for (let i = 0; i < 257; i++) {
        const exact = contributions.reduce((s, c) => s + c.samples * c.delta[i]!, 0) / total;
        assert.ok(Math.abs(opened.delta[i]! - exact) <= (n * step) / 2 / total + 1e-7, `coordinate ${i}`);
      }
      const loss = contributions.reduce((s, c) => s + c.samples * c.trainLoss, 0) / total;
      assert.ok(Math.abs(opened.trainLoss! - loss) < 1e-4);
      assert.ok(Math.abs(opened.trainAccuracy! - 0.5) < 1e-4);
    });
  }

  test('one masked vector says nothing about its delta (uncorrelated, uniform)', async () => {
    const random = rng(9);
    const contributions = Array.from({ length: 3 }, () => ({ delta: randomDelta(5000, random), samples: 50, computeMs: 1, trainLoss: null, trainAccuracy: null }));
    const { masked, scaleBits } = await maskedRound(contributions);
    const asSigned = Array.from(masked[0]!.subarray(0, 5000), (v) => (v | 0) * 2 ** -scaleBits);
    assert.ok(Math.abs(correlation(asSigned, Array.from(contributions[0]!.delta))) < 0.05);
  });

  test('a client refuses a roster without its own key, and reveals per member a self-mask share or a pairwise seed, never both, once, leaving at least two updates', async () => {
    const random = rng(3);
    const contributions = Array.from({ length: 4 }, () => ({ delta: randomDelta(8, random), samples: 5, computeMs: 1, trainLoss: null, trainAccuracy: null }));
    const { clients, clientIds, roster, shares } = await maskedRound(contributions);
    const stranger = await SecAggClientRound.start({ runId: 'run', round: 1, session: '1.1', self: 'zz:0' }, contributions[0]!);
    await assert.rejects(stranger.mask(roster), /public key/);
    assert.equal(shares[0]!.length, 3, 'one sealed share per other member');
    const [a, b, c, d] = clientIds as [string, string, string, string];
    const boxFor = (from: number, to: string) => ({ clientId: clientIds[from]!, box: shares[from]!.find((s) => s.clientId === to)!.box });
    const request = (survivors: string[], dropped: string[], boxes = survivors.filter((id) => id !== a).map((id) => boxFor(clientIds.indexOf(id), a))) =>
      ({ type: 'secagg_reveal_request' as const, runId: 'run', round: 1, session: '1.1', survivors, dropped, shares: boxes, deadlineMs: 1000 });
    await assert.rejects(clients[0]!.reveal(request([b, c, d], [a])), /not reported as a survivor/);
    await assert.rejects(clients[0]!.reveal(request([a, b], [b, c, d], [])), /both surviving and dropped/);
    await assert.rejects(clients[0]!.reveal(request([a, b, c], [])), /whole roster/);
    await assert.rejects(clients[0]!.reveal(request([a], [b, c, d], [])), /sum of one/);
    await assert.rejects(clients[0]!.reveal(request([a, b, c], ['nobody'])), /not on this round's roster/);
    // A share of a member the request calls dropped is never opened: that would pair with its seed.
    await assert.rejects(clients[0]!.reveal(request([a, b, c], [d], [boxFor(1, a), boxFor(3, a)])), /only opened for another survivor/);
    const reveal = await clients[0]!.reveal(request([a, b, c], [d]));
    assert.deepEqual(reveal.seeds.map((s) => s.clientId), [d], 'a pairwise seed for the dropped member only');
    assert.deepEqual(reveal.shares.map((s) => s.clientId).sort(), [a, b, c], 'self-mask shares for the survivors, its own included');
    await assert.rejects(clients[0]!.reveal(request([a, b, c, d], [])), /already revealed/);
  });

  test('a sealed share opens only for its recipient, in its round, unaltered', async () => {
    const random = rng(4);
    const contributions = Array.from({ length: 3 }, () => ({ delta: randomDelta(8, random), samples: 5, computeMs: 1, trainLoss: null, trainAccuracy: null }));
    const { clients, clientIds, shares } = await maskedRound(contributions);
    const [a, b, c] = clientIds as [string, string, string];
    const request = (boxes: { clientId: string; box: Uint8Array }[]) => ({ type: 'secagg_reveal_request' as const, runId: 'run', round: 1, session: '1.1', survivors: [a, b, c], dropped: [], shares: boxes, deadlineMs: 1000 });
    // B's share for C relabelled as for A: A cannot open it.
    const toC = shares[1]!.find((s) => s.clientId === c)!.box;
    await assert.rejects(clients[0]!.reveal(request([{ clientId: b, box: toC }])));
    // B's share for C with one bit flipped: C refuses it (and would open the untouched one, see the round tests).
    const tampered = toC.slice();
    tampered[20]! ^= 1;
    await assert.rejects(clients[2]!.reveal(request([{ clientId: a, box: shares[0]!.find((s) => s.clientId === c)!.box }, { clientId: b, box: tampered }])));
  });
});

describe('secure aggregation: the server round', () => {
  test('a client dropped after the key exchange: survivors reveal its seeds and their self-mask shares, and the sum of the others opens exactly', async () => {
    const random = rng(11);
    const contributions = Array.from({ length: 4 }, (_, i) => ({ delta: randomDelta(64, random), samples: 20 + i, computeMs: 1, trainLoss: 0.1, trainAccuracy: null }));
    const { opened, scaleBits, server, clientIds } = await serverRound(contributions, [0, 1, 3]);
    assert.deepEqual(server.dropped, [clientIds[2]]);
    const survivors = [0, 1, 3].map((i) => contributions[i]!);
    const total = survivors.reduce((s, c) => s + c.samples, 0);
    for (let k = 0; k < 64; k++) {
      const exact = survivors.reduce((s, c) => s + c.samples * c.delta[k]!, 0) / total;
      assert.ok(Math.abs(opened.delta[k]! - exact) <= (3 * 2 ** -scaleBits) / 2 / total + 1e-7);
    }
    assert.ok(Math.abs(opened.trainLoss! - 0.1) < 1e-6);
    assert.equal(opened.trainAccuracy, null);
  });

  test('a server that lies about a dropout cannot open that client’s vector: it gets its seeds or its self-mask shares, not both', async () => {
    const random = rng(12);
    const contributions = Array.from({ length: 4 }, () => ({ delta: randomDelta(2000, random), samples: 10, computeMs: 1, trainLoss: null, trainAccuracy: null }));
    const { clients, clientIds, masked, shares, scaleBits } = await maskedRound(contributions);
    const [a, b, c, d] = clientIds as [string, string, string, string];
    const boxFor = (from: number, to: string) => ({ clientId: clientIds[from]!, box: shares[from]!.find((s) => s.clientId === to)!.box });
    // All four delivered. The server tells B and C that A dropped (to get their seeds with A) and D that A survived (to get D's share of A's self-mask).
    const request = (survivors: string[], dropped: string[], to: number) => ({
      type: 'secagg_reveal_request' as const, runId: 'run', round: 1, session: '1.1', survivors, dropped,
      shares: survivors.filter((id) => id !== clientIds[to]).map((id) => boxFor(clientIds.indexOf(id), clientIds[to]!)), deadlineMs: 1000,
    });
    const fromB = await clients[1]!.reveal(request([b, c, d], [a], 1));
    const fromC = await clients[2]!.reveal(request([b, c, d], [a], 2));
    const fromD = await clients[3]!.reveal(request([a, b, c, d], [], 3));
    assert.ok(!fromB.shares.some((s) => s.clientId === a) && !fromC.shares.some((s) => s.clientId === a), 'who reveals a seed with A gives no share of A');
    assert.ok(fromD.seeds.length === 0, 'who holds A as a survivor gives no seed with A');
    // The server's best try: remove from A's vector the pairwise masks it has (B, C), while D's mask and A's self-mask remain (one share of t = 3 is not enough).
    const attempt = masked[0]!.slice();
    for (const r of [fromB, fromC]) {
      const seed = r.seeds.find((s) => s.clientId === a)!.seed;
      const mask = await expandMask(seed, attempt.length);
      for (let i = 0; i < attempt.length; i++) attempt[i] = (attempt[i]! - mask[i]!) >>> 0; // A sorts first: it added these masks
    }
    const read = Array.from(attempt.subarray(0, 2000), (v) => (v | 0) * 2 ** -scaleBits);
    assert.ok(Math.abs(correlation(read, Array.from(contributions[0]!.delta))) < 0.1, 'A’s vector stays unreadable');
  });

  test('the strongest lie, "A dropped" told to everyone else, gets every pairwise seed of A, yet A’s own self-mask still hides its vector', async () => {
    const random = rng(13);
    const contributions = Array.from({ length: 4 }, () => ({ delta: randomDelta(2000, random), samples: 10, computeMs: 1, trainLoss: null, trainAccuracy: null }));
    const { clients, clientIds, masked, shares, scaleBits } = await maskedRound(contributions);
    const [a, b, c, d] = clientIds as [string, string, string, string];
    const boxFor = (from: number, to: string) => ({ clientId: clientIds[from]!, box: shares[from]!.find((s) => s.clientId === to)!.box });
    const toOthers = (to: number) => ({
      type: 'secagg_reveal_request' as const, runId: 'run', round: 1, session: '1.1', survivors: [b, c, d], dropped: [a],
      shares: [b, c, d].filter((id) => id !== clientIds[to]).map((id) => boxFor(clientIds.indexOf(id), clientIds[to]!)), deadlineMs: 1000,
    });
    const reveals = [await clients[1]!.reveal(toOthers(1)), await clients[2]!.reveal(toOthers(2)), await clients[3]!.reveal(toOthers(3))];
    assert.ok(reveals.every((r) => !r.shares.some((s) => s.clientId === a)), 'no share of A’s self-mask comes with its seeds');
    // Remove every pairwise mask of A: what is left is A's contribution plus its self-mask only.
    const attempt = masked[0]!.slice();
    for (const r of reveals) subtractInto(attempt, await expandMask(r.seeds.find((s) => s.clientId === a)!.seed, attempt.length));
    const plain = contributionVector(contributions[0]!.delta, 10, null, null, scaleBits);
    const differing = attempt.filter((v, i) => v !== plain[i]).length;
    assert.ok(differing > 0.99 * attempt.length, `the self-mask still covers A’s values (${differing} of ${attempt.length} differ)`);
    const read = Array.from(attempt.subarray(0, 2000), (v) => (v | 0) * 2 ** -scaleBits);
    assert.ok(Math.abs(correlation(read, Array.from(contributions[0]!.delta))) < 0.1, 'A’s vector stays unreadable');
  });

  test('refuses keys of strangers, twice, or malformed; masked vectors off the roster, of the wrong length or sample count, or without a sealed share for each other member', async () => {
    const server = new SecAggRound('1.1', ['a', 'b'], 4);
    const key = (await generateRoundKeys()).publicKey;
    assert.match(server.addKey('x', key, 3) ?? '', /not a participant/);
    assert.match(server.addKey('a', new Uint8Array(65), 3) ?? '', /P-256/);
    assert.equal(server.addKey('a', key, 3), null);
    assert.match(server.addKey('a', key, 3) ?? '', /already/);
    assert.match(server.addKey('b', key, 3) ?? '', /already taken/);
    assert.equal(server.addKey('b', (await generateRoundKeys()).publicKey, 4), null);
    server.closeKeys();
    const box = { clientId: 'b', box: new Uint8Array(sealedShareBytes(SHARE_BYTES)) };
    assert.match(server.addMasked('a', 4, new Uint32Array(8), [box]) ?? '', /declared 3/);
    assert.match(server.addMasked('a', 3, new Uint32Array(5), [box]) ?? '', /Expected 8/);
    assert.match(server.addMasked('a', 3, new Uint32Array(8), []) ?? '', /each of the 1 other/);
    assert.match(server.addMasked('a', 3, new Uint32Array(8), [{ clientId: 'a', box: box.box }]) ?? '', /other roster members/);
    assert.match(server.addMasked('a', 3, new Uint32Array(8), [{ clientId: 'b', box: new Uint8Array(10) }]) ?? '', /bytes/);
    assert.equal(server.addMasked('a', 3, new Uint32Array(8), [box]), null);
    assert.match(server.addMasked('a', 3, new Uint32Array(8), [box]) ?? '', /already summed/);
  });
});

describe('secure aggregation: the coordinator', () => {
  const only = <T extends Decision['type']>(ds: Decision[], type: T) => {
    const found = ds.filter((d) => d.type === type);
    assert.equal(found.length, 1, `one ${type} in ${ds.map((d) => d.type).join(',')}`);
    return found[0] as Extract<Decision, { type: T }>;
  };
  const key = async () => (await generateRoundKeys()).publicKey;
  /** Sealed-share placeholders for every other member (the coordinator relays them unopened). */
  const boxes = (clients: string[], self: string) => clients.filter((id) => id !== self).map((clientId) => ({ clientId, box: new Uint8Array(sealedShareBytes(SHARE_BYTES)) }));
  /** A reveal's self-mask shares: one (valid, zero) share per survivor. */
  const zeroShares = (survivors: string[]) => survivors.map((clientId) => ({ clientId, share: new Uint8Array(SHARE_BYTES) }));
  function started(n: number) {
    const c = new Coordinator({ runId: 'r', totalRounds: 2, paramCount: 3, lastRound: 0, minClients: 2, secureAggregation: true });
    for (const id of ids(n)) c.handle({ type: 'client_available', clientId: id });
    const start = only(c.start(), 'start_round');
    assert.ok(start.session);
    return { c, session: start.session, clients: start.participants };
  }

  test('keys → roster → masked vectors → unmask → close_round, marked complete', async () => {
    const { c, session, clients } = started(3);
    let ds: Decision[] = [];
    for (const id of clients) ds = c.handle({ type: 'secagg_key', clientId: id, round: 1, session, publicKey: await key(), samples: 4 });
    const roster = only(ds, 'secagg_roster');
    assert.deepEqual(roster.members.map((m) => m.clientId), clients);
    assert.equal(c.snapshot().secureAggregation?.phase, 'masking');
    const plain = c.handle({ type: 'update', clientId: clients[0]!, round: 1, samples: 4, computeMs: 1, trainLoss: null, delta: new Float32Array(3) });
    assert.equal(only(plain, 'reject_update').code, 'bad_update', 'no update in the clear');
    for (const id of clients) ds = c.handle({ type: 'secagg_masked', clientId: id, round: 1, session, samples: 4, computeMs: 1, masked: new Uint32Array(3 + SECAGG_EXTRAS), shares: boxes(clients, id) });
    // Every survivor is asked to reveal (self-mask shares), each getting the boxes the others sealed for it.
    const request = only(ds, 'secagg_reveal_request');
    assert.deepEqual(request.dropped, []);
    assert.deepEqual(request.survivors, clients);
    for (const id of clients) assert.deepEqual(request.sharesFor.get(id)!.map((b) => b.clientId), clients.filter((other) => other !== id));
    assert.equal(c.snapshot().secureAggregation?.phase, 'revealing');
    for (const id of clients) ds = c.handle({ type: 'secagg_reveal', clientId: id, round: 1, session, seeds: [], shares: zeroShares(clients) });
    const job = only(ds, 'secagg_unmask');
    assert.equal(job.job.dangling.length, 0);
    assert.equal(job.job.threshold, 2);
    assert.deepEqual(job.job.selfMasks.map((m) => [m.clientId, m.shares.length]), clients.map((id) => [id, 3]));
    const close = only(c.handle({ type: 'secagg_unmasked', round: 1, session, delta: new Float32Array([1, 2, 3]), trainLoss: null, trainAccuracy: null }), 'close_round');
    assert.deepEqual(close.secureAggregation, { summed: 3, dropped: 0, outcome: 'complete', trainLoss: null, trainAccuracy: null });
    assert.equal(close.aggregate.count, 1);
    assert.equal(close.tally.accepted, 3);
  });

  test('a client leaving after the roster: survivors are asked for its seeds only, and the round is marked recovered', async () => {
    const { c, session, clients } = started(3);
    let ds: Decision[] = [];
    for (const id of clients) ds = c.handle({ type: 'secagg_key', clientId: id, round: 1, session, publicKey: await key(), samples: 4 });
    only(ds, 'secagg_roster');
    c.handle({ type: 'secagg_masked', clientId: clients[0]!, round: 1, session, samples: 4, computeMs: 1, masked: new Uint32Array(7), shares: boxes(clients, clients[0]!) });
    c.handle({ type: 'secagg_masked', clientId: clients[2]!, round: 1, session, samples: 4, computeMs: 1, masked: new Uint32Array(7), shares: boxes(clients, clients[2]!) });
    const request = only(c.handle({ type: 'client_gone', clientId: clients[1]! }), 'secagg_reveal_request');
    assert.deepEqual(request.dropped, [clients[1]]);
    const survivors = [clients[0]!, clients[2]!];
    assert.deepEqual(request.survivors, survivors);
    assert.deepEqual(request.sharesFor.get(clients[0]!)!.map((b) => b.clientId), [clients[2]], 'only survivors’ boxes are relayed');
    const seeds = [{ clientId: clients[1]!, seed: new Uint8Array(32) }];
    const refused = c.handle({ type: 'secagg_reveal', clientId: clients[0]!, round: 1, session, seeds, shares: zeroShares(clients) });
    assert.match(only(refused, 'reject_update').message, /only for survivors/, 'no share of the dropped client is taken');
    c.handle({ type: 'secagg_reveal', clientId: clients[0]!, round: 1, session, seeds, shares: zeroShares(survivors) });
    const job = only(c.handle({ type: 'secagg_reveal', clientId: clients[2]!, round: 1, session, seeds, shares: zeroShares(survivors) }), 'secagg_unmask');
    assert.equal(job.job.dangling.length, 2);
    const close = only(c.handle({ type: 'secagg_unmasked', round: 1, session, delta: new Float32Array(3), trainLoss: null, trainAccuracy: null }), 'close_round');
    assert.equal(close.secureAggregation?.outcome, 'recovered');
    assert.equal(close.secureAggregation?.dropped, 1);
    assert.deepEqual(close.fates.find((f) => f.clientId === clients[1])?.status, 'dropped');
  });

  test('a survivor leaving before it reveals: the sum cannot be opened and the round runs again, saying why', async () => {
    const { c, session, clients } = started(3);
    for (const id of clients) c.handle({ type: 'secagg_key', clientId: id, round: 1, session, publicKey: await key(), samples: 4 });
    c.handle({ type: 'secagg_masked', clientId: clients[0]!, round: 1, session, samples: 4, computeMs: 1, masked: new Uint32Array(7), shares: boxes(clients, clients[0]!) });
    c.handle({ type: 'secagg_masked', clientId: clients[1]!, round: 1, session, samples: 4, computeMs: 1, masked: new Uint32Array(7), shares: boxes(clients, clients[1]!) });
    only(c.handle({ type: 'secagg_timeout', round: 1, session, step: 'masking' }), 'secagg_reveal_request');
    const again = only(c.handle({ type: 'client_gone', clientId: clients[0]! }), 'start_round');
    assert.equal(again.round, 1);
    assert.notEqual(again.session, session, 'a new attempt has a new session');
    assert.deepEqual(c.snapshot().secureAggregation?.lastRedo, { round: 1, reason: 'reveal_missing' });
    const stale = c.handle({ type: 'secagg_key', clientId: clients[1]!, round: 1, session, publicKey: await key(), samples: 4 });
    assert.equal(only(stale, 'reject_update').code, 'stale_update', 'the old attempt is closed');
  });

  test('fewer masked vectors than the share threshold (a majority of the roster): the round runs again (too_few_masked)', async () => {
    const { c, session, clients } = started(5);
    for (const id of clients) c.handle({ type: 'secagg_key', clientId: id, round: 1, session, publicKey: await key(), samples: 4 });
    for (const id of clients.slice(0, 2)) c.handle({ type: 'secagg_masked', clientId: id, round: 1, session, samples: 4, computeMs: 1, masked: new Uint32Array(7), shares: boxes(clients, id) });
    only(c.handle({ type: 'secagg_timeout', round: 1, session, step: 'masking' }), 'start_round');
    assert.deepEqual(c.snapshot().secureAggregation?.lastRedo, { round: 1, reason: 'too_few_masked' });
  });

  test('revealed shares that rebuild no seed: the round runs again (unmask_failed)', async () => {
    const { c, session, clients } = started(2);
    let ds: Decision[] = [];
    for (const id of clients) c.handle({ type: 'secagg_key', clientId: id, round: 1, session, publicKey: await key(), samples: 4 });
    for (const id of clients) c.handle({ type: 'secagg_masked', clientId: id, round: 1, session, samples: 4, computeMs: 1, masked: new Uint32Array(7), shares: boxes(clients, id) });
    for (const id of clients) ds = c.handle({ type: 'secagg_reveal', clientId: id, round: 1, session, seeds: [], shares: zeroShares(clients) });
    only(ds, 'secagg_unmask');
    only(c.handle({ type: 'secagg_unmask_failed', round: 1, session }), 'start_round');
    assert.deepEqual(c.snapshot().secureAggregation?.lastRedo, { round: 1, reason: 'unmask_failed' });
  });

  test('fewer than two keys at the deadline: the round runs again (too_few_keys)', async () => {
    const { c, session, clients } = started(2);
    c.handle({ type: 'secagg_key', clientId: clients[0]!, round: 1, session, publicKey: await key(), samples: 4 });
    only(c.handle({ type: 'deadline', round: 1 }), 'start_round');
    assert.equal(c.snapshot().secureAggregation?.lastRedo?.reason, 'too_few_keys');
  });
});

describe('secure aggregation: the spec', () => {
  const withSecAgg = (patch: (s: ModelSpec) => void) => {
    const spec = structuredClone(DEFAULT_SPEC);
    spec.privacy.secureAggregation = 'on';
    spec.sampling.minClients = 2;
    patch(spec);
    return validateSpec(spec);
  };
  test('is accepted with the mean, float32, no server clipping and at least two clients, with or without DP', () => {
    assert.ok(withSecAgg(() => undefined).ok);
    assert.ok(withSecAgg((s) => (s.privacy.differentialPrivacy = 'on')).ok);
  });
  for (const [what, patch, path] of [
    ['the median', (s: ModelSpec) => (s.strategy.aggregator = 'median'), 'strategy.aggregator'],
    ['the trimmed mean', (s: ModelSpec) => (s.strategy.aggregator = 'trimmed_mean'), 'strategy.aggregator'],
    ['server-side norm clipping', (s: ModelSpec) => (s.strategy.clipNorm = 5), 'strategy.clipNorm'],
    ['int8 updates', (s: ModelSpec) => (s.encoding = 'int8'), 'encoding'],
    ['float16 updates', (s: ModelSpec) => (s.encoding = 'float16'), 'encoding'],
    ['a single client per round', (s: ModelSpec) => (s.sampling.minClients = 1), 'sampling.minClients'],
    ['DP noise beyond the fixed-point range', (s: ModelSpec) => Object.assign(s.privacy, { differentialPrivacy: 'on', clipNorm: 50, noiseMultiplier: 5 }), 'privacy.noiseMultiplier'],
    ['more peers than masks a client can expand', (s: ModelSpec) => (s.layers = [{ id: 'big', type: 'dense', units: 1024, activation: 'relu' }, { id: 'b2', type: 'dense', units: 512, activation: 'relu' }]), 'sampling.maxClients'],
  ] as const) {
    test(`refuses ${what}, on the field to change, with a reason`, () => {
      const checked = withSecAgg(patch);
      assert.ok(!checked.ok);
      const problem = checked.problems.find((p) => p.path === path);
      assert.ok(problem, `a problem on ${path}: ${JSON.stringify(checked.problems)}`);
      assert.match(problem.message, /secure aggregation/i);
    });
  }
});

