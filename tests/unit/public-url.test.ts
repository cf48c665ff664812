import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { displayLink, isLoopbackHost, joinLink, resolvePublicBase } from '../../server/http/public-url';

describe('public URL for join links', () => {
  test('PUBLIC_URL wins over the page origin, keeps a path prefix and drops trailing slashes', () => {
    assert.deepEqual(resolvePublicBase('http://192.168.1.20:3000/', 'http://localhost:3000'), { base: 'http://192.168.1.20:3000', source: 'config', loopback: false });
    assert.deepEqual(resolvePublicBase('https://class.example.org/cotrain/', 'http://localhost:3000'), {
      base: 'https://class.example.org/cotrain',
      source: 'config',
      loopback: false,
    });
  });

  test('without a usable PUBLIC_URL the page origin is used, and localhost is flagged', () => {
    assert.deepEqual(resolvePublicBase(null, 'http://localhost:3000'), { base: 'http://localhost:3000', source: 'page', loopback: true });
    assert.deepEqual(resolvePublicBase('not a url', 'http://10.0.0.5:3000'), { base: 'http://10.0.0.5:3000', source: 'page', loopback: false });
    assert.deepEqual(resolvePublicBase('ftp://x.org', 'http://127.0.0.1:4000'), { base: 'http://127.0.0.1:4000', source: 'page', loopback: true });
  });

  test('a configured loopback address is flagged too (phones cannot reach it)', () => {
    assert.equal(resolvePublicBase('http://localhost:3000', 'http://localhost:3000').loopback, true);
  });

  test('loopback hosts: localhost, 127/8, ::1, 0.0.0.0; LAN and public hosts are not', () => {
    for (const host of ['localhost', 'LOCALHOST', 'app.localhost', '127.0.0.1', '127.1.2.3', '[::1]', '::1', '0.0.0.0', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(host), true, host);
    for (const host of ['192.168.1.20', '10.0.0.1', 'class.example.org', 'localhost.example.org', '[fe80::1]', '128.0.0.1']) assert.equal(isLoopbackHost(host), false, host);
  });

  test('the join link opens the project with its code; the display form has no scheme', () => {
    const link = joinLink('http://192.168.1.20:3000/', 'class-1a2b', 'ABCD2345');
    assert.equal(link, 'http://192.168.1.20:3000/p/class-1a2b?code=ABCD2345');
    assert.equal(joinLink('http://h', 'a b', null), 'http://h/p/a%20b');
    assert.equal(displayLink(link), '192.168.1.20:3000/p/class-1a2b?code=ABCD2345');
  });
});
