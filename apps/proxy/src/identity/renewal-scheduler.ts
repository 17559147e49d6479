// RenewalScheduler: runs a task after a delay; timers in production, a test scheduler that drives a fixed clock in tests.
import type { Subscription } from '@weft/core';

export interface RenewalScheduler {
  /** Runs `task` once after `delayMs`; closing the subscription before then cancels it. */
  after(delayMs: number, task: () => Promise<void> | void): Subscription;
}

// A Node timer holds at most 2^31 - 1 ms (about 24.8 days); longer delays are waited out in steps.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Node timers, unref'd: a pending renewal never keeps the process alive on its own. */
export const timerScheduler: RenewalScheduler = {
  after(delayMs, task) {
    let timer: NodeJS.Timeout | undefined;
    const wait = (remaining: number): void => {
      const step = Math.min(Math.max(0, remaining), MAX_TIMER_MS);
      timer = setTimeout(() => {
        if (remaining > step) wait(remaining - step);
        else void task();
      }, step);
      timer.unref();
    };
    wait(delayMs);
    return { close: () => clearTimeout(timer) };
  },
};
