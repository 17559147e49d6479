import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileFullMatchRegex, FULL_MATCH_MAX_INPUT_LENGTH, FULL_MATCH_MAX_PATTERN_LENGTH, InvalidRegexError } from './full-match-regex.js';

function refusal(pattern: string): InvalidRegexError {
  const result = compileFullMatchRegex(pattern);
  if (result.ok) throw new Error(`accepted ${JSON.stringify(pattern)}`);
  expect(result.error).toBeInstanceOf(InvalidRegexError);
  expect(result.error.input).toBe(pattern);
  expect(result.error.toString()).toContain(`invalid regular expression ${JSON.stringify(pattern)}: `);
  return result.error;
}

function compiled(pattern: string) {
  const result = compileFullMatchRegex(pattern);
  if (!result.ok) throw result.error;
  return result.value;
}

describe('compileFullMatchRegex', () => {
  it('matches only whole values', () => {
    const regex = compiled('/books/[0-9]+');
    expect(regex.pattern).toBe('/books/[0-9]+');
    expect(regex.test('/books/12')).toBe(true);
    expect(regex.test('/books/12/reviews')).toBe(false);
    expect(regex.test('/api/books/12')).toBe(false);
  });

  it('keeps alternatives inside the anchors', () => {
    const regex = compiled('/a|/b');
    expect(regex.test('/a')).toBe(true);
    expect(regex.test('/b')).toBe(true);
    expect(regex.test('/a/x')).toBe(false);
    expect(regex.test('x/b')).toBe(false);
  });

  it.each(['(', '[a-', 'a)|(b', '\\', '*'])('refuses %j with the engine reason and a hint', (pattern) => {
    const error = refusal(pattern);
    expect(error.toString()).toContain(`invalid regular expression ${JSON.stringify(pattern)}: is not a valid regular expression: `);
    expect(error.reason).toContain('backslash');
    expect(error.reason).not.toContain('Invalid regular expression: /');
  });

  it.each<[string, string]>([
    ['/books/[0-9]+', '/books/42'],
    ['.*foo.*', 'a foo b'],
    ['/api/v[0-9]+/users/[^/]+/orders/[a-z]+', '/api/v2/users/7/orders/open'],
    ['https?://(www\\.)?example\\.com/.*', 'https://www.example.com/x'],
    ['(a|b)*c', 'ababc'],
    ['(?<id>[0-9]+)', '12'],
    ['([0-9a-f]{2}:){5}[0-9a-f]{2}', '00:1a:2b:3c:4d:5e'],
    ['[\\d-z]+', '1-z'],
    ['[^]*', 'any\nthing'],
    ['a{,5}', 'a{,5}'],
    ['\\x41\\u0042\\/\\.', 'AB/.'],
    ['[\\b]', '\b'],
    ['\\bword\\b', 'word'],
    ['.*(?:a)?x', 'zazx'],
    ['a{3}b{1,1000}', 'aaab'],
  ])('accepts the safe pattern %j', (pattern, example) => {
    expect(compiled(pattern).test(example)).toBe(true);
  });

  it('refuses (a+)+b, which took 16.7 s on 27 characters before, naming the pattern and the nested quantifier', () => {
    const error = refusal('(a+)+b');
    expect(error.reason).toContain('can backtrack catastrophically');
    expect(error.reason).toContain('"(a+)+" repeats a group that contains the quantifier "a+"');
  });

  it.each<[string, string]>([
    ['(a*)*', 'nested quantifier'],
    ['(?:a?){3}', 'nested quantifier'],
    ['(x[a-z]+)+y', 'nested quantifier'],
    ['((a+)b){2}', 'nested quantifier'],
    ['(a|a)*', 'alternatives that can match the same text'],
    ['(ab|ac)+', 'alternatives that can match the same text'],
    ['(a|)+', 'alternatives that can match the same text'],
    ['(?:x(?:a|ab))+', 'alternatives that can match the same text'],
    ['(?:a|a){24}', 'alternatives that can match the same text'],
    ['.*a.*a.*x', 'n^3'],
    ['\\w*\\d+\\w*x', 'n^3'],
    ['.*[^b](?:a|b)+[ab]+', 'n^3'],
    ['.*(?:a.*)?x', 'each doubles the work'],
    ['[a-z]*[a-z]*-[a-z]*[a-z]*', 'n^3'],
    ['(?:a|a)'.repeat(24), 'each doubles the work'],
    ['a?'.repeat(20) + 'a'.repeat(20), 'each doubles the work'],
  ])('refuses %j, which can backtrack catastrophically', (pattern, why) => {
    const error = refusal(pattern);
    expect(error.reason).toContain('can backtrack catastrophically on long input: ');
    expect(error.reason).toContain(why);
    expect(error.reason).toContain('patterns follow RE2 rules');
  });

  it.each<[string, string]>([
    ['(a)\\1', 'a backreference "\\1"'],
    ['(?<x>a)\\k<x>', 'a named backreference'],
    ['(?=a)a', 'a lookahead "(?="'],
    ['(?!a)b', 'a lookahead "(?!"'],
    ['(?<=a)b', 'a lookbehind "(?<="'],
    ['(?<!a)b', 'a lookbehind "(?<!"'],
    ['(?i:books)', 'inline flags or modifiers'],
    ['\\p{L}', 'a Unicode property class'],
    ['\\cA', 'a control escape'],
    ['\\q', 'the unknown escape "\\q"'],
    ['\\01', 'a legacy octal escape'],
    ['\\u{41}', '"\\u" at offset 0 without 4 hex digits'],
    ['a{1,1001}', 'a count above 1000 in "a{1,1001}"'],
    [`${'('.repeat(33)}a${')'.repeat(33)}`, 'groups nested deeper than 32 levels'],
  ])('refuses %j, which is outside the RE2-style syntax', (pattern, what) => {
    const error = refusal(pattern);
    expect(error.reason).toContain(`is not accepted: it uses ${what}`);
    expect(error.reason).toContain('inline flags such as (?i)');
  });

  it('names RE2 limits such as (?i) also when the engine itself refuses the syntax', () => {
    const error = refusal('(?i)books');
    expect(error.reason).toContain('is not a valid regular expression: ');
    expect(error.reason).toContain('not accepted are backreferences (\\1, \\k<name>), lookarounds');
    expect(error.reason).toContain('inline flags such as (?i)');
  });

  it('refuses a pattern that is not a string, or longer than the limit, without throwing', () => {
    const notText = compileFullMatchRegex(5 as unknown as string);
    expect(notText.ok).toBe(false);
    if (!notText.ok) expect(notText.error.reason).toContain('is a number, not a string');
    const long = 'a'.repeat(FULL_MATCH_MAX_PATTERN_LENGTH + 1);
    expect(refusal(long).reason).toContain(`is ${long.length} characters long`);
  });

  it(`never matches values longer than ${FULL_MATCH_MAX_INPUT_LENGTH} code units`, () => {
    const regex = compiled('a*');
    expect(regex.test('a'.repeat(FULL_MATCH_MAX_INPUT_LENGTH))).toBe(true);
    expect(regex.test('a'.repeat(FULL_MATCH_MAX_INPUT_LENGTH + 1))).toBe(false);
    expect(compiled('.*').test('x'.repeat(10_240))).toBe(false);
  });
});

describe('compileFullMatchRegex against adversarial input (property)', () => {
  // Patterns over a two-letter alphabet with every quantifier, group and alternative shape: the family in which
  // nested and overlapping quantifiers show up. Refused patterns are skipped; accepted ones must run in bounded time.
  const atom = fc.constantFrom('a', 'b', '[ab]', '.', '[^b]', '\\w', 'ab', '\\b', 'a|b', '');
  const quantifier = fc.constantFrom('', '', '*', '+', '?', '{2}', '{1,3}', '{0,}', '*?');
  const { pattern } = fc.letrec<{ pattern: string; item: string; group: string }>((tie) => ({
    pattern: fc.array(tie('item'), { minLength: 1, maxLength: 4 }).map((items) => items.join('')),
    item: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.tuple(atom, quantifier).map(([a, q]) => (['\\b', 'a|b', ''].includes(a) ? a : `${a}${q}`)), tie('group')),
    group: fc
      .tuple(fc.array(tie('pattern'), { minLength: 1, maxLength: 3 }), quantifier, fc.boolean())
      .map(([alternatives, q, capture]) => `(${capture ? '' : '?:'}${alternatives.join('|')})${q}`),
  }));
  const n = FULL_MATCH_MAX_INPUT_LENGTH;
  const adversarial = [
    'a'.repeat(n),
    `${'a'.repeat(n - 1)}!`,
    `${'ab'.repeat(n / 2 - 1)}a!`,
    `${'aab'.repeat((n - 2) / 3)}\n!`,
    `${'ba'.repeat(n / 2 - 1)}b!`,
  ];

  it('every accepted pattern answers each 8 KiB adversarial value (a hang fails on the test timeout)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(pattern, (source) => {
        const result = compileFullMatchRegex(source);
        if (!result.ok) return;
        accepted += 1;
        for (const value of adversarial) result.value.test(value);
        expect(result.value.test('a'.repeat(10_240))).toBe(false);
      }),
      { numRuns: 1_000 },
    );
    expect(accepted).toBeGreaterThan(200);
  }, 60_000);

  it('every accepted pattern answers short values exactly as the JavaScript engine does', () => {
    fc.assert(
      fc.property(pattern, fc.string({ unit: fc.constantFrom('a', 'b', '!', '\n'), maxLength: 12 }), (source, value) => {
        const result = compileFullMatchRegex(source);
        if (!result.ok) return;
        expect(result.value.test(value)).toBe(new RegExp(`^(?:${source})$`).test(value));
      }),
      { numRuns: 500 },
    );
  });
});
