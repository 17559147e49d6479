import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketIndex, RESPONSE_LATENCY_BUCKETS_MS } from './latency-buckets.js';

describe('RESPONSE_LATENCY_BUCKETS_MS', () => {
  it('has the 25 bounds from 1 ms to 50 s that existing dashboards expect', () => {
    expect(RESPONSE_LATENCY_BUCKETS_MS).toHaveLength(25);
    expect(RESPONSE_LATENCY_BUCKETS_MS[0]).toBe(1);
    expect(RESPONSE_LATENCY_BUCKETS_MS.at(-1)).toBe(50_000);
    expect([...RESPONSE_LATENCY_BUCKETS_MS].sort((a, b) => a - b)).toEqual(RESPONSE_LATENCY_BUCKETS_MS);
  });

  it('puts a value in the first bucket whose bound holds it, and beyond 50 s in +Inf', () => {
    expect(bucketIndex(0.3)).toBe(0);
    expect(bucketIndex(1)).toBe(0);
    expect(bucketIndex(1.01)).toBe(1);
    expect(bucketIndex(75)).toBe(RESPONSE_LATENCY_BUCKETS_MS.indexOf(100));
    expect(bucketIndex(50_001)).toBe(RESPONSE_LATENCY_BUCKETS_MS.length);
  });

  it('agrees with a linear scan for any latency', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 100_000, noNaN: true }), (value) => {
        const linear = RESPONSE_LATENCY_BUCKETS_MS.findIndex((bound) => value <= bound);
        expect(bucketIndex(value)).toBe(linear === -1 ? RESPONSE_LATENCY_BUCKETS_MS.length : linear);
      }),
    );
  });
});
