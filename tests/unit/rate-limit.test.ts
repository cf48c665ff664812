import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { addressKey, clientAddress, FailureLimiter } from '../../server/http/rate-limit';
import { checkOrigin, contentSecurityPolicy } from '../../server/http/security';
import { AppError } from '../../server/protocol';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('failed-join limiter', () => {
  test('allows `burst` failures, then refuses with a Retry-After until one refills', () => {
    const c = clock();
    const limiter = new FailureLimiter({ burst: 10, refillMs: 60_000, now: c.now });
    for (let i = 0; i < 10; i++) {
      assert.deepEqual(limiter.check('1.2.3.4'), { allowed: true }, `attempt ${i + 1}`);
      limiter.fail('1.2.3.4');
    }
    const refused = limiter.check('1.2.3.4');
    assert.equal(refused.allowed, false);
    assert.equal(!refused.allowed && refused.retryAfterMs, 60_000);
    c.advance(30_000);
    const later = limiter.check('1.2.3.4');
    assert.equal(!later.allowed && later.retryAfterMs, 30_000);
    c.advance(30_000);
    assert.deepEqual(limiter.check('1.2.3.4'), { allowed: true });
    limiter.fail('1.2.3.4');
    assert.equal(limiter.check('1.2.3.4').allowed, false, 'one refilled token buys one more failure');
  });

  test('checking (successes, refused attempts) never takes a token', () => {
    const c = clock();
    const limiter = new FailureLimiter({ burst: 3, refillMs: 1000, now: c.now });
    for (let i = 0; i < 1000; i++) assert.equal(limiter.check('10.0.0.1').allowed, true);
    for (let i = 0; i < 3; i++) limiter.fail('10.0.0.1');
    for (let i = 0; i < 100; i++) assert.equal(limiter.check('10.0.0.1').allowed, false);
    c.advance(1000);
    assert.equal(limiter.check('10.0.0.1').allowed, true, 'refused attempts did not extend the block');
  });

  test('a different address is unaffected', () => {
    const c = clock();
    const limiter = new FailureLimiter({ burst: 2, now: c.now });
    limiter.fail('1.1.1.1');
    limiter.fail('1.1.1.1');
    assert.equal(limiter.check('1.1.1.1').allowed, false);
    assert.equal(limiter.check('2.2.2.2').allowed, true);
  });

  test('memory is bounded: refilled buckets vanish and the least recently failed are evicted', () => {
    const c = clock();
    const limiter = new FailureLimiter({ burst: 2, refillMs: 100, maxEntries: 50, now: c.now });
    for (let i = 0; i < 500; i++) limiter.fail(`10.0.${i >> 8}.${i & 255}`);
    assert.equal(limiter.size, 50);
    limiter.fail('10.0.1.243');
    limiter.fail('10.0.1.243');
    assert.equal(limiter.check('10.0.1.243').allowed, false, 'the most recent survive eviction');
    c.advance(200);
    assert.equal(limiter.size, 0, 'full buckets are dropped');
  });

  test('addresses: mapped IPv4 unwrapped, IPv6 keyed by /64, X-Forwarded-For only when trusted', () => {
    assert.equal(addressKey('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    const req = { socket: { remoteAddress: '::ffff:10.0.0.9' }, headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.7' } } as unknown as IncomingMessage;
    assert.equal(clientAddress(req, false), '10.0.0.9');
    assert.equal(clientAddress(req, true), '203.0.113.7', 'the entry our proxy appended, not the spoofable first one');
  });
});

describe('origin check and CSP', () => {
  const req = (method: string, headers: Record<string, string>) => ({ method, headers }) as unknown as IncomingMessage;

  test('foreign origins are refused on state-changing methods only', () => {
    assert.throws(() => checkOrigin(req('POST', { host: 'class.example:3000', origin: 'https://evil.example' })), (e) => e instanceof AppError && e.code === 'forbidden');
    assert.throws(() => checkOrigin(req('DELETE', { host: 'class.example', origin: 'null' })), AppError);
    checkOrigin(req('GET', { host: 'class.example', origin: 'https://evil.example' }));
    checkOrigin(req('POST', { host: 'class.example:3000', origin: 'http://class.example:3000' }));
    checkOrigin(req('POST', { host: 'class.example:80', origin: 'http://class.example' }));
    checkOrigin(req('POST', { host: 'class.example' }));
  });

  test('PUBLIC_URL and (when trusted) X-Forwarded-Host count as own origins', () => {
    checkOrigin(req('POST', { host: '127.0.0.1:3000', origin: 'https://cotrain.example' }), { publicUrl: 'https://cotrain.example/' });
    const proxied = req('POST', { host: '127.0.0.1:3000', origin: 'https://lab.example', 'x-forwarded-host': 'lab.example' });
    assert.throws(() => checkOrigin(proxied), AppError);
    checkOrigin(proxied, { trustProxy: true });
  });

  test("'unsafe-eval' only in development", () => {
    assert.doesNotMatch(contentSecurityPolicy(false), / 'unsafe-eval'/);
    assert.match(contentSecurityPolicy(false), /'wasm-unsafe-eval'/);
    assert.match(contentSecurityPolicy(true), / 'unsafe-eval'/);
    assert.match(contentSecurityPolicy(false), /frame-ancestors 'none'/);
  });
});
