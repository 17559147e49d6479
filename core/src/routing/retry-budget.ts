// RetryBudget: how many retries a client may add, as a share of recent requests plus a small steady allowance.
import { InvalidInputError } from '../shared/invalid-input-error.js';
import { err, ok, type Result } from '../shared/result.js';
import type { Clock } from '../time/clock.port.js';
import { describeValue, isRecord } from './untyped-value.js';

export interface RetryBudgetConfig {
  /** Retries allowed per original request in the window, e.g. 0.2 = one retry for every five requests. */
  readonly retryRatio: number;
  /** Retries allowed per second on top of the ratio, so a quiet service can still retry. */
  readonly minRetriesPerSecond: number;
  /** Length of the sliding window in which requests and retries are counted. */
  readonly ttlMs: number;
}

/** Linkerd's defaults for a ServiceProfile without a retryBudget: 20 % extra load, 10 retries/s, a 10 s window. */
export const DEFAULT_RETRY_BUDGET: RetryBudgetConfig = { retryRatio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000 };

export class InvalidRetryBudgetError extends InvalidInputError {
  readonly kind = 'retry budget';
}

const MAX_RETRY_RATIO = 1_000;
const MIN_TTL_MS = 1_000;
const MAX_TTL_MS = 60_000;

/**
 * Checks a budget against the limits Linkerd enforces: retryRatio 0..1000, minRetriesPerSecond >= 0, ttl 1 s..60 s.
 * The error's input is the bad value; its reason names the field.
 */
export function validateRetryBudget(config: RetryBudgetConfig): Result<RetryBudgetConfig, InvalidRetryBudgetError> {
  // Budgets arrive from files and the wire: check the types too, without throwing.
  if (!isRecord(config)) {
    return err(new InvalidRetryBudgetError(describeValue(config), 'is not an object; give retryRatio, minRetriesPerSecond and ttl, e.g. 0.2, 10 and 10s'));
  }
  const { retryRatio, minRetriesPerSecond, ttlMs } = config;
  const fail = (value: unknown, reason: string) => err(new InvalidRetryBudgetError(describeValue(value), reason));
  if (!(typeof retryRatio === 'number' && retryRatio >= 0 && retryRatio <= MAX_RETRY_RATIO)) {
    return fail(retryRatio, `retryRatio must be between 0 and ${MAX_RETRY_RATIO}, e.g. 0.2 for one retry per five requests`);
  }
  if (!(typeof minRetriesPerSecond === 'number' && minRetriesPerSecond >= 0 && Number.isFinite(minRetriesPerSecond))) {
    return fail(minRetriesPerSecond, 'minRetriesPerSecond must be a number >= 0, e.g. 10');
  }
  if (!(typeof ttlMs === 'number' && ttlMs >= MIN_TTL_MS && ttlMs <= MAX_TTL_MS)) {
    return fail(ttlMs, `ttl must be between 1s and 60s (${MIN_TTL_MS}..${MAX_TTL_MS} ms), e.g. 10s`);
  }
  return ok(config);
}

/** The requests and granted retries recorded at one instant. */
interface Moment {
  readonly atMs: number;
  deposits: number;
  retries: number;
}

// Absorbs floating-point rounding in `retryRatio * deposits`; far below one retry.
const EPSILON = 1e-9;
// Dropped moments are cut off the front of the queue once they are this many and over half of it.
const COMPACT_AFTER = 1_024;

/**
 * A retry budget over the window behind now, as Linkerd's proxy applies it: a retry asked for at time t is granted
 * iff the retries already granted in (t - ttl, t] are fewer than
 * `floor(retryRatio * requests deposited in (t - ttl, t] + minRetriesPerSecond * ttlMs / 1000)`.
 *
 * The whole allowance is floored, so that counting the retry just granted, the retries in (t - ttl, t] never exceed
 * `retryRatio * requests + minRetriesPerSecond * ttlMs / 1000`, and a quiet service gets
 * `floor(minRetriesPerSecond * ttlMs / 1000)` retries per ttl. A request pays for the retries asked for during the
 * ttl after it, however late they come in that ttl, so steady traffic converges to `retryRatio` retries per request.
 *
 * Counts are kept per distinct instant and only for the last ttl (older instants are dropped on every call), so the
 * memory held is bounded by the events of one ttl, and by `ttlMs` entries for a whole-millisecond clock. Calls cost
 * O(1) amortized. The config is taken as given; check untrusted values with `validateRetryBudget` first.
 */
export class RetryBudget {
  private readonly reserve: number;
  // Instants in time order, each with at least one event, all inside the window behind `nowMs`.
  private moments: Moment[] = [];
  private head = 0;
  private depositsInWindow = 0;
  private retriesInWindow = 0;
  private nowMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly config: RetryBudgetConfig,
    private readonly clock: Clock,
  ) {
    this.reserve = (config.minRetriesPerSecond * config.ttlMs) / 1_000;
  }

  /** Records one original request (not a retry); for one ttl it adds `retryRatio` retries to the budget. */
  deposit(): void {
    this.slide();
    this.momentNow().deposits += 1;
    this.depositsInWindow += 1;
  }

  /** May a retry be sent now? If so it is counted against the budget. */
  tryWithdraw(): boolean {
    this.slide();
    const allowance = this.config.retryRatio * this.depositsInWindow + this.reserve;
    // retries < floor(allowance), written so the rounding tolerance applies once.
    if (this.retriesInWindow + 1 > allowance + EPSILON) return false;
    this.momentNow().retries += 1;
    this.retriesInWindow += 1;
    return true;
  }

  /** Moves the window to end now, forgetting instants at or before now - ttl. */
  private slide(): void {
    // The clock port never goes backwards; holding the latest time keeps the queue ordered even if one did.
    this.nowMs = Math.max(this.clock.now(), this.nowMs);
    const oldestExcluded = this.nowMs - this.config.ttlMs;
    while (this.head < this.moments.length) {
      const moment = this.moments[this.head] as Moment;
      if (moment.atMs > oldestExcluded) break;
      this.depositsInWindow -= moment.deposits;
      this.retriesInWindow -= moment.retries;
      this.head += 1;
    }
    if (this.head === this.moments.length) {
      this.moments = [];
      this.head = 0;
    } else if (this.head > COMPACT_AFTER && this.head * 2 > this.moments.length) {
      this.moments = this.moments.slice(this.head);
      this.head = 0;
    }
  }

  /** The counts for the current instant, opened on first use so that instants without events take no memory. */
  private momentNow(): Moment {
    const last = this.moments[this.moments.length - 1];
    if (last?.atMs === this.nowMs) return last;
    const moment: Moment = { atMs: this.nowMs, deposits: 0, retries: 0 };
    this.moments.push(moment);
    return moment;
  }
}
