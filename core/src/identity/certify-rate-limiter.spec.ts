import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CertifyRateLimiter, DEFAULT_CERTIFY_RATE_LIMIT } from './certify-rate-limiter.js';

const t0 = 1_700_000_000_000;
const web = 'web.shop.serviceaccount.identity.weft.cluster.local';
const books = 'books.shop.serviceaccount.identity.weft.cluster.local';

function grants(limiter: CertifyRateLimiter, key: string, now: number, times: number): boolean[] {
  return Array.from({ length: times }, () => limiter.tryAcquire(key, now).granted);
}

describe('CertifyRateLimiter', () => {
  it('allows a burst of 5 per identity by default, then one more per 10 s', () => {
    expect(DEFAULT_CERTIFY_RATE_LIMIT).toEqual({ burst: 5, refillIntervalMs: 10_000, maxKeys: 10_000 });
    const limiter = new CertifyRateLimiter();
    expect(grants(limiter, web, t0, 6)).toEqual([true, true, true, true, true, false]);
    expect(limiter.tryAcquire(web, t0 + 9_999).granted).toBe(false);
    expect(limiter.tryAcquire(web, t0 + 10_000).granted).toBe(true);
    expect(limiter.tryAcquire(web, t0 + 10_000).granted).toBe(false);
  });

  it('says how long until the next request would be granted', () => {
    const limiter = new CertifyRateLimiter({ burst: 1, refillIntervalMs: 10_000 });
    expect(limiter.tryAcquire(web, t0)).toEqual({ granted: true });
    expect(limiter.tryAcquire(web, t0 + 2_500)).toEqual({ granted: false, retryAfterMs: 7_500 });
    expect(limiter.tryAcquire(web, t0 + 10_000)).toEqual({ granted: true });
  });

  it('keeps one bucket per identity, so a busy identity does not slow down another', () => {
    const limiter = new CertifyRateLimiter({ burst: 2 });
    expect(grants(limiter, web, t0, 3)).toEqual([true, true, false]);
    expect(grants(limiter, books, t0, 2)).toEqual([true, true]);
  });

  it('refills no further than the burst after a long quiet period', () => {
    const limiter = new CertifyRateLimiter({ burst: 3, refillIntervalMs: 1_000 });
    grants(limiter, web, t0, 3);
    expect(grants(limiter, web, t0 + 3_600_000, 4)).toEqual([true, true, true, false]);
  });

  it('adds no credit when the time given goes backwards', () => {
    const limiter = new CertifyRateLimiter({ burst: 1, refillIntervalMs: 1_000 });
    expect(limiter.tryAcquire(web, t0).granted).toBe(true);
    expect(limiter.tryAcquire(web, t0 - 60_000).granted).toBe(false);
    expect(limiter.tryAcquire(web, t0 + 999).granted).toBe(false);
    expect(limiter.tryAcquire(web, t0 + 1_000).granted).toBe(true);
  });

  it('tracks at most maxKeys identities, forgetting the one used least recently', () => {
    const limiter = new CertifyRateLimiter({ burst: 1, maxKeys: 2 });
    limiter.tryAcquire('a', t0);
    limiter.tryAcquire('b', t0);
    limiter.tryAcquire('a', t0 + 1); // refused, but it makes 'a' the most recently used
    limiter.tryAcquire('c', t0 + 2); // forgets 'b'
    expect(limiter.trackedKeys).toBe(2);
    expect(limiter.tryAcquire('a', t0 + 3).granted).toBe(false);
    expect(limiter.tryAcquire('b', t0 + 3).granted).toBe(true);
  });

  it.each([
    [{ burst: 0 }, /burst is 0/],
    [{ burst: 1.5 }, /burst is 1.5/],
    [{ refillIntervalMs: 0 }, /refillIntervalMs is 0/],
    [{ refillIntervalMs: Number.NaN }, /refillIntervalMs is NaN/],
    [{ maxKeys: 0 }, /maxKeys is 0/],
  ])('refuses the options %j', (options, message) => {
    expect(() => new CertifyRateLimiter(options)).toThrow(RangeError);
    expect(() => new CertifyRateLimiter(options)).toThrow(message);
  });

  describe('properties', () => {
    const options = fc.record({
      burst: fc.integer({ min: 1, max: 10 }),
      refillIntervalMs: fc.integer({ min: 1, max: 20_000 }),
    });
    // Requests of one key at non-decreasing whole-millisecond times.
    const requestTimes = fc
      .array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 200 })
      .map((gaps) => gaps.reduce<number[]>((times, gap) => [...times, (times.at(-1) ?? t0) + gap], []));

    it('never grants more than burst + t / refillInterval requests in any window of t ms', () => {
      fc.assert(
        fc.property(options, requestTimes, ({ burst, refillIntervalMs }, times) => {
          const limiter = new CertifyRateLimiter({ burst, refillIntervalMs });
          const granted = times.filter((now) => limiter.tryAcquire(web, now).granted);
          for (let first = 0; first < granted.length; first++) {
            for (let last = first; last < granted.length; last++) {
              const window = (granted[last] as number) - (granted[first] as number);
              expect(last - first + 1).toBeLessThanOrEqual(burst + window / refillIntervalMs);
            }
          }
        }),
      );
    });

    it('grants every request of a key that waits as long as it was told to', () => {
      const gaps = fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 200 });
      fc.assert(
        fc.property(options, gaps, ({ burst, refillIntervalMs }, pauses) => {
          const limiter = new CertifyRateLimiter({ burst, refillIntervalMs });
          let now = t0;
          for (const pause of pauses) {
            const decision = limiter.tryAcquire(web, now);
            if (!decision.granted) {
              expect(decision.retryAfterMs).toBeGreaterThan(0);
              expect(decision.retryAfterMs).toBeLessThanOrEqual(refillIntervalMs);
              now += decision.retryAfterMs;
              expect(limiter.tryAcquire(web, now).granted).toBe(true);
            }
            now += pause;
          }
        }),
      );
    });

    it("gives a key the same answers whatever other keys do, as long as it is not forgotten", () => {
      const request = fc.record({ key: fc.constantFrom('a', 'b', 'c'), gap: fc.integer({ min: 0, max: 3_000 }) });
      fc.assert(
        fc.property(options, fc.array(request, { maxLength: 150 }), ({ burst, refillIntervalMs }, requests) => {
          const shared = new CertifyRateLimiter({ burst, refillIntervalMs });
          const alone = new CertifyRateLimiter({ burst, refillIntervalMs });
          let now = t0;
          for (const { key, gap } of requests) {
            now += gap;
            const answer = shared.tryAcquire(key, now);
            if (key === 'a') expect(answer).toEqual(alone.tryAcquire(key, now));
          }
        }),
      );
    });

    it('never tracks more than maxKeys keys', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 5 }), fc.array(fc.string({ maxLength: 3 }), { maxLength: 100 }), (maxKeys, keys) => {
          const limiter = new CertifyRateLimiter({ maxKeys });
          keys.forEach((key, i) => limiter.tryAcquire(key, t0 + i));
          expect(limiter.trackedKeys).toBe(Math.min(maxKeys, new Set(keys).size));
        }),
      );
    });
  });
});
