import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { memberOfClient, projectorRoster } from '../../app/_components/classroom/roster';

const members = [
  { id: 'own', name: 'Teacher', role: 'owner' as const, hidden: false },
  { id: 'ada', name: 'Ada L.', role: 'member' as const, hidden: false },
  { id: 'eve', name: 'Rude name', role: 'member' as const, hidden: true },
  { id: 'vic', name: 'Vic', role: 'viewer' as const, hidden: false },
];

describe('projector roster', () => {
  test('counts everyone online but the owner, once each, across the document and the training room', () => {
    const roster = projectorRoster(
      [
        { memberId: 'own', name: 'Teacher', role: 'owner' },
        { memberId: 'ada', name: 'Ada', role: 'member' },
        { memberId: 'vic', name: 'Vic', role: 'viewer' },
      ],
      [
        { clientId: 'own:s1', name: 'Teacher' },
        { clientId: 'ada:s2', name: 'Ada' },
        { clientId: 'bot:s3', name: 'bot-1' },
      ],
      members,
    );
    assert.equal(roster.count, 3);
    // The server's (renamed) name wins over the one the browser announced.
    assert.deepEqual(roster.shown.map((s) => s.name), ['Ada L.', 'bot-1', 'Vic']);
    assert.equal(roster.hidden, 0);
  });

  test('a hidden member is counted but not named', () => {
    const roster = projectorRoster([{ memberId: 'eve', name: 'Rude name', role: 'member' }], [], members);
    assert.deepEqual(roster, { count: 1, shown: [], hidden: 1 });
  });

  test('nobody online: zero; a client id without a socket part is its own member', () => {
    assert.deepEqual(projectorRoster([], [], null), { count: 0, shown: [], hidden: 0 });
    assert.equal(memberOfClient('abc'), 'abc');
    assert.equal(memberOfClient('abc:def:ghi'), 'abc');
  });
});
