import { describe, expect, it } from 'vitest';
import { compileFullMatchRegex, InvalidRegexError } from './full-match-regex.js';

describe('compileFullMatchRegex', () => {
  it('matches only whole values', () => {
    const result = compileFullMatchRegex('/books/[0-9]+');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.test('/books/12')).toBe(true);
    expect(result.value.test('/books/12/reviews')).toBe(false);
    expect(result.value.test('/api/books/12')).toBe(false);
  });

  it('keeps alternatives inside the anchors', () => {
    const result = compileFullMatchRegex('/a|/b');
    if (!result.ok) throw result.error;
    expect(result.value.test('/a')).toBe(true);
    expect(result.value.test('/b')).toBe(true);
    expect(result.value.test('/a/x')).toBe(false);
    expect(result.value.test('x/b')).toBe(false);
  });

  it.each(['(', '[a-', 'a)|(b', '\\', '*'])('refuses %j with the engine reason and a hint', (pattern) => {
    const result = compileFullMatchRegex(pattern);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidRegexError);
    expect(result.error.input).toBe(pattern);
    expect(result.error.toString()).toContain(`invalid regular expression ${JSON.stringify(pattern)}: is not a valid regular expression: `);
    expect(result.error.reason).toContain('backslash');
    expect(result.error.reason).not.toContain('Invalid regular expression: /');
  });
});
