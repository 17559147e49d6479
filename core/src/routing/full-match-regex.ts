// Regular expressions from route configuration, compiled to match a whole value (as Linkerd's pathRegex does).
import { InvalidInputError } from '../shared/invalid-input-error.js';
import { err, ok, type Result } from '../shared/result.js';

export class InvalidRegexError extends InvalidInputError {
  readonly kind = 'regular expression';
}

/**
 * Compiles `pattern` (JavaScript syntax, no flags) so that `test()` is true only when the WHOLE value matches:
 * "/books/[0-9]+" matches "/books/12" but not "/books/12/reviews" or "/api/books/12".
 * The error's reason reads after the pattern, e.g. `is not a valid regular expression: Unterminated group; ...`.
 */
export function compileFullMatchRegex(pattern: string): Result<RegExp, InvalidRegexError> {
  // Compile the bare pattern first: if it is valid its groups are balanced, so wrapping it cannot change its meaning.
  const problem = compileProblem(pattern) ?? compileProblem(`^(?:${pattern})$`);
  if (problem !== undefined) {
    return err(
      new InvalidRegexError(
        pattern,
        `is not a valid regular expression: ${problem}; to match a special character such as "(", "[" or "?" literally, put a backslash before it`,
      ),
    );
  }
  return ok(new RegExp(`^(?:${pattern})$`));
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
