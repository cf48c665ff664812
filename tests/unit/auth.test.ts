import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TicketStore, TokenSigner, cookieName, hashToken, newJoinCode, newSlug, normalizeJoinCode } from '../../server/auth';

const UNAMBIGUOUS = /^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]+$/;

describe('join codes', () => {
  test('a join code has 8 characters from the unambiguous alphabet (no 0, O, 1, I or L)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const code = newJoinCode();
      assert.equal(code.length, 8);
      assert.match(code, UNAMBIGUOUS);
      for (const ch of code) seen.add(ch);
    }
    for (const ambiguous of ['0', 'O', '1', 'I', 'L']) assert.ok(!seen.has(ambiguous), ambiguous);
    // 4000 draws from 31 letters: every letter shows up (a miss has odds of ~1e-55).
    assert.equal(seen.size, 31);
  });

  test('a join code can be asked for at another length', () => {
    assert.equal(newJoinCode(4).length, 4);
    assert.match(newJoinCode(12), /^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{12}$/);
  });

  test('two join codes are (practically) never the same', () => {
    const codes = new Set(Array.from({ length: 1000 }, () => newJoinCode()));
    assert.equal(codes.size, 1000);
  });

  test('normalizeJoinCode upper-cases and drops spaces, tabs and dashes', () => {
    assert.equal(normalizeJoinCode('abcd-efgh'), 'ABCDEFGH');
    assert.equal(normalizeJoinCode(' ab cd\tef-gh \n'), 'ABCDEFGH');
    assert.equal(normalizeJoinCode('ABCD--EFGH'), 'ABCDEFGH');
    assert.equal(normalizeJoinCode(''), '');
  });

  test('a generated code survives normalization unchanged, and a typed variant of it normalizes back to it', () => {
    const code = newJoinCode();
    assert.equal(normalizeJoinCode(code), code);
    const typed = `${code.slice(0, 4).toLowerCase()} - ${code.slice(4)}`;
    assert.equal(normalizeJoinCode(typed), code);
  });
});

describe('tokens', () => {
  test('hashToken is a stable sha-256 hex digest', () => {
    assert.equal(hashToken('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(hashToken('abc'), hashToken('abc'));
    assert.match(hashToken(''), /^[0-9a-f]{64}$/);
  });

  test('hashToken differs for different tokens', () => {
    assert.notEqual(hashToken('abc'), hashToken('abd'));
  });
});

describe('signed member tokens', () => {
  const key = new Uint8Array(32).fill(7);
  const signer = () => new TokenSigner(async () => key);

  test('a token is ct1.<32 random bytes>.<16-byte tag>, and two are never equal', async () => {
    const s = signer();
    const a = await s.issue();
    const b = await s.issue();
    assert.match(a, /^ct1\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{22}$/);
    assert.equal(Buffer.from(a.split('.')[1]!, 'base64url').length, 32);
    assert.notEqual(a, b);
    assert.notEqual(hashToken(a), hashToken(b));
  });

  test('verifies its own tokens, also after a restart with the same key', async () => {
    const token = await signer().issue();
    assert.equal(await signer().verify(token), true);
  });

  test('refuses a forged tag, a changed body, another key, and junk', async () => {
    const s = signer();
    const token = await s.issue();
    const [prefix, body, tag] = token.split('.') as [string, string, string];
    const flip = (text: string) => (text[0] === 'A' ? 'B' : 'A') + text.slice(1);
    assert.equal(await s.verify(`${prefix}.${body}.${flip(tag)}`), false);
    assert.equal(await s.verify(`${prefix}.${flip(body)}.${tag}`), false);
    assert.equal(await new TokenSigner(async () => new Uint8Array(32).fill(8)).verify(token), false);
    for (const junk of ['', 'ct1', 'ct1..', body, `ct2.${body}.${tag}`, `${token}x`, `${token}.x`]) assert.equal(await s.verify(junk), false, junk);
  });

  test('a key that fails to load is retried on the next call', async () => {
    let calls = 0;
    const s = new TokenSigner(async () => {
      calls += 1;
      if (calls === 1) throw new Error('database away');
      return key;
    });
    await assert.rejects(s.issue(), /database away/);
    assert.equal(await s.verify(await s.issue()), true);
    assert.equal(calls, 2);
  });
});

describe('slugs and cookie names', () => {
  test('newSlug is the lower-cased, dashed name plus a dash and 8 hex characters', () => {
    assert.match(newSlug('My Project 2'), /^my-project-2-[0-9a-f]{8}$/);
    assert.match(newSlug('  --Hello,   World!!  '), /^hello-world-[0-9a-f]{8}$/);
  });

  test('newSlug gives different slugs for the same name', () => {
    assert.notEqual(newSlug('Same'), newSlug('Same'));
  });

  test('newSlug is only the suffix when the name has no usable characters', () => {
    assert.match(newSlug('!!! ???'), /^[0-9a-f]{8}$/);
    assert.match(newSlug(''), /^[0-9a-f]{8}$/);
  });

  test('newSlug keeps at most 32 characters of the name', () => {
    const slug = newSlug('x'.repeat(40));
    assert.match(slug, /^x{32}-[0-9a-f]{8}$/);
  });

  test('newSlug folds accented letters to their base letter', () => {
    assert.match(newSlug('Café'), /^cafe-[0-9a-f]{8}$/);
    assert.match(newSlug('Crème Brûlée'), /^creme-brulee-[0-9a-f]{8}$/);
  });

  test('newSlug never has a double dash when the 32-character cut lands on a dash', () => {
    const slug = newSlug(`${'a'.repeat(31)} bcd`);
    assert.doesNotMatch(slug, /--/);
    assert.match(slug, /^a{31}-[0-9a-f]{8}$/);
  });

  test('newSlug output only holds characters cookieName keeps', () => {
    const slug = newSlug('Ünïcödé & <script> "quotes"; a=b');
    assert.match(slug, /^[a-z0-9-]+$/);
    assert.equal(cookieName(slug), `ct_${slug}`);
  });

  test('cookieName prefixes ct_ and strips characters not allowed in a cookie name', () => {
    assert.equal(cookieName('my-proj_1'), 'ct_my-proj_1');
    assert.equal(cookieName('a;b=c d.e,f/g'), 'ct_abcdefg');
    assert.equal(cookieName('ünï'), 'ct_n');
    assert.equal(cookieName(''), 'ct_');
  });
});

describe('TicketStore', () => {
  const grant = { memberId: 'm1', projectId: 'p1', slug: 'demo-1234abcd' };

  function clock(start = 1_000_000) {
    const c = { t: start, now: () => c.t };
    return c;
  }

  test('an issued ticket checks out with its grant and an expiry ttl after now', () => {
    const c = clock();
    const store = new TicketStore(5_000, c.now);
    const { ticket, expiresAt } = store.issue(grant);
    assert.match(ticket, /^[A-Za-z0-9_-]{32}$/);
    assert.equal(expiresAt, 1_005_000);
    assert.deepEqual(store.check(ticket), { ...grant, expiresAt: 1_005_000 });
  });

  test('tickets are unique per issue and independent of each other', () => {
    const store = new TicketStore(5_000, clock().now);
    const a = store.issue(grant);
    const b = store.issue({ ...grant, memberId: 'm2' });
    assert.notEqual(a.ticket, b.ticket);
    assert.equal(store.check(a.ticket)?.memberId, 'm1');
    assert.equal(store.check(b.ticket)?.memberId, 'm2');
  });

  test('an unknown ticket checks out as null', () => {
    const store = new TicketStore(5_000, clock().now);
    assert.equal(store.check('nope'), null);
    assert.equal(store.check(''), null);
  });

  test('a ticket is valid up to and including its expiry instant, and null after it', () => {
    const c = clock();
    const store = new TicketStore(5_000, c.now);
    const { ticket } = store.issue(grant);
    c.t += 5_000;
    assert.notEqual(store.check(ticket), null);
    c.t += 1;
    assert.equal(store.check(ticket), null);
    // Once expired it stays gone, even if the clock went backwards.
    c.t -= 10_000;
    assert.equal(store.check(ticket), null);
  });

  test('checking a ticket does not consume it: it can be checked many times before expiry', () => {
    const c = clock();
    const store = new TicketStore(5_000, c.now);
    const { ticket } = store.issue(grant);
    for (let i = 0; i < 3; i++) {
      c.t += 1_000;
      assert.equal(store.check(ticket)?.projectId, 'p1');
    }
  });

  test('issuing sweeps out expired tickets so the store does not grow without bound', () => {
    const c = clock();
    const store = new TicketStore(1_000, c.now);
    for (let i = 0; i < 10; i++) store.issue(grant);
    c.t += 1_001;
    const fresh = store.issue(grant);
    const size = (store as unknown as { tickets: Map<string, unknown> }).tickets.size;
    assert.equal(size, 1);
    assert.notEqual(store.check(fresh.ticket), null);
  });

  test('the default ttl is two minutes', () => {
    const c = clock();
    const store = new TicketStore(undefined, c.now);
    assert.equal(store.issue(grant).expiresAt, c.t + 120_000);
  });
});
