// Durations in milliseconds, and parsing of the "300ms", "10s", "1m", "1h30m" strings used in config files.
import { InvalidInputError } from '../shared/invalid-input-error.js';
import { err, ok, type Result } from '../shared/result.js';

export type Milliseconds = number;

export class InvalidDurationError extends InvalidInputError {
  readonly kind = 'duration';
}

const unitMs: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/** Parses a Go-style duration such as "250ms", "10s", "1h30m" into milliseconds. */
export function parseDuration(input: string): Result<Milliseconds, InvalidDurationError> {
  const text = input.trim();
  if (text === '') return err(new InvalidDurationError(input, 'is empty; write a number with a unit, e.g. "10s"'));
  if (text === '0') return ok(0);
  let total = 0;
  part.lastIndex = 0;
  while (part.lastIndex < text.length) {
    const at = part.lastIndex;
    const match = part.exec(text);
    if (!match) {
      return err(
        new InvalidDurationError(input, `unexpected "${text.slice(at)}"; units are ms, s, m and h, e.g. "1m30s"`),
      );
    }
    total += Number(match[1]) * (unitMs[match[2] as string] as number);
  }
  return ok(total);
}

/** Formats milliseconds the way parseDuration reads them, e.g. 90000 -> "1m30s". */
export function formatDuration(ms: Milliseconds): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join('');
}
