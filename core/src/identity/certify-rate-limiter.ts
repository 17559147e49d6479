// CertifyRateLimiter: a token bucket per key (per identity) that bounds how often a workload may ask for a certificate.

export interface CertifyRateLimiterOptions {
  /** How many requests a key may make at once, after a quiet period; 5 by default. */
  readonly burst: number;
  /** One more request is allowed per this many milliseconds, up to the burst; 10 s by default. */
  readonly refillIntervalMs: number;
  /** How many keys are tracked at most; beyond it the key used least recently is forgotten. 10,000 by default. */
  readonly maxKeys: number;
}

export const DEFAULT_CERTIFY_RATE_LIMIT: CertifyRateLimiterOptions = {
  burst: 5,
  refillIntervalMs: 10_000,
  maxKeys: 10_000,
};

/** The answer of tryAcquire: granted, or refused with how long until the next request of that key would be granted. */
export type CertifyRateDecision =
  | { readonly granted: true }
  | { readonly granted: false; readonly retryAfterMs: number };

interface Bucket {
  /** The credit left, in milliseconds of refill time: each grant costs refillIntervalMs. */
  credit: number;
  /** The time up to which credit was last refilled, epoch ms. */
  refilledAt: number;
}

/**
 * Each key starts with a full bucket of `burst` requests and earns one back per `refillIntervalMs`, so in any
 * window of t ms a key is granted at most burst + t / refillIntervalMs requests. Time comes in as `now` (epoch ms,
 * from the Clock port); a `now` earlier than the last one seen for a key adds no credit.
 *
 * Credit is kept in milliseconds of refill time rather than in fractions of a request, so with whole-millisecond
 * times the arithmetic is exact and the bound holds without rounding slack.
 *
 * Forgetting a key gives it a full bucket on its next request. The key used least recently is the one forgotten:
 * it has had the longest to refill, so its bucket is the most likely to be full already.
 */
export class CertifyRateLimiter {
  private readonly options: CertifyRateLimiterOptions;
  private readonly capacity: number;
  // Map keeps insertion order; a key is moved to the end on each use, so the first key is the stalest.
  private readonly buckets = new Map<string, Bucket>();

  /** @throws RangeError if an option is out of range (a programming error, not user input). */
  constructor(options: Partial<CertifyRateLimiterOptions> = {}) {
    this.options = { ...DEFAULT_CERTIFY_RATE_LIMIT, ...options };
    const { burst, refillIntervalMs, maxKeys } = this.options;
    requireOption('burst', burst, Number.isInteger(burst) && burst >= 1, 'a whole number of requests, 1 or more');
    requireOption('refillIntervalMs', refillIntervalMs, refillIntervalMs > 0 && refillIntervalMs < Infinity, 'a positive number of milliseconds');
    requireOption('maxKeys', maxKeys, Number.isInteger(maxKeys) && maxKeys >= 1, 'a whole number of keys, 1 or more');
    this.capacity = burst * refillIntervalMs;
  }

  /** Takes one request from `key`'s bucket at time `now`, or says how long until one is available. */
  tryAcquire(key: string, now: number): CertifyRateDecision {
    const bucket = this.touch(key, now);
    const cost = this.options.refillIntervalMs;
    if (bucket.credit >= cost) {
      bucket.credit -= cost;
      return { granted: true };
    }
    return { granted: false, retryAfterMs: cost - bucket.credit };
  }

  /** How many keys are tracked now; at most maxKeys. */
  get trackedKeys(): number {
    return this.buckets.size;
  }

  // The bucket of `key` refilled up to `now`, moved to the most recently used end; a new key starts full.
  private touch(key: string, now: number): Bucket {
    const bucket = this.buckets.get(key) ?? { credit: this.capacity, refilledAt: now };
    this.buckets.delete(key);
    if (now > bucket.refilledAt) {
      bucket.credit = Math.min(this.capacity, bucket.credit + (now - bucket.refilledAt));
      bucket.refilledAt = now;
    }
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.options.maxKeys) this.forgetStalest();
    return bucket;
  }

  private forgetStalest(): void {
    const stalest = this.buckets.keys().next();
    if (stalest.done !== true) this.buckets.delete(stalest.value);
  }
}

// These options come from code, not from users, so a wrong one is a bug: it is thrown, not returned.
function requireOption(name: string, value: number, valid: boolean, expected: string): void {
  if (!valid) throw new RangeError(`${name} is ${value}; expected ${expected}`);
}
