// ManualTime: a Clock and ControlTimers that move only when a test says so.
import type { Clock } from '@weft/core';
import type { ControlTimer, ControlTimers } from './control-timers.js';

interface Scheduled {
  readonly at: number;
  readonly task: () => void;
  cancelled: boolean;
}

export class ManualTime implements Clock, ControlTimers {
  private current = 1_000_000;
  private scheduled: Scheduled[] = [];
  /** Every delay asked of start(), in order. */
  readonly delays: number[] = [];

  now(): number {
    return this.current;
  }

  start(delayMs: number, task: () => void): ControlTimer {
    const entry: Scheduled = { at: this.current + Math.max(0, delayMs), task, cancelled: false };
    this.delays.push(delayMs);
    this.scheduled.push(entry);
    return { cancel: () => (entry.cancelled = true) };
  }

  /** Moves time forward by `ms`, running each timer that comes due, in time order. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      const due = this.scheduled.filter((entry) => !entry.cancelled && entry.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.current = due.at;
      due.cancelled = true;
      due.task();
    }
    this.current = end;
    this.scheduled = this.scheduled.filter((entry) => !entry.cancelled);
  }

  /** Timers still waiting. */
  pending(): number {
    return this.scheduled.filter((entry) => !entry.cancelled).length;
  }
}
