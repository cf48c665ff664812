import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readEnv } from '../../server/env';

test('defaults to port 3000 and an SQLite file under data/', () => {
  const env = readEnv({});
  assert.equal(env.PORT, 3000);
  assert.equal(env.DATABASE_URL, 'file:./data/cotrain.db');
  assert.equal(env.NODE_ENV, 'production');
});

test('accepts a PostgreSQL URL and a public URL', () => {
  const env = readEnv({ DATABASE_URL: 'postgresql://u@127.0.0.1:5432/db', PUBLIC_URL: 'http://192.168.1.20:3000', PORT: '8080' });
  assert.equal(env.PORT, 8080);
  assert.equal(env.PUBLIC_URL, 'http://192.168.1.20:3000');
});

test('refuses bad configuration with a message naming each bad variable', () => {
  assert.throws(
    () => readEnv({ PORT: 'eighty', DATABASE_URL: 'mysql://x', PUBLIC_URL: 'not a url' }),
    (error: Error) => /PORT/.test(error.message) && /DATABASE_URL: must start with file:/.test(error.message) && /PUBLIC_URL/.test(error.message),
  );
});
