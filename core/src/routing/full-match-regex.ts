// Regular expressions from route configuration, compiled to match a whole value (as Linkerd's pathRegex does).
import { InvalidInputError } from '../shared/invalid-input-error.js';
import { err, ok, type Result } from '../shared/result.js';
import { backtrackingProblem } from './regex-backtracking.js';
import { readRegexSyntax } from './regex-syntax.js';

export class InvalidRegexError extends InvalidInputError {
  readonly kind = 'regular expression';
}

/**
 * Values longer than this many UTF-16 code units (8 KiB of ASCII) never match: the engine backtracks, and even an
 * accepted pattern such as ".*a.*" needs time quadratic in the length of a value it fails on.
 */
export const FULL_MATCH_MAX_INPUT_LENGTH = 8_192;
/** Longer patterns are refused. */
export const FULL_MATCH_MAX_PATTERN_LENGTH = 4_096;

/** A compiled pattern; `test` is true only when the whole value matches. */
export interface FullMatchRegex {
  /** The pattern as configured. */
  readonly pattern: string;
  /** Whether the whole of `value` matches; false for values over FULL_MATCH_MAX_INPUT_LENGTH code units. */
  test(value: string): boolean;
}

const LOG2_MAX_INPUT = Math.log2(FULL_MATCH_MAX_INPUT_LENGTH);

const SYNTAX_LIMITS =
  'patterns follow RE2 rules: literals, ".", classes such as [a-z], \\d, \\w and \\s, groups (...), (?:...) and (?<name>...), ' +
  'alternatives a|b, anchors ^, $ and \\b, quantifiers *, +, ?, {n}, {n,} and {n,m} with counts up to 1000; ' +
  'not accepted are backreferences (\\1, \\k<name>), lookarounds ((?=, (?!, (?<=, (?<!), inline flags such as (?i), ' +
  '\\p{...} classes, and a repeated group that contains another quantifier, such as (a+)+';

/**
 * Compiles `pattern` (JavaScript syntax without flags, restricted to what a backtracking engine runs in bounded
 * time) so that `test()` is true only when the WHOLE value matches: "/books/[0-9]+" matches "/books/12" but not
 * "/books/12/reviews" or "/api/books/12". Values are client-controlled, so patterns that can backtrack
 * catastrophically (nested quantifiers, overlapping repeated alternatives, chains of overlapping quantifiers) are
 * refused, as are backreferences, lookarounds and inline flags, and values over FULL_MATCH_MAX_INPUT_LENGTH never
 * match. The error's reason reads after the pattern, e.g. `is not a valid regular expression: Unterminated group; ...`.
 */
export function compileFullMatchRegex(pattern: string): Result<FullMatchRegex, InvalidRegexError> {
  if (typeof pattern !== 'string') {
    return err(new InvalidRegexError(String(pattern), `is a ${typeof pattern}, not a string; write the pattern as text, e.g. "/books/[0-9]+"`));
  }
  const problem = patternProblem(pattern);
  if (problem !== undefined) return err(new InvalidRegexError(pattern, problem));
  const regex = new RegExp(`^(?:${pattern})$`);
  return ok({ pattern, test: (value) => value.length <= FULL_MATCH_MAX_INPUT_LENGTH && regex.test(value) });
}

function patternProblem(pattern: string): string | undefined {
  if (pattern.length > FULL_MATCH_MAX_PATTERN_LENGTH) {
    return `is ${pattern.length} characters long; at most ${FULL_MATCH_MAX_PATTERN_LENGTH} are accepted`;
  }
  // Compile the bare pattern first: if it is valid its groups are balanced, so wrapping it cannot change its meaning.
  const invalid = compileProblem(pattern) ?? compileProblem(`^(?:${pattern})$`);
  if (invalid !== undefined) {
    return `is not a valid regular expression: ${invalid}; to match a special character such as "(", "[" or "?" literally, put a backslash before it; ${SYNTAX_LIMITS}`;
  }
  const syntax = readRegexSyntax(pattern);
  if ('refused' in syntax) return `is not accepted: it uses ${syntax.refused}; ${SYNTAX_LIMITS}`;
  const backtracking = backtrackingProblem(syntax.node, LOG2_MAX_INPUT);
  if (backtracking !== undefined) return `can backtrack catastrophically on long input: ${backtracking}; ${SYNTAX_LIMITS}`;
  return undefined;
}

function compileProblem(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Engines prefix the message with the whole pattern, which the caller already shows.
    const prefix = `Invalid regular expression: /${source}/: `;
    return message.startsWith(prefix) ? message.slice(prefix.length) : message;
  }
}
