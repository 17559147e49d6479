// FixedClock: a Clock that moves only when a test moves it, so timing logic is checked without sleeping.
import type { Clock } from '@weft/core';
import { injectable } from 'inversify';

@injectable()
export class FixedClock implements Clock {
  private current: number;

  constructor(startMs = 0) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  /** Moves time forward; a clock never goes backwards. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`FixedClock.advance: ${ms} ms is not a non-negative duration`);
    this.current += ms;
  }

  /** Jumps to an absolute time that is not earlier than now. */
  set(ms: number): void {
    if (!(ms >= this.current)) throw new RangeError(`FixedClock.set: ${ms} is before the current time ${this.current}`);
    this.current = ms;
  }
}
