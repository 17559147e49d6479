import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_BUDGET,
  InvalidRetryBudgetError,
  RetryBudget,
  type RetryBudgetConfig,
  validateRetryBudget,
} from './retry-budget.js';

function manualClock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function withdrawMany(budget: RetryBudget, attempts: number): number {
  let granted = 0;
  for (let i = 0; i < attempts; i++) if (budget.tryWithdraw()) granted += 1;
  return granted;
}

describe('validateRetryBudget', () => {
  it("accepts Linkerd's defaults: 20 % of requests, 10 retries/s, a 10 s window", () => {
    expect(DEFAULT_RETRY_BUDGET).toEqual({ retryRatio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000 });
    expect(validateRetryBudget(DEFAULT_RETRY_BUDGET)).toEqual({ ok: true, value: DEFAULT_RETRY_BUDGET });
  });

  it.each([
    [{ retryRatio: -0.1 }, '-0.1', 'retryRatio'],
    [{ retryRatio: 1_001 }, '1001', 'retryRatio'],
    [{ retryRatio: Number.NaN }, 'NaN', 'retryRatio'],
    [{ minRetriesPerSecond: -1 }, '-1', 'minRetriesPerSecond'],
    [{ minRetriesPerSecond: Number.POSITIVE_INFINITY }, 'Infinity', 'minRetriesPerSecond'],
    [{ ttlMs: 999 }, '999', 'ttl'],
    [{ ttlMs: 60_001 }, '60001', 'ttl'],
  ] as const)('refuses %o, naming the field and the value %s', (change, input, field) => {
    const result = validateRetryBudget({ ...DEFAULT_RETRY_BUDGET, ...change });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidRetryBudgetError);
    expect(result.error.input).toBe(input);
    expect(result.error.toString()).toContain(`invalid retry budget ${JSON.stringify(input)}: ${field}`);
  });

  it('accepts the limits themselves', () => {
    for (const config of [
      { retryRatio: 0, minRetriesPerSecond: 0, ttlMs: 1_000 },
      { retryRatio: 1_000, minRetriesPerSecond: 100, ttlMs: 60_000 },
    ]) {
      expect(validateRetryBudget(config).ok).toBe(true);
    }
  });
});

describe('RetryBudget', () => {
  it('lets a quiet service retry minRetriesPerSecond x ttl times per window, then again once the window has passed', () => {
    const clock = manualClock(1_000);
    const budget = new RetryBudget(DEFAULT_RETRY_BUDGET, clock);
    expect(withdrawMany(budget, 150)).toBe(100);
    clock.advance(9_999);
    expect(budget.tryWithdraw()).toBe(false);
    clock.advance(1);
    expect(withdrawMany(budget, 150)).toBe(100);
  });

  it('adds retryRatio retries per request deposited', () => {
    const budget = new RetryBudget({ retryRatio: 0.2, minRetriesPerSecond: 0, ttlMs: 10_000 }, manualClock());
    expect(budget.tryWithdraw()).toBe(false);
    for (let i = 0; i < 100; i++) budget.deposit();
    expect(withdrawMany(budget, 50)).toBe(20);
  });

  it('lets a burst of requests pay for a burst of retries, then allows only the minimum until the window passes', () => {
    const clock = manualClock();
    const budget = new RetryBudget({ retryRatio: 0.5, minRetriesPerSecond: 1, ttlMs: 2_000 }, clock);
    for (let i = 0; i < 10; i++) budget.deposit();
    expect(withdrawMany(budget, 10)).toBe(7); // 10 x 0.5 + 1/s x 2 s
    clock.advance(1_000);
    expect(budget.tryWithdraw()).toBe(false);
    clock.advance(1_000);
    expect(withdrawMany(budget, 10)).toBe(2);
  });

  it('does not let requests pay for retries made later, beyond the minimum (a window may start after them)', () => {
    const clock = manualClock();
    const budget = new RetryBudget({ retryRatio: 1, minRetriesPerSecond: 1, ttlMs: 2_000 }, clock);
    for (let i = 0; i < 10; i++) budget.deposit();
    clock.advance(1);
    expect(withdrawMany(budget, 10)).toBe(2);
  });

  it('under steady traffic grants about retryRatio x requests + the minimum per window', () => {
    const clock = manualClock();
    const budget = new RetryBudget({ retryRatio: 0.2, minRetriesPerSecond: 1, ttlMs: 10_000 }, clock);
    const grantedPerSecond: number[] = [];
    for (let second = 0; second < 30; second++) {
      let granted = 0;
      for (let tick = 0; tick < 100; tick++) {
        budget.deposit();
        if (tick % 2 === 0 && budget.tryWithdraw()) granted += 1;
        clock.advance(10);
      }
      grantedPerSecond.push(granted);
    }
    const lastWindow = grantedPerSecond.slice(-10).reduce((sum, n) => sum + n, 0);
    // 1000 requests in 10 s: 200 from the ratio and 10 from the minimum.
    expect(lastWindow).toBeGreaterThanOrEqual(195);
    expect(lastWindow).toBeLessThanOrEqual(210);
  });

  it('counts a request and a retry made in the same millisecond together', () => {
    const budget = new RetryBudget({ retryRatio: 1, minRetriesPerSecond: 0, ttlMs: 1_000 }, manualClock(5));
    budget.deposit();
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
  });
});

type Op = { kind: 'deposit' } | { kind: 'withdraw' } | { kind: 'advance'; ms: number };

// Bursts of requests and retries separated by short and long pauses, with small minimums, so windows fill up.
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'deposit' as const }), weight: 3 },
  { arbitrary: fc.constant({ kind: 'withdraw' as const }), weight: 4 },
  { arbitrary: fc.integer({ min: 0, max: 100 }).map((ms) => ({ kind: 'advance' as const, ms })), weight: 1 },
  { arbitrary: fc.integer({ min: 0, max: 5_000 }).map((ms) => ({ kind: 'advance' as const, ms })), weight: 1 },
);

const configArb: fc.Arbitrary<RetryBudgetConfig> = fc.record({
  retryRatio: fc.oneof(fc.constantFrom(0, 0.1, 0.2, 0.5, 1, 2.5), fc.double({ min: 0, max: 5, noNaN: true })),
  minRetriesPerSecond: fc.oneof(fc.constantFrom(0, 0.5, 1, 2), fc.double({ min: 0, max: 5, noNaN: true })),
  ttlMs: fc.integer({ min: 1_000, max: 8_000 }),
});

interface Event {
  readonly at: number;
  readonly kind: 'deposit' | 'grant' | 'deny';
}

function run(config: RetryBudgetConfig, ops: readonly Op[]): Event[] {
  const clock = manualClock(1_000_000);
  const budget = new RetryBudget(config, clock);
  const events: Event[] = [];
  for (const op of ops) {
    if (op.kind === 'advance') clock.advance(op.ms);
    else if (op.kind === 'deposit') {
      budget.deposit();
      events.push({ at: clock.now(), kind: 'deposit' });
    } else events.push({ at: clock.now(), kind: budget.tryWithdraw() ? 'grant' : 'deny' });
  }
  return events;
}

// Same tolerance for rounding as the budget itself.
const bound = (config: RetryBudgetConfig, deposits: number) =>
  config.retryRatio * deposits + (config.minRetriesPerSecond * config.ttlMs) / 1_000 + 1e-9;

function count(events: readonly Event[], kind: Event['kind'], from: number, to: number): number {
  return events.filter((event) => event.kind === kind && event.at >= from && event.at < to).length;
}

describe('RetryBudget properties', () => {
  it('never grants more retries in any window than retryRatio x requests in it + the minimum', () => {
    fc.assert(
      fc.property(configArb, fc.array(opArb, { maxLength: 300 }), (config, ops) => {
        const events = run(config, ops);
        // The worst window starts at an event: moving its start later only loses events on the left.
        for (const { at: start } of events) {
          const end = start + config.ttlMs;
          expect(count(events, 'grant', start, end)).toBeLessThanOrEqual(bound(config, count(events, 'deposit', start, end)));
        }
      }),
    );
  });

  it('refuses a retry only when some window containing now is already full', () => {
    fc.assert(
      fc.property(configArb, fc.array(opArb, { maxLength: 200 }), (config, ops) => {
        const events = run(config, ops);
        events.forEach((event, index) => {
          if (event.kind !== 'deny') return;
          const before = events.slice(0, index);
          // Windows containing now start in (now - ttl, now]; the tightest starts at an earlier event or now.
          const starts = [...before.map(({ at }) => at), event.at].filter((start) => start > event.at - config.ttlMs);
          const full = starts.some((start) => {
            const end = event.at + 1;
            return count(before, 'grant', start, end) + 1 > bound(config, count(before, 'deposit', start, end));
          });
          expect(full).toBe(true);
        });
      }),
    );
  });

  it('without traffic grants at most floor(minRetriesPerSecond x ttl) per window, and exactly that to a burst', () => {
    const quietOps = fc.array(
      fc.oneof(
        fc.constant({ kind: 'withdraw' as const }),
        fc.integer({ min: 0, max: 2_000 }).map((ms) => ({ kind: 'advance' as const, ms })),
      ),
      { maxLength: 300 },
    );
    fc.assert(
      fc.property(configArb, quietOps, fc.integer({ min: 0, max: 50 }), (config, ops, burst) => {
        const perWindow = Math.floor((config.minRetriesPerSecond * config.ttlMs) / 1_000 + 1e-9);
        const fresh = new RetryBudget(config, manualClock());
        expect(withdrawMany(fresh, perWindow + burst)).toBe(perWindow);
        const events = run(config, ops);
        for (const { at: start } of events) {
          expect(count(events, 'grant', start, start + config.ttlMs)).toBeLessThanOrEqual(perWindow);
        }
      }),
    );
  });
});
