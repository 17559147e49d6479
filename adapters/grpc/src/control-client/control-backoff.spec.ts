import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { controlBackoffDelay, controlBackoffProblem, DEFAULT_CONTROL_BACKOFF } from './control-backoff.js';

const fixed = (value: number) => ({ next: () => value });

describe('controlBackoffDelay', () => {
  it('doubles from the initial delay up to the maximum', () => {
    const backoff = { initialMs: 250, maxMs: 10_000, jitter: 0 };
    const delays = [0, 1, 2, 3, 4, 5, 6, 40].map((attempt) => controlBackoffDelay(attempt, backoff, fixed(0.9)));
    expect(delays).toEqual([250, 500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
  });

  it('takes the jittered share off the top, so random draws spread proxies over [d * (1 - jitter), d]', () => {
    expect(controlBackoffDelay(2, DEFAULT_CONTROL_BACKOFF, fixed(0))).toBe(1_000);
    expect(controlBackoffDelay(2, DEFAULT_CONTROL_BACKOFF, fixed(0.5))).toBe(750);
    expect(controlBackoffDelay(2, DEFAULT_CONTROL_BACKOFF, fixed(0.999))).toBeCloseTo(500.5);
  });

  it('stays within its bounds for any attempt and draw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, draw, jitter) => {
          const backoff = { initialMs: 100, maxMs: 5_000, jitter };
          const delay = controlBackoffDelay(attempt, backoff, fixed(draw));
          expect(delay).toBeGreaterThanOrEqual(Math.min(5_000, 100 * 2 ** Math.min(attempt, 30)) * (1 - jitter) - 1e-9);
          expect(delay).toBeLessThanOrEqual(5_000);
        },
      ),
    );
  });
});

describe('controlBackoffProblem', () => {
  it('accepts the default and names the field of a bad setting', () => {
    expect(controlBackoffProblem(DEFAULT_CONTROL_BACKOFF)).toBeUndefined();
    expect(controlBackoffProblem({ initialMs: 0, maxMs: 1_000, jitter: 0.5 })).toMatch(/^initialMs 0/);
    expect(controlBackoffProblem({ initialMs: 500, maxMs: 100, jitter: 0.5 })).toMatch(/^maxMs 100/);
    expect(controlBackoffProblem({ initialMs: 100, maxMs: 1_000, jitter: 2 })).toMatch(/^jitter 2/);
  });
});
