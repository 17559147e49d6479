import { describe, expect, it } from 'vitest';
import { DEFAULT_RESTART_POLICY, restartDelayMs } from './restart-backoff.js';

describe('restartDelayMs', () => {
  it('doubles from half a second up to 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 100].map((n) => restartDelayMs(n))).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(DEFAULT_RESTART_POLICY.stableAfterMs).toBe(10_000);
  });
});
