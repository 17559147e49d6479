// InvalidToolOutputError: a load tool (wrk, hey, h2load, a bench helper) printed something the harness cannot read.
import { InvalidInputError } from '@weft/core';

export class InvalidToolOutputError extends InvalidInputError {
  readonly kind = 'tool output';
}

/** The first capture group of `pattern` in `text`, or undefined. */
export function captureFirst(text: string, pattern: RegExp): string | undefined {
  return pattern.exec(text)?.[1];
}

const durationUnitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Reads a tool's duration such as "633.25us", "1.74ms", "3.00s" into milliseconds; undefined if it is not one. */
export function parseToolDurationMs(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)$/.exec(text.trim());
  if (!match) return undefined;
  // Rounded to nanoseconds, so "633.25us" reads as 0.63325 and not as a binary neighbour of it.
  return Math.round(Number(match[1]) * (durationUnitMs[match[2] as string] as number) * 1e6) / 1e6;
}
