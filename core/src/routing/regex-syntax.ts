// Reads the RE2-style subset of JavaScript regular expressions that routes accept into a small tree.
import { CodeUnitSet } from './code-unit-set.js';

/** What a pattern matches, reduced to what the backtracking analysis needs (captures and laziness are dropped). */
export type RegexNode =
  /** One code unit out of a set: a literal, ".", a class or an escape such as \d. */
  | { readonly type: 'chars'; readonly set: CodeUnitSet }
  /** "^", "$", "\b" or "\B": matches no text. */
  | { readonly type: 'assertion' }
  | { readonly type: 'sequence'; readonly items: readonly RegexNode[] }
  | { readonly type: 'alternation'; readonly alternatives: readonly RegexNode[] }
  /** `body` repeated min..max times (max may be Infinity); `source` is the quantified text, e.g. "(a+)+". */
  | { readonly type: 'repeat'; readonly body: RegexNode; readonly min: number; readonly max: number; readonly source: string };

/** The outcome of reading a pattern: its tree, or why it uses syntax outside the accepted subset. */
export type RegexSyntax = { readonly node: RegexNode } | { readonly refused: string };

/** Larger counts are refused, as RE2 does. */
export const MAX_REGEX_REPEAT = 1_000;
/** Deeper group nesting is refused, so reading a pattern never exhausts the stack. */
export const MAX_REGEX_GROUP_DEPTH = 32;

/**
 * Reads a pattern the JavaScript engine has already accepted (no flags, so Annex B syntax), refusing backreferences,
 * lookarounds, inline flags and modifiers, legacy octal and control escapes, \p{...}, unknown letter escapes, counts
 * above MAX_REGEX_REPEAT and groups nested deeper than MAX_REGEX_GROUP_DEPTH.
 */
export function readRegexSyntax(pattern: string): RegexSyntax {
  try {
    return { node: new RegexReader(pattern).readAll() };
  } catch (error) {
    if (error instanceof SyntaxRefusal) return { refused: error.message };
    throw error;
  }
}

class SyntaxRefusal extends Error {}

const code = (char: string) => char.charCodeAt(0);
const DIGIT = CodeUnitSet.of([code('0'), code('9')]);
const WORD = CodeUnitSet.of([code('0'), code('9')], [code('A'), code('Z')], [code('a'), code('z')], [code('_'), code('_')]);
// JavaScript's \s: WhiteSpace and LineTerminator.
const SPACE = CodeUnitSet.of(
  [0x09, 0x0d], [0x20, 0x20], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200a],
  [0x2028, 0x2029], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000], [0xfeff, 0xfeff],
);
// "." matches everything but line terminators.
const DOT = CodeUnitSet.of([0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]).complement();
const CLASS_ESCAPES: Readonly<Record<string, CodeUnitSet>> = {
  d: DIGIT, D: DIGIT.complement(), w: WORD, W: WORD.complement(), s: SPACE, S: SPACE.complement(),
};
const CONTROL_ESCAPES: Readonly<Record<string, number>> = { t: 0x09, n: 0x0a, v: 0x0b, f: 0x0c, r: 0x0d };
const QUANTIFIER = /\{(\d+)(?:(,)(\d*))?\}/y;
const ASSERTION: RegexNode = { type: 'assertion' };
const HEX2 = /^[0-9A-Fa-f]{2}$/;
const HEX4 = /^[0-9A-Fa-f]{4}$/;

class RegexReader {
  private at = 0;
  private depth = 0;

  constructor(private readonly pattern: string) {}

  readAll(): RegexNode {
    const node = this.alternation();
    if (this.at < this.pattern.length) this.refuse(`unexpected ${JSON.stringify(this.peek())} at offset ${this.at}`);
    return node;
  }

  private peek(offset = 0): string {
    return this.pattern.charAt(this.at + offset);
  }

  private startsWith(text: string): boolean {
    return this.pattern.startsWith(text, this.at);
  }

  private refuse(reason: string): never {
    throw new SyntaxRefusal(reason);
  }

  private alternation(): RegexNode {
    const alternatives = [this.sequence()];
    while (this.peek() === '|') {
      this.at += 1;
      alternatives.push(this.sequence());
    }
    return alternatives.length === 1 ? (alternatives[0] as RegexNode) : { type: 'alternation', alternatives };
  }

  private sequence(): RegexNode {
    const items: RegexNode[] = [];
    while (this.at < this.pattern.length && this.peek() !== '|' && this.peek() !== ')') {
      const start = this.at;
      items.push(this.quantified(this.atom(), start));
    }
    return items.length === 1 ? (items[0] as RegexNode) : { type: 'sequence', items };
  }

  private quantified(atom: RegexNode, start: number): RegexNode {
    const bounds = this.quantifier();
    if (bounds === undefined) return atom;
    if (this.peek() === '?') this.at += 1; // lazy: the same choices in another order
    if (atom.type === 'assertion') this.refuse(`a quantifier after an anchor at offset ${start}`);
    const [min, max] = bounds;
    if (min > MAX_REGEX_REPEAT || (max !== Infinity && max > MAX_REGEX_REPEAT)) {
      this.refuse(`a count above ${MAX_REGEX_REPEAT} in ${JSON.stringify(this.pattern.slice(start, this.at))}`);
    }
    return { type: 'repeat', body: atom, min, max, source: this.pattern.slice(start, this.at) };
  }

  /** [min, max] of a quantifier at the cursor, or undefined; a "{" that is not a valid count is a literal. */
  private quantifier(): readonly [number, number] | undefined {
    const char = this.peek();
    if (char === '*' || char === '+' || char === '?') {
      this.at += 1;
      return char === '*' ? [0, Infinity] : char === '+' ? [1, Infinity] : [0, 1];
    }
    QUANTIFIER.lastIndex = this.at;
    const match = QUANTIFIER.exec(this.pattern);
    if (!match) return undefined;
    this.at = QUANTIFIER.lastIndex;
    const min = Number(match[1]);
    if (match[2] === undefined) return [min, min];
    return [min, match[3] === '' || match[3] === undefined ? Infinity : Number(match[3])];
  }

  private atom(): RegexNode {
    const char = this.peek();
    switch (char) {
      case '(':
        return this.group();
      case '[':
        return { type: 'chars', set: this.charClass() };
      case '.':
        this.at += 1;
        return { type: 'chars', set: DOT };
      case '^':
      case '$':
        this.at += 1;
        return ASSERTION;
      case '\\':
        return this.escapeAtom();
      case '*':
      case '+':
      case '?':
        return this.refuse(`nothing to repeat before ${JSON.stringify(char)} at offset ${this.at}`);
      default:
        this.at += 1;
        return { type: 'chars', set: CodeUnitSet.single(code(char)) };
    }
  }

  private group(): RegexNode {
    const start = this.at;
    this.at += 1;
    this.groupPrefix(start);
    this.depth += 1;
    if (this.depth > MAX_REGEX_GROUP_DEPTH) this.refuse(`groups nested deeper than ${MAX_REGEX_GROUP_DEPTH} levels`);
    const body = this.alternation();
    if (this.peek() !== ')') this.refuse(`the group at offset ${start} is not closed`);
    this.at += 1;
    this.depth -= 1;
    return body;
  }

  /** Skips "?:" or "?<name>" after "("; refuses every other "(?" form. */
  private groupPrefix(start: number): void {
    if (this.peek() !== '?') return;
    if (this.startsWith('?:')) {
      this.at += 2;
    } else if (this.startsWith('?=') || this.startsWith('?!')) {
      this.refuse(`a lookahead "(${this.pattern.slice(this.at, this.at + 2)}" at offset ${start}`);
    } else if (this.startsWith('?<=') || this.startsWith('?<!')) {
      this.refuse(`a lookbehind "(${this.pattern.slice(this.at, this.at + 3)}" at offset ${start}`);
    } else if (this.startsWith('?<')) {
      const close = this.pattern.indexOf('>', this.at);
      if (close < 0) this.refuse(`an unterminated group name at offset ${start}`);
      this.at = close + 1;
    } else {
      this.refuse(`inline flags or modifiers "(${this.pattern.slice(this.at, this.at + 3)}" at offset ${start}; (?i) and the like are not supported, spell out both cases instead, e.g. [Bb]ooks`);
    }
  }

  private charClass(): CodeUnitSet {
    const start = this.at;
    this.at += 1;
    const negated = this.peek() === '^';
    if (negated) this.at += 1;
    let set = CodeUnitSet.EMPTY;
    while (this.peek() !== ']') {
      if (this.at >= this.pattern.length) this.refuse(`the class at offset ${start} is not closed`);
      set = set.union(this.classRange());
    }
    this.at += 1;
    return negated ? set.complement() : set;
  }

  /** One class member: a character, an escape, or a range "a-z" between two single characters. */
  private classRange(): CodeUnitSet {
    const low = this.classAtom();
    if (this.peek() !== '-' || this.peek(1) === ']' || this.peek(1) === '') return low.set;
    const dash = this.at;
    this.at += 1;
    const high = this.classAtom();
    // Annex B: a range next to a class escape such as \d is a "-" among the members.
    if (low.single === undefined || high.single === undefined) {
      return low.set.union(CodeUnitSet.single(code('-'))).union(high.set);
    }
    if (low.single > high.single) this.refuse(`the class range at offset ${dash - 1} is out of order`);
    return CodeUnitSet.of([low.single, high.single]);
  }

  private classAtom(): { set: CodeUnitSet; single: number | undefined } {
    if (this.peek() === '\\') {
      const escaped = this.escape(true);
      if (escaped === 'assertion') return this.refuse('an anchor inside a class');
      return escaped;
    }
    const value = this.pattern.charCodeAt(this.at);
    this.at += 1;
    return { set: CodeUnitSet.single(value), single: value };
  }

  private escapeAtom(): RegexNode {
    const escaped = this.escape(false);
    return escaped === 'assertion' ? ASSERTION : { type: 'chars', set: escaped.set };
  }

  /** The escape at the cursor: a set of code units (`single` when it is one code unit), or a word-boundary assertion. */
  private escape(inClass: boolean): Escaped | 'assertion' {
    const start = this.at;
    const char = this.peek(1);
    this.at += 2;
    const classEscape = CLASS_ESCAPES[char];
    if (classEscape !== undefined) return { set: classEscape, single: undefined };
    if (char === 'b' && inClass) return single(0x08);
    if (char === 'b' || (char === 'B' && !inClass)) return 'assertion';
    const control = CONTROL_ESCAPES[char];
    if (control !== undefined) return single(control);
    if (char === '0' && !/[0-9]/.test(this.peek())) return single(0);
    if (char === 'x' || char === 'u') return single(this.hexEscape(char, start));
    if (/[0-9A-Za-z]/.test(char) || char === '') this.refuse(unsupportedEscape(this.pattern.slice(start, this.at), start));
    return single(code(char));
  }

  private hexEscape(kind: 'x' | 'u', start: number): number {
    const digits = kind === 'x' ? 2 : 4;
    const hex = this.pattern.slice(this.at, this.at + digits);
    if (!(kind === 'x' ? HEX2 : HEX4).test(hex)) {
      this.refuse(`"\\${kind}" at offset ${start} without ${digits} hex digits; write e.g. ${kind === 'x' ? '"\\x2F"' : '"\\u00E9"'}`);
    }
    this.at += digits;
    return Number.parseInt(hex, 16);
  }
}

interface Escaped {
  readonly set: CodeUnitSet;
  readonly single: number | undefined;
}

function single(value: number): Escaped {
  return { set: CodeUnitSet.single(value), single: value };
}

function unsupportedEscape(escape: string, at: number): string {
  const letter = escape.charAt(1);
  if (/[1-9]/.test(letter)) return `a backreference "${escape}" at offset ${at}`;
  if (letter === 'k') return `a named backreference "\\k" at offset ${at}`;
  if (letter === '0') return `a legacy octal escape at offset ${at}; write e.g. "\\x01"`;
  if (letter === 'p' || letter === 'P') return `a Unicode property class "\\${letter}" at offset ${at}; list the characters in a class instead`;
  if (letter === 'c') return `a control escape "\\c" at offset ${at}; write e.g. "\\x01"`;
  if (letter === '') return 'a "\\" at the end';
  return `the unknown escape "${escape}" at offset ${at}; write the character without a backslash`;
}
