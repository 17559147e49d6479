import { describe, expect, it } from 'vitest';
import { difference, median, ratio } from './statistics.js';

describe('median', () => {
  it('takes the middle of an odd count and the mean of the middle two of an even count', () => {
    expect(median([30, 10, 20])).toBe(20);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('ignores non-finite values and is undefined with none left', () => {
    expect(median([Number.NaN, 7])).toBe(7);
    expect(median([])).toBeUndefined();
  });
});

describe('ratio and difference', () => {
  it('divides and subtracts', () => {
    expect(ratio(13_000, 26_000)).toBe(0.5);
    expect(difference(1.25, 1)).toBe(0.25);
  });

  it('are undefined when a side is missing or the reference is zero', () => {
    expect(ratio(1, 0)).toBeUndefined();
    expect(ratio(undefined, 2)).toBeUndefined();
    expect(difference(2, undefined)).toBeUndefined();
    expect(difference(Number.NaN, 1)).toBeUndefined();
  });
});
