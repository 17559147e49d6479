import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isHttpToken, isHttpTokenChar } from './http-token.js';

const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

describe('isHttpToken', () => {
  it.each(['GET', 'M-SEARCH', 'x-canary', "!#$%&'*+-.^_`|~", 'a1'])('accepts %j', (text) => {
    expect(isHttpToken(text)).toBe(true);
  });

  it.each(['', 'GE T', 'x:y', 'a"b', '(get)', 'x/y', 'a\tb', 'é', 'ſ', 'get\n', '{}', '[x]', 'a,b', 'a;b', 'a=b', 'a@b', 'a?b', 'a\\b'])(
    'refuses %j',
    (text) => {
      expect(isHttpToken(text)).toBe(false);
    },
  );

  it('refuses values that are not strings', () => {
    expect(isHttpToken(5 as unknown as string)).toBe(false);
    expect(isHttpToken(undefined as unknown as string)).toBe(false);
  });

  it('agrees with the RFC 9110 tchar list for every character code below 256 (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), (code) => {
        const expected = TCHARS.includes(String.fromCharCode(code));
        expect(isHttpTokenChar(code)).toBe(expected);
        expect(isHttpToken(`A${String.fromCharCode(code)}z`)).toBe(expected);
      }),
      { numRuns: 512 },
    );
  });
});
