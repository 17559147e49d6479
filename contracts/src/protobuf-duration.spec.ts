import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { durationFromMillis, millisFromDuration } from './protobuf-duration.js';

describe('durationFromMillis / millisFromDuration', () => {
  it('splits milliseconds into seconds and nanos', () => {
    expect(durationFromMillis(1_500)).toEqual({ seconds: 1n, nanos: 500_000_000 });
    expect(durationFromMillis(0.25)).toEqual({ seconds: 0n, nanos: 250_000 });
    expect(durationFromMillis(0)).toEqual({ seconds: 0n, nanos: 0 });
  });

  it('gives seconds and nanos the same sign for negative spans', () => {
    expect(durationFromMillis(-1_500)).toEqual({ seconds: -1n, nanos: -500_000_000 });
  });

  it('keeps nanos below one second when rounding carries', () => {
    expect(durationFromMillis(1_999.999_999_9)).toEqual({ seconds: 2n, nanos: 0 });
  });

  it('round-trips whole milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), (ms) => {
        const duration = durationFromMillis(ms);

        expect(Math.abs(duration.nanos)).toBeLessThan(1_000_000_000);
        expect(millisFromDuration(duration)).toBe(ms);
      }),
    );
  });

  it('refuses NaN and Infinity, naming the value', () => {
    expect(() => durationFromMillis(Number.NaN)).toThrow(/NaN ms/);
    expect(() => durationFromMillis(Number.POSITIVE_INFINITY)).toThrow(/Infinity ms/);
  });
});
