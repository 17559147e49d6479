// Certificate lifetimes: the validity window of a leaf, when to renew it, and how long to wait after a failed try.
import type { RandomSource } from '../shared/random-source.port.js';

/** How long a workload's leaf certificate lasts: 24 h. */
export const DEFAULT_LEAF_LIFETIME_MS = 24 * 60 * 60 * 1_000;

/** How far a leaf's notBefore is back-dated, so a peer whose clock is a little behind still accepts it. */
export const CLOCK_SKEW_ALLOWANCE_MS = 20_000;

/** The shortest wait between two certify requests of one workload, whatever the schedule says. */
export const MIN_RENEWAL_INTERVAL_MS = 10_000;

/** The longest a workload waits before renewing its certificate. */
export const MAX_RENEWAL_DELAY_MS = DEFAULT_LEAF_LIFETIME_MS;

/** The longest wait between two failed certify requests. */
export const MAX_RENEWAL_RETRY_DELAY_MS = 5 * 60 * 1_000;

/** When a certificate is valid, in epoch milliseconds: from notBefore (inclusive) to notAfter. */
export interface CertificateValidity {
  readonly notBefore: number;
  readonly notAfter: number;
}

export interface RenewalDelayOptions {
  /** The share of the lifetime after which to renew; 0.7 by default. */
  readonly ratio?: number;
  /** The shortest delay; MIN_RENEWAL_INTERVAL_MS by default. */
  readonly minMs?: number;
  /** The longest delay; MAX_RENEWAL_DELAY_MS by default. */
  readonly maxMs?: number;
}

export interface RenewalRetryOptions {
  /** The delay before the first retry, doubled on each further one; 10 s by default. */
  readonly baseMs?: number;
  /** The longest delay; MAX_RENEWAL_RETRY_DELAY_MS by default. */
  readonly maxMs?: number;
  /** The share of each delay added at random, so workloads that failed together retry apart; 0.5 by default. */
  readonly jitter?: number;
}

/**
 * The validity of a leaf issued at `now`: notBefore is back-dated by CLOCK_SKEW_ALLOWANCE_MS, notAfter is
 * `now + lifetimeMs`, so the window spans lifetimeMs + CLOCK_SKEW_ALLOWANCE_MS.
 * @throws RangeError if lifetimeMs is not a positive finite number (a programming error, not user input).
 */
export function leafValidity(now: number, lifetimeMs: number = DEFAULT_LEAF_LIFETIME_MS): CertificateValidity {
  const finitePositive = lifetimeMs > 0 && lifetimeMs < Infinity;
  requireArgument('lifetimeMs', lifetimeMs, finitePositive, 'a positive number of milliseconds');
  return { notBefore: now - CLOCK_SKEW_ALLOWANCE_MS, notAfter: now + lifetimeMs };
}

/**
 * How long to wait from `now` before renewing a certificate: until `ratio` of its lifetime (measured from
 * notBefore) has passed, clamped to [minMs, maxMs].
 *
 * When that point is already behind us (or the certificate has expired), the answer is minMs, not 0: this
 * delay is computed right after every issuance, so a 0 would turn a too-short lifetime or a skewed clock into a
 * tight loop of certify requests against the CA. minMs keeps one workload to one request per minMs at most.
 * @throws RangeError if the options are out of range (ratio not in (0, 1], minMs > maxMs).
 */
export function renewalDelay(validity: CertificateValidity, now: number, options: RenewalDelayOptions = {}): number {
  const { ratio = 0.7, minMs = MIN_RENEWAL_INTERVAL_MS, maxMs = MAX_RENEWAL_DELAY_MS } = options;
  requireArgument('ratio', ratio, ratio > 0 && ratio <= 1, 'a share in (0, 1]');
  requireArgument('minMs', minMs, minMs >= 0 && minMs <= maxMs, `a number of milliseconds in [0, maxMs = ${maxMs}]`);
  const renewAt = validity.notBefore + ratio * (validity.notAfter - validity.notBefore);
  return clamp(renewAt - now, minMs, maxMs);
}

/**
 * How long to wait before retry number `attempt` (0 for the first retry) after a failed certify request.
 * The nominal delay is baseMs doubled per attempt, kept within [MIN_RENEWAL_INTERVAL_MS, maxMs]; the wait is
 * nominal x (1 + jitter x r) for a random draw r. The jitter spreads upward so that even the first retries,
 * whose nominal delay is the 10 s minimum, are spread out: workloads that failed together do not retry in
 * lockstep. Where that would pass maxMs, the window [nominal, nominal x (1 + jitter)] slides down to end at maxMs,
 * so retries at the cap are spread too. The wait is never below MIN_RENEWAL_INTERVAL_MS nor above maxMs.
 * @throws RangeError if attempt is negative or the options are out of range.
 */
export function renewalRetryDelay(attempt: number, random: RandomSource, options: RenewalRetryOptions = {}): number {
  const { baseMs = MIN_RENEWAL_INTERVAL_MS, maxMs = MAX_RENEWAL_RETRY_DELAY_MS, jitter = 0.5 } = options;
  requireArgument('attempt', attempt, attempt >= 0, 'a retry count of 0 or more');
  requireArgument('maxMs', maxMs, maxMs >= MIN_RENEWAL_INTERVAL_MS, `at least ${MIN_RENEWAL_INTERVAL_MS} ms`);
  requireArgument('baseMs', baseMs, baseMs > 0 && baseMs <= maxMs, `a number of milliseconds in (0, maxMs = ${maxMs}]`);
  requireArgument('jitter', jitter, jitter >= 0 && jitter <= 1, 'a share in [0, 1]');
  // 2 ** attempt becomes Infinity for huge attempts; clamp brings it back to maxMs.
  const nominal = clamp(baseMs * 2 ** attempt, MIN_RENEWAL_INTERVAL_MS, maxMs);
  const highest = Math.min(maxMs, nominal * (1 + jitter));
  const lowest = Math.max(MIN_RENEWAL_INTERVAL_MS, highest / (1 + jitter));
  return clamp(lowest + (highest - lowest) * random.next(), MIN_RENEWAL_INTERVAL_MS, maxMs);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

// These arguments come from code, not from users, so a wrong one is a bug: it is thrown, not returned.
// Comparisons with NaN are false, so NaN is refused too.
function requireArgument(name: string, value: number, valid: boolean, expected: string): void {
  if (!valid) throw new RangeError(`${name} is ${value}; expected ${expected}`);
}
