// SystemClock: the Clock of a running process, read from the host's wall clock.
import type { Clock } from '@weft/core';
import { injectable } from 'inversify';

@injectable()
export class SystemClock implements Clock {
  private last = 0;

  /** Wall-clock milliseconds, held steady if the host clock steps backwards so durations never go negative. */
  now(): number {
    this.last = Math.max(this.last, Date.now());
    return this.last;
  }
}
