// ManualScheduler: a RenewalScheduler driven by a test; advancing it moves a FixedClock and runs what fell due, in order.
import type { FixedClock } from '@weft/adapter-memory';
import type { Subscription } from '@weft/core';
import type { RenewalScheduler } from './renewal-scheduler.js';

interface Pending {
  readonly dueAt: number;
  readonly order: number;
  readonly task: () => Promise<void> | void;
}

export class ManualScheduler implements RenewalScheduler {
  private readonly pending = new Set<Pending>();
  private scheduled = 0;

  constructor(private readonly clock: FixedClock) {}

  after(delayMs: number, task: () => Promise<void> | void): Subscription {
    const entry = { dueAt: this.clock.now() + delayMs, order: this.scheduled++, task };
    this.pending.add(entry);
    return { close: () => this.pending.delete(entry) };
  }

  /** The times tasks are due at, earliest first. */
  dueTimes(): number[] {
    return this.sorted().map((entry) => entry.dueAt);
  }

  /** Moves the clock forward by `ms`, running each task when its time comes and awaiting what it started. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.clock.now() + ms);
  }

  async advanceTo(target: number): Promise<void> {
    for (;;) {
      const next = this.sorted()[0];
      if (next === undefined || next.dueAt > target) break;
      this.pending.delete(next);
      if (next.dueAt > this.clock.now()) this.clock.set(next.dueAt);
      await next.task();
    }
    if (target > this.clock.now()) this.clock.set(target);
  }

  private sorted(): Pending[] {
    return [...this.pending].sort((a, b) => a.dueAt - b.dueAt || a.order - b.order);
  }
}
