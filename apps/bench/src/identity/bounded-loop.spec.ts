import { describe, expect, it } from 'vitest';
import { runBoundedLoop } from './bounded-loop.js';

describe('runBoundedLoop', () => {
  it('starts exactly maxCount tasks, each index once', async () => {
    const seen: number[] = [];
    const result = await runBoundedLoop({ maxCount: 25, durationMs: 60_000, concurrency: 4 }, async (index) => {
      seen.push(index);
      await Promise.resolve();
    });
    expect(result.completed).toBe(25);
    expect(result.failed).toBe(0);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, index) => index));
  });

  it('starts no task once the time is up, and waits for those in flight', async () => {
    let now = 0;
    let started = 0;
    const result = await runBoundedLoop({ maxCount: 1_000, durationMs: 100, concurrency: 2, now: () => now }, async () => {
      started += 1;
      now += 30; // each task takes 30 ms of the fake clock
      await Promise.resolve();
    });
    // Starts at 0 and 30, 60, 90 (before the 100 ms deadline); none at 120.
    expect(started).toBe(4);
    expect(result.completed).toBe(4);
    expect(result.seconds).toBeCloseTo(0.12, 5);
  });

  it('keeps at most `concurrency` tasks in flight', async () => {
    let inFlight = 0;
    let most = 0;
    await runBoundedLoop({ maxCount: 40, durationMs: 60_000, concurrency: 3 }, async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight -= 1;
    });
    expect(most).toBe(3);
  });

  it('counts a failed task and carries on, keeping the first error', async () => {
    const result = await runBoundedLoop({ maxCount: 10, durationMs: 60_000, concurrency: 1 }, async (index) => {
      await Promise.resolve();
      if (index % 3 === 0) throw new Error(`refused ${index}`);
    });
    expect(result).toMatchObject({ completed: 6, failed: 4, firstError: 'refused 0' });
  });
});
