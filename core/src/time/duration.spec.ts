import { describe, expect, it } from 'vitest';
import { formatDuration, InvalidDurationError, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1.5s', 1_500],
    ['0', 0],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, value: ms });
  });

  it.each(['', '10', '5 minutes', '10x', '-1s', 's'])('refuses %j with an error naming the input', (text) => {
    const result = parseDuration(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidDurationError);
    expect(result.error.input).toBe(text);
    expect(result.error.toString()).toContain(`invalid duration ${JSON.stringify(text)}`);
  });

  it('round-trips through formatDuration', () => {
    for (const ms of [1, 999, 1_000, 61_001, 3_600_000 + 5]) {
      expect(parseDuration(formatDuration(ms))).toEqual({ ok: true, value: ms });
    }
  });
});
