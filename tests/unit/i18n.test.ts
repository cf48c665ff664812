import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LOCALES, pickLocale } from '../../app/_i18n/locales';
import { MESSAGES } from '../../app/_i18n/messages';

/** Every leaf path of a message tree, with the {placeholders} its text uses. */
function leaves(tree: unknown, prefix = ''): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (typeof tree === 'string') {
    // Top-level ICU arguments: {name}, {count, plural, …}; nested plural bodies are skipped.
    const args = new Set<string>();
    let depth = 0;
    for (let i = 0; i < tree.length; i++) {
      if (tree[i] === '{') {
        if (depth === 0) args.add(/^\{\s*([\w]+)/.exec(tree.slice(i))?.[1] ?? '');
        depth++;
      } else if (tree[i] === '}') depth--;
    }
    out.set(prefix, [...args].filter(Boolean).sort());
    return out;
  }
  assert.ok(tree && typeof tree === 'object', `${prefix}: expected a string or an object`);
  for (const [key, value] of Object.entries(tree)) for (const [k, v] of leaves(value, prefix ? `${prefix}.${key}` : key)) out.set(k, v);
  return out;
}

describe('UI messages', () => {
  const reference = leaves(MESSAGES.en);

  for (const locale of LOCALES) {
    it(`${locale} has exactly the English keys, with the same placeholders, none empty`, () => {
      const mine = leaves(MESSAGES[locale]);
      assert.deepEqual([...mine.keys()].filter((k) => !reference.has(k)), [], 'keys English lacks');
      assert.deepEqual([...reference.keys()].filter((k) => !mine.has(k)), [], 'keys missing');
      for (const [key, args] of reference) assert.deepEqual(mine.get(key), args, `placeholders of ${key}`);
      const walk = (tree: unknown, path: string): void => {
        if (typeof tree === 'string') assert.ok(tree.trim().length > 0, `${locale} ${path} is empty`);
        else for (const [k, v] of Object.entries(tree as object)) walk(v, `${path}.${k}`);
      };
      walk(MESSAGES[locale], locale);
    });
  }

  it('Chinese is really translated (most strings contain CJK characters)', () => {
    const zh = [...leaves(MESSAGES['zh-CN']).keys()];
    const texts = zh.map((k) => k.split('.').reduce<unknown>((t, part) => (t as Record<string, unknown>)[part], MESSAGES['zh-CN']) as string);
    const cjk = texts.filter((t) => /[\u4e00-\u9fff]/.test(t)).length;
    assert.ok(cjk / texts.length > 0.7, `only ${cjk} of ${texts.length} zh-CN strings contain Chinese`);
  });
});

describe('pickLocale', () => {
  it('prefers the cookie, then Accept-Language by q, then English', () => {
    assert.equal(pickLocale('zh-CN', 'en-US'), 'zh-CN');
    assert.equal(pickLocale('fr', 'zh-CN,zh;q=0.9,en;q=0.8'), 'zh-CN');
    assert.equal(pickLocale(undefined, 'de-DE,en;q=0.5,zh;q=0.7'), 'zh-CN');
    assert.equal(pickLocale(undefined, 'en-GB,zh;q=0.9'), 'en');
    assert.equal(pickLocale(undefined, 'zh-TW'), 'en');
    assert.equal(pickLocale(undefined, 'zh-Hans-CN'), 'zh-CN');
    assert.equal(pickLocale(undefined, ''), 'en');
    assert.equal(pickLocale(undefined, null), 'en');
    assert.equal(pickLocale(undefined, 'zh;q=0'), 'en');
  });
});
