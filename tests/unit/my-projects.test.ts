import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_MY_PROJECTS, parseMyProjects, withSighting, withoutProject, type MyProject } from '../../app/_lib/my-projects';
import { ApiError } from '../../app/_lib/api';
import { errorText } from '../../app/_lib/error-text';
import { ownerLinkUrl, parseClaimFragment } from '../../app/_lib/owner-link';
import { MESSAGES } from '../../app/_i18n/messages';
import { ERRORS } from '../../server/protocol/errors';

describe('my projects list', () => {
  it('a sighting puts the project on top with the time, keeping the name and role it does not carry', () => {
    let list: MyProject[] = [];
    list = withSighting(list, { slug: 'a', name: 'Alpha', role: 'owner' }, 1000);
    list = withSighting(list, { slug: 'b', role: 'member' }, 2000);
    assert.deepEqual(list.map((p) => p.slug), ['b', 'a']);
    assert.equal(list[0]!.name, null);
    list = withSighting(list, { slug: 'a' }, 3000);
    assert.deepEqual(list[0], { slug: 'a', name: 'Alpha', role: 'owner', lastOpened: 3000 });
    list = withSighting(list, { slug: 'b', name: 'Beta', role: 'viewer' }, 4000);
    assert.deepEqual(list.map((p) => [p.slug, p.name, p.role]), [['b', 'Beta', 'viewer'], ['a', 'Alpha', 'owner']]);
    assert.deepEqual(withoutProject(list, 'b').map((p) => p.slug), ['a']);
  });

  it(`keeps at most ${MAX_MY_PROJECTS}, dropping the least recently opened`, () => {
    let list: MyProject[] = [];
    for (let i = 0; i < MAX_MY_PROJECTS + 5; i++) list = withSighting(list, { slug: `p${i}`, role: 'member' }, i);
    assert.equal(list.length, MAX_MY_PROJECTS);
    assert.equal(list.at(-1)!.slug, 'p5');
  });

  it('reads back what it wrote, newest first, and survives anything else in storage', () => {
    const list = withSighting(withSighting([], { slug: 'x', name: 'X', role: 'owner' }, 5), { slug: 'y', role: 'member' }, 9);
    assert.deepEqual(parseMyProjects(JSON.stringify([...list].reverse())), list);
    for (const junk of [null, '', 'not json', '{}', '42', 'null']) assert.deepEqual(parseMyProjects(junk), []);
    const mixed = JSON.stringify([{ slug: 'ok', name: null, role: 'viewer', lastOpened: 1 }, { slug: 'bad', role: 'king', lastOpened: 2 }, { slug: 'ok', name: 'dupe', role: 'owner', lastOpened: 0 }, 7]);
    assert.deepEqual(parseMyProjects(mixed), [{ slug: 'ok', name: null, role: 'viewer', lastOpened: 1 }]);
  });
});

describe('error messages by code', () => {
  it('every protocol error code has a message in every language', () => {
    for (const [locale, messages] of Object.entries(MESSAGES)) {
      const errors = (messages.common as { errors: Record<string, string> }).errors;
      for (const code of Object.keys(ERRORS)) assert.ok(errors[code], `${locale} common.errors.${code}`);
    }
  });

  it('maps API errors to keys, keeping a bad request’s detail and the wait of a rate limit', () => {
    assert.deepEqual(errorText(new ApiError(403, 'forbidden', 'Only the project owner can start training.')), { key: 'forbidden' });
    assert.deepEqual(errorText(new ApiError(0, 'network', 'x')), { key: 'network' });
    assert.deepEqual(errorText(new ApiError(502, 'unexpected', 'x')), { key: 'unexpectedStatus', values: { status: 502 } });
    assert.deepEqual(errorText(new ApiError(200, 'unexpected', 'x')), { key: 'unexpected' });
    assert.deepEqual(errorText(new ApiError(400, 'bad_request', ERRORS.bad_request.message)), { key: 'bad_request' });
    assert.deepEqual(errorText(new ApiError(400, 'bad_request', 'name: Too long')), { key: 'badRequestDetail', values: { detail: 'name: Too long' } });
    assert.deepEqual(errorText(new ApiError(429, 'rate_limited', 'x', undefined, 30)), { key: 'rateLimitedWait', values: { seconds: 30 } });
    assert.deepEqual(errorText(new ApiError(429, 'rate_limited', 'x')), { key: 'rate_limited' });
    // A code this client does not know yet: the server's own text.
    assert.deepEqual(errorText(new ApiError(418, 'teapot' as never, 'I am a teapot')), { text: 'I am a teapot' });
    assert.deepEqual(errorText(new Error('boom')), { text: 'boom' });
  });
});

describe('owner link', () => {
  it('round-trips slug and token through the claim fragment; incomplete fragments are refused', () => {
    const url = ownerLinkUrl('http://h', 'my-proj', 'tok.en/with+odd=chars');
    assert.equal(url.split('#')[0], 'http://h/claim');
    assert.deepEqual(parseClaimFragment(new URL(url).hash), { slug: 'my-proj', token: 'tok.en/with+odd=chars' });
    for (const bad of ['', '#', '#slug', '#slug.', '#.token', '#%E0%A4%A']) assert.equal(parseClaimFragment(bad), null, bad);
  });
});
