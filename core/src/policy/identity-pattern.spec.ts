import { describe, expect, it } from 'vitest';
import {
  formatIdentityPattern,
  identityMatches,
  intersectIdentityPatterns,
  InvalidIdentityPatternError,
  parseIdentityPattern,
  type IdentityPattern,
} from './identity-pattern.js';
import { unwrap } from '../shared/result.js';

const pattern = (text: string): IdentityPattern => unwrap(parseIdentityPattern(text));
const web = 'web.shop.serviceaccount.identity.weft.cluster.local';
const api = 'api.shop.serviceaccount.identity.weft.cluster.local';
const other = 'web.books.serviceaccount.identity.weft.cluster.local';

describe('parseIdentityPattern', () => {
  it('reads "*", a suffix and an exact identity', () => {
    expect(pattern('*')).toEqual({ kind: 'any' });
    expect(pattern('*.shop.serviceaccount.identity.weft.cluster.local')).toEqual({
      kind: 'suffix',
      suffix: 'shop.serviceaccount.identity.weft.cluster.local',
    });
    expect(pattern(web)).toEqual({ kind: 'exact', name: web });
  });

  it.each(['*', '*.cluster.local', web, 'a', 'x-1.y2'])('formats %j back as written', (text) => {
    expect(formatIdentityPattern(pattern(text))).toBe(text);
  });

  it.each([
    ['', 'is empty'],
    ['a*b.cluster.local', '"*" may stand only alone'],
    ['**.cluster.local', '"*" may stand only alone'],
    ['*.*.cluster.local', '"*" may stand only alone'],
    ['web.*', '"*" may stand only alone'],
    ['*.', 'nothing after "*."'],
    ['web..cluster.local', 'empty label'],
    ['.web.cluster.local', 'empty label'],
    ['web.cluster.local.', 'empty label'],
    ['Web.shop.cluster.local', 'uppercase'],
    ['web_1.shop', 'label "web_1"'],
    ['-web.shop', 'label "-web"'],
    ['web shop', 'label "web shop"'],
    [`${'a'.repeat(64)}.shop`, 'is 64 characters; at most 63'],
    [`${'a.'.repeat(127)}ab`, 'at most 253'],
  ])('refuses %j with an error naming it (%s)', (text, words) => {
    const result = parseIdentityPattern(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidIdentityPatternError);
    expect(result.error.input).toBe(text);
    expect(result.error.toString()).toContain(`invalid identity pattern ${JSON.stringify(text)}`);
    expect(result.error.reason).toContain(words);
  });

  it('suggests the lowercase spelling', () => {
    const result = parseIdentityPattern('Web.Shop.cluster.local');
    expect(!result.ok && result.error.reason).toContain('write "web.shop.cluster.local"');
  });

  it('suggests the lowercase spelling of the whole suffix pattern', () => {
    const result = parseIdentityPattern('*.Shop.cluster.local');
    expect(!result.ok && result.error.reason).toContain('write "*.shop.cluster.local"');
  });
});

describe('identityMatches', () => {
  it('admits any verified identity with "*", none without one', () => {
    expect(identityMatches(pattern('*'), web)).toBe(true);
    expect(identityMatches(pattern('*'), undefined)).toBe(false);
    expect(identityMatches(pattern('*'), '')).toBe(false);
  });

  it('admits exactly the named identity', () => {
    expect(identityMatches(pattern(web), web)).toBe(true);
    expect(identityMatches(pattern(web), api)).toBe(false);
    expect(identityMatches(pattern(web), `${web}.evil`)).toBe(false);
  });

  it('admits names ending in the suffix on a label boundary, with at least one more label', () => {
    const shop = pattern('*.shop.serviceaccount.identity.weft.cluster.local');
    expect(identityMatches(shop, web)).toBe(true);
    expect(identityMatches(shop, `a.b.${web}`)).toBe(true);
    expect(identityMatches(shop, other)).toBe(false);
    expect(identityMatches(shop, 'shop.serviceaccount.identity.weft.cluster.local')).toBe(false);
    expect(identityMatches(shop, 'evilshop.serviceaccount.identity.weft.cluster.local')).toBe(false);
    expect(identityMatches(shop, '.shop.serviceaccount.identity.weft.cluster.local')).toBe(false);
  });
});

describe('intersectIdentityPatterns', () => {
  it('keeps the narrower of two patterns, or nothing', () => {
    const shop = pattern('*.shop.serviceaccount.identity.weft.cluster.local');
    const local = pattern('*.cluster.local');
    expect(intersectIdentityPatterns([pattern('*')], [shop])).toEqual([shop]);
    expect(intersectIdentityPatterns([local], [shop])).toEqual([shop]);
    expect(intersectIdentityPatterns([shop], [pattern(web), pattern(other)])).toEqual([pattern(web)]);
    expect(intersectIdentityPatterns([shop], [pattern('*.books.serviceaccount.identity.weft.cluster.local')])).toEqual([]);
    expect(intersectIdentityPatterns([pattern(web)], [pattern(api)])).toEqual([]);
  });

  it('admits exactly the identities both lists admit', () => {
    const a = [pattern('*.shop.serviceaccount.identity.weft.cluster.local'), pattern(other)];
    const b = [pattern('*.serviceaccount.identity.weft.cluster.local')];
    const both = intersectIdentityPatterns(a, b);
    for (const name of [web, api, other, 'x.cluster.local', 'a.b.shop.serviceaccount.identity.weft.cluster.local']) {
      const expected = a.some((p) => identityMatches(p, name)) && b.some((p) => identityMatches(p, name));
      expect(both.some((p) => identityMatches(p, name))).toBe(expected);
    }
  });
});
