// SystemClock: the Clock of a running process: wall-clock time that advances steadily even if the host clock is stepped.
import type { Clock } from '@weft/core';
import { injectable } from 'inversify';
import { performance } from 'node:perf_hooks';

@injectable()
export class SystemClock implements Clock {
  /**
   * The process start time plus the monotonic time since then: it reads as wall-clock milliseconds, yet
   * it never stalls or jumps when NTP or an operator steps the host clock, so budgets and decays keep moving.
   */
  now(): number {
    return performance.timeOrigin + performance.now();
  }
}
