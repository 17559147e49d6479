import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RandomSource } from '../shared/random-source.port.js';
import {
  CLOCK_SKEW_ALLOWANCE_MS,
  DEFAULT_LEAF_LIFETIME_MS,
  leafValidity,
  renewalDelay,
  renewalRetryDelay,
} from './certificate-lifetime.js';

const HOUR = 3_600_000;
const now = 1_700_000_000_000;
const always = (value: number): RandomSource => ({ next: () => value });

describe('leafValidity', () => {
  it('lasts 24 h from now, with notBefore back-dated by the 20 s skew allowance', () => {
    expect(DEFAULT_LEAF_LIFETIME_MS).toBe(24 * HOUR);
    expect(CLOCK_SKEW_ALLOWANCE_MS).toBe(20_000);
    expect(leafValidity(now)).toEqual({ notBefore: now - 20_000, notAfter: now + 24 * HOUR });
  });

  it('takes another lifetime', () => {
    expect(leafValidity(now, HOUR)).toEqual({ notBefore: now - 20_000, notAfter: now + HOUR });
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses a lifetime of %d ms', (lifetime) => {
    expect(() => leafValidity(now, lifetime)).toThrow(RangeError);
  });
});

describe('renewalDelay', () => {
  it('renews a fresh 24 h leaf at 70 % of its life, counted from the back-dated notBefore', () => {
    const delay = renewalDelay(leafValidity(now), now);
    expect(delay).toBeCloseTo(0.7 * (24 * HOUR + 20_000) - 20_000, 3);
    expect(delay / HOUR).toBeCloseTo(16.8, 1);
  });

  it('counts from the current time, so a later look gives a shorter wait', () => {
    const validity = { notBefore: now, notAfter: now + 10 * HOUR };
    expect(renewalDelay(validity, now + 5 * HOUR)).toBeCloseTo(2 * HOUR, 3);
  });

  it('waits the 10 s minimum, not 0, once the renewal point is behind us or the leaf has expired', () => {
    const validity = { notBefore: now, notAfter: now + 10 * HOUR };
    expect(renewalDelay(validity, now + 8 * HOUR)).toBe(10_000);
    expect(renewalDelay(validity, now + 20 * HOUR)).toBe(10_000);
  });

  it('clamps a short lifetime up to the minimum and a long one down to 24 h', () => {
    expect(renewalDelay({ notBefore: now, notAfter: now + 5_000 }, now)).toBe(10_000);
    expect(renewalDelay({ notBefore: now, notAfter: now + 30 * 24 * HOUR }, now)).toBe(24 * HOUR);
  });

  it('follows the given ratio and bounds', () => {
    const validity = { notBefore: now, notAfter: now + 10 * HOUR };
    expect(renewalDelay(validity, now, { ratio: 0.5 })).toBe(5 * HOUR);
    expect(renewalDelay(validity, now, { maxMs: HOUR })).toBe(HOUR);
    expect(renewalDelay(validity, now + 9 * HOUR, { minMs: 60_000 })).toBe(60_000);
  });

  it.each([{ ratio: 0 }, { ratio: 1.5 }, { ratio: Number.NaN }, { minMs: 10, maxMs: 5 }, { minMs: -1 }])(
    'refuses options %j',
    (options) => {
      expect(() => renewalDelay(leafValidity(now), now, options)).toThrow(RangeError);
    },
  );
});

describe('renewalRetryDelay', () => {
  it('doubles from 10 s up to 5 min without jitter', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 100, 5_000].map((attempt) => renewalRetryDelay(attempt, always(0.7), { jitter: 0 }));
    expect(delays).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000, 300_000]);
  });

  it('adds up to half of each delay at random, starting from the 10 s minimum', () => {
    expect(renewalRetryDelay(0, always(0))).toBe(10_000);
    expect(renewalRetryDelay(0, always(0.5))).toBe(12_500);
    expect(renewalRetryDelay(0, always(0.999_999))).toBeCloseTo(15_000, -1);
    expect(renewalRetryDelay(3, always(0.5))).toBe(100_000);
  });

  it('spreads the first retries of workloads that failed together, never below 10 s', () => {
    const delays = Array.from({ length: 100 }, (_, i) => renewalRetryDelay(0, always(i / 100)));
    expect(new Set(delays).size).toBe(100);
    expect(Math.min(...delays)).toBe(10_000);
    expect(Math.max(...delays)).toBeLessThan(15_000);
  });

  it('gives two workloads with different random draws different first retries', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 999 }), (i, j) => {
        fc.pre(i !== j);
        expect(renewalRetryDelay(0, always(i / 1_000))).not.toBe(renewalRetryDelay(0, always(j / 1_000)));
      }),
    );
  });

  it('spreads later retries too, below the 5 min cap as well as at it', () => {
    const at = (attempt: number): number[] => Array.from({ length: 100 }, (_, i) => renewalRetryDelay(attempt, always(i / 100)));
    const fourth = at(4);
    expect(new Set(fourth).size).toBe(100);
    expect(Math.min(...fourth)).toBe(160_000);
    expect(Math.max(...fourth)).toBeLessThan(240_000);
    const capped = at(20);
    expect(new Set(capped).size).toBe(100);
    expect(Math.min(...capped)).toBe(200_000);
    expect(Math.max(...capped)).toBeLessThan(300_000);
    expect(renewalRetryDelay(20, always(0.999_999))).toBeCloseTo(300_000, -1);
  });

  it('stays within [10 s, max] for any attempt, draw and options', () => {
    fc.assert(
      fc.property(
        fc.nat(100_000),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 10_000, max: 3_600_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, draw, maxMs, jitter) => {
          const delay = renewalRetryDelay(attempt, always(draw), { maxMs, baseMs: 1_000, jitter });
          expect(delay).toBeGreaterThanOrEqual(10_000);
          expect(delay).toBeLessThanOrEqual(maxMs);
        },
      ),
    );
  });

  it.each<[number, object]>([
    [-1, {}],
    [Number.NaN, {}],
    [0, { maxMs: 5_000 }],
    [0, { baseMs: 0 }],
    [0, { baseMs: 600_000 }],
    [0, { jitter: 2 }],
  ])('refuses attempt %d with options %j', (attempt, options) => {
    expect(() => renewalRetryDelay(attempt, always(0), options)).toThrow(RangeError);
  });
});
