import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { DbHealth, isAlreadyStored, isDbUnavailable } from '../../server/db/db-health';
import type { Repository } from '../../server/db/repository';

const withCode = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

describe('database health', () => {
  test('tells an unreachable database from a query the database refused', () => {
    for (const error of [
      withCode('Server has closed the connection.', 'P1017'),
      withCode("Can't reach database server", 'P1001'),
      withCode('Raw query failed. Code: `N/A`. Message: `Server has closed the connection.`', 'P2010'),
      withCode('Query read timeout'),
      withCode('Connection terminated due to connection timeout'),
      withCode('connect ECONNREFUSED 127.0.0.1:5432'),
    ])
      assert.equal(isDbUnavailable(error), true, error.message);
    for (const error of [withCode('Unique constraint failed', 'P2002'), withCode('Record not found', 'P2025'), withCode('value out of range'), 'ECONNREFUSED as a string'])
      assert.equal(isDbUnavailable(error), false, String(error));
    assert.equal(isAlreadyStored(withCode('Unique constraint failed', 'P2002')), true);
  });

  test('a watched repository logs an outage once and its end once, however many calls fail', async () => {
    const lines: { msg: string }[] = [];
    const health = new DbHealth(pino({ level: 'info', base: undefined }, { write: (line: string) => void lines.push(JSON.parse(line)) }));
    let up = true;
    const repo = health.wrap({
      ping: async () => {
        if (!up) throw withCode('Server has closed the connection.', 'P1017');
      },
      getRun: async () => {
        throw withCode('Record not found', 'P2025');
      },
      close: async () => undefined,
    } as unknown as Repository);
    await assert.rejects(repo.getRun('x'));
    assert.equal(health.state, 'ok', 'a refused query is not an outage');
    up = false;
    for (let i = 0; i < 5; i++) await assert.rejects(repo.ping());
    assert.equal(health.state, 'unavailable');
    assert.equal(await health.check(() => repo.ping(), 1000), 'unavailable');
    up = true;
    assert.equal(await health.check(() => repo.ping(), 1000), 'ok');
    await repo.ping();
    assert.deepEqual(lines.map((l) => l.msg.split(':')[0]), ['database unreachable', 'database reachable again']);
    assert.equal(await health.check(() => new Promise(() => undefined), 50), 'unavailable', 'a ping that never answers counts as down');
  });
});
