// RetryBudget: how many retries a client may add, as a share of recent requests plus a small steady allowance.
import { InvalidInputError } from '../shared/invalid-input-error.js';
import { err, ok, type Result } from '../shared/result.js';
import type { Clock } from '../time/clock.port.js';

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
  const { retryRatio, minRetriesPerSecond, ttlMs } = config;
  const fail = (value: number, reason: string) => err(new InvalidRetryBudgetError(String(value), reason));
  if (!(retryRatio >= 0 && retryRatio <= MAX_RETRY_RATIO)) {
    return fail(retryRatio, `retryRatio must be between 0 and ${MAX_RETRY_RATIO}, e.g. 0.2 for one retry per five requests`);
  }
  if (!(minRetriesPerSecond >= 0 && Number.isFinite(minRetriesPerSecond))) {
    return fail(minRetriesPerSecond, 'minRetriesPerSecond must be a number >= 0, e.g. 10');
  }
  if (!(ttlMs >= MIN_TTL_MS && ttlMs <= MAX_TTL_MS)) {
    return fail(ttlMs, `ttl must be between 1s and 60s (${MIN_TTL_MS}..${MAX_TTL_MS} ms), e.g. 10s`);
  }
  return ok(config);
}

/** A point where a window may start: the time of a group of events and the counts before that group. */
interface WindowStart {
  readonly atMs: number;
  readonly depositsBefore: number;
  readonly retriesBefore: number;
}

// Absorbs floating-point rounding in `retryRatio * deposits`; far below one retry.
const EPSILON = 1e-9;

/**
 * A retry budget with an exact sliding window: in every window of `ttlMs`, the retries granted never exceed
 * `retryRatio * requests deposited in that window + minRetriesPerSecond * ttlMs / 1000`. A retry is granted only
 * if, counting it, that still holds for every window that contains the current instant.
 *
 * The tightest window is found with a monotonic queue of window starts, so each call is O(1) amortized, and the
 * memory held is bounded by the retries granted in one window (a start is kept only if retries follow it).
 * The config is taken as given; check untrusted values with `validateRetryBudget` first.
 */
export class RetryBudget {
  private readonly reserve: number;
  private deposits = 0;
  private retries = 0;
  private lastEventMs = Number.NEGATIVE_INFINITY;
  // Window starts in time order whose "pressure" (ratio * deposits - retries before them) strictly decreases.
  private starts: WindowStart[] = [];
  private head = 0;

  constructor(
    private readonly config: RetryBudgetConfig,
    private readonly clock: Clock,
  ) {
    this.reserve = (config.minRetriesPerSecond * config.ttlMs) / 1_000;
  }

  /** Records one original request (not a retry); each adds `retryRatio` retries to the budget for one window. */
  deposit(): void {
    this.advance();
    this.deposits += 1;
  }

  /** May a retry be sent now? If so it is counted against the budget. */
  tryWithdraw(): boolean {
    this.advance();
    const tightest = this.starts[this.head] as WindowStart;
    const retriesInWindow = this.retries - tightest.retriesBefore + 1;
    const allowed = this.config.retryRatio * (this.deposits - tightest.depositsBefore) + this.reserve;
    if (retriesInWindow > allowed + EPSILON) return false;
    this.retries += 1;
    return true;
  }

  /** Opens a new window start when time has moved, and forgets starts that no window containing now can use. */
  private advance(): void {
    const now = Math.max(this.clock.now(), this.lastEventMs);
    if (now > this.lastEventMs) {
      this.lastEventMs = now;
      this.pushStart({ atMs: now, depositsBefore: this.deposits, retriesBefore: this.retries });
    }
    // A window [s, s + ttl) contains now only if s > now - ttl.
    const oldest = now - this.config.ttlMs;
    while (this.head < this.starts.length - 1 && (this.starts[this.head] as WindowStart).atMs <= oldest) this.head += 1;
    if (this.head > 64 && this.head * 2 > this.starts.length) {
      this.starts = this.starts.slice(this.head);
      this.head = 0;
    }
  }

  /** Adds a start, dropping older ones that can never again be the tightest (their pressure is not higher). */
  private pushStart(start: WindowStart): void {
    while (this.starts.length > this.head) {
      const last = this.starts[this.starts.length - 1] as WindowStart;
      // pressure(start) - pressure(last), computed from count differences to stay exact on long-lived budgets.
      const rise =
        this.config.retryRatio * (start.depositsBefore - last.depositsBefore) - (start.retriesBefore - last.retriesBefore);
      if (rise < 0) break;
      this.starts.pop();
    }
    this.starts.push(start);
  }
}
