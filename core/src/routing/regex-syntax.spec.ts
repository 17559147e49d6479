import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_REGEX_GROUP_DEPTH, type RegexNode, readRegexSyntax } from './regex-syntax.js';

function read(pattern: string): RegexNode {
  const syntax = readRegexSyntax(pattern);
  if ('refused' in syntax) throw new Error(syntax.refused);
  return syntax.node;
}

function refused(pattern: string): string {
  const syntax = readRegexSyntax(pattern);
  if (!('refused' in syntax)) throw new Error(`read ${JSON.stringify(pattern)}`);
  return syntax.refused;
}

// Single characters, escapes and classes, including Annex B corners: "]" and "{" as literals, "\d" next to "-".
const ONE_CHARACTER = [
  'a', ']', '{', '}', '.', '\\d', '\\D', '\\w', '\\W', '\\s', '\\S', '\\t', '\\n', '\\v', '\\f', '\\r', '\\0', '\\x41', '\\u00e9',
  '\\/', '\\-', '\\.', '[abc]', '[^abc]', '[a-z]', '[^a-z0-9_]', '[\\d-z]', '[a-\\d]', '[\\s\\S]', '[]', '[^]', '[-a]', '[a-]',
  '[\\b]', '[\\]]', '[.]', '[\\^]', '[^\\n]', 'é', '\\é',
];

describe('readRegexSyntax', () => {
  it.each(ONE_CHARACTER)('reads %j as the code units the engine matches (property over code units)', (pattern) => {
    const node = read(pattern);
    if (node.type !== 'chars') throw new Error(`read as ${node.type}`);
    const engine = new RegExp(`^(?:${pattern})$`);
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 0x17f }), fc.integer({ min: 0, max: 0xffff })), (code) => {
        expect(node.set.has(code)).toBe(engine.test(String.fromCharCode(code)));
      }),
      { numRuns: 300 },
    );
  });

  it('reads quantifiers with their counts and the quantified text', () => {
    expect(read('(ab)+?')).toMatchObject({ type: 'repeat', min: 1, max: Infinity, source: '(ab)+?' });
    expect(read('a{2,5}')).toMatchObject({ type: 'repeat', min: 2, max: 5, source: 'a{2,5}' });
    expect(read('a{3,}')).toMatchObject({ type: 'repeat', min: 3, max: Infinity });
    expect(read('a{4}')).toMatchObject({ type: 'repeat', min: 4, max: 4 });
    expect(read('a{,4}')).toMatchObject({ type: 'sequence' }); // "{,4}" is literal text
  });

  it('reads groups, alternatives and assertions', () => {
    expect(read('(?:a|b)|^c$')).toMatchObject({ type: 'alternation', alternatives: [{ type: 'alternation' }, { type: 'sequence' }] });
    expect(read('(?<id>x)')).toMatchObject({ type: 'chars' });
    expect(read('\\bx\\B')).toMatchObject({ type: 'sequence', items: [{ type: 'assertion' }, { type: 'chars' }, { type: 'assertion' }] });
    expect(read('a|')).toMatchObject({ type: 'alternation', alternatives: [{ type: 'chars' }, { type: 'sequence', items: [] }] });
  });

  it.each([
    ['\\2', 'backreference'],
    ['(?<n>a)\\k<n>', 'named backreference'],
    ['(?=x)', 'lookahead'],
    ['(?<!x)', 'lookbehind'],
    ['(?i:x)', 'inline flags'],
    ['(?-i:x)', 'inline flags'],
    ['\\P{L}', 'Unicode property'],
    ['[\\B]', 'unknown escape'],
    ['\\x1', 'without 2 hex digits'],
    ['a{1001}', 'count above 1000'],
    ['a{0,2000}', 'count above 1000'],
  ])('refuses %j (%s)', (pattern, what) => {
    expect(refused(pattern)).toContain(what);
  });

  it(`reads groups nested ${MAX_REGEX_GROUP_DEPTH} deep and refuses one more`, () => {
    const nested = (depth: number) => `${'(?:'.repeat(depth)}a${')'.repeat(depth)}`;
    expect(read(nested(MAX_REGEX_GROUP_DEPTH))).toMatchObject({ type: 'chars' });
    expect(refused(nested(MAX_REGEX_GROUP_DEPTH + 1))).toContain(`nested deeper than ${MAX_REGEX_GROUP_DEPTH}`);
    expect(refused(nested(50_000))).toContain('nested deeper');
  });
});
