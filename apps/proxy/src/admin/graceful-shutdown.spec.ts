import { FixedClock } from '@weft/adapter-memory';
import { SystemClock } from '@weft/adapter-system';
import { describe, expect, it } from 'vitest';
import {
  type DrainStep,
  describeShutdownSummary,
  GracefulShutdown,
  type ShutdownTimers,
} from './graceful-shutdown.js';
import { Readiness } from './readiness.js';

/** Timers that fire only when the test moves the clock. */
class ManualTimers implements ShutdownTimers {
  private readonly due = new Map<number, { at: number; callback: () => void }>();
  private nextId = 0;

  constructor(private readonly clock: FixedClock) {}

  setTimeout(callback: () => void, ms: number): unknown {
    this.nextId += 1;
    this.due.set(this.nextId, { at: this.clock.now() + ms, callback });
    return this.nextId;
  }

  clearTimeout(handle: unknown): void {
    this.due.delete(handle as number);
  }

  get scheduled(): number {
    return this.due.size;
  }

  advance(ms: number): void {
    this.clock.advance(ms);
    for (const [id, timer] of [...this.due]) {
      if (timer.at <= this.clock.now()) {
        this.due.delete(id);
        timer.callback();
      }
    }
  }
}

/** A drain step the test finishes (or fails) by hand, recording what the shutdown did to it. */
class FakeStep implements DrainStep {
  readonly calls: string[] = [];
  private finishDrain: () => void = () => undefined;
  private failDrain: (error: Error) => void = () => undefined;

  constructor(
    readonly name: string,
    private readonly onDrain: () => void = () => undefined,
  ) {}

  drain(): Promise<void> {
    this.calls.push('drain');
    this.onDrain();
    return new Promise((resolve, reject) => {
      this.finishDrain = resolve;
      this.failDrain = reject;
    });
  }

  forceClose(): void {
    this.calls.push('forceClose');
  }

  finish(): void {
    this.finishDrain();
  }

  fail(message: string): void {
    this.failDrain(new Error(message));
  }
}

/** Lets settled drain promises run their callbacks, as they would before a real timer fires. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setUp(gracePeriodMs = 1_000) {
  const clock = new FixedClock(1_000_000);
  const timers = new ManualTimers(clock);
  const readiness = new Readiness(['listeners']);
  readiness.markMet('listeners');
  const shutdown = new GracefulShutdown({ gracePeriodMs, readiness, clock, timers });
  return { clock, timers, readiness, shutdown };
}

describe('GracefulShutdown', () => {
  it('marks the proxy not ready before any step starts draining', async () => {
    const { readiness, shutdown } = setUp();
    const readyWhenDraining: boolean[] = [];
    const step = new FakeStep('outbound-http1', () => readyWhenDraining.push(readiness.isReady()));
    shutdown.register(step);
    expect(readiness.isReady()).toBe(true);
    const done = shutdown.begin('SIGTERM');
    expect(readyWhenDraining).toEqual([false]);
    step.finish();
    await done;
    expect(readiness.isReady()).toBe(false);
  });

  it('resolves as drained when every step finishes inside the grace period', async () => {
    const { timers, shutdown } = setUp(1_000);
    const fast = new FakeStep('listeners');
    const slow = new FakeStep('outbound-http1');
    shutdown.register(fast);
    shutdown.register(slow);
    const done = shutdown.begin('SIGTERM');
    expect(shutdown.state).toBe('draining');
    fast.finish();
    timers.advance(900);
    slow.finish();
    const summary = await done;
    expect(summary).toEqual({
      reason: 'SIGTERM',
      outcome: 'drained',
      elapsedMs: 900,
      gracePeriodMs: 1_000,
      drained: ['listeners', 'outbound-http1'],
      forced: [],
      failed: [],
    });
    expect(slow.calls).toEqual(['drain']);
    expect(timers.scheduled).toBe(0);
    expect(shutdown.state).toBe('stopped');
    expect(describeShutdownSummary(summary)).toBe('SIGTERM: drained cleanly in 900 ms (2 steps)');
  });

  it('force-closes the steps still draining when the grace period ends', async () => {
    const { timers, shutdown } = setUp(1_000);
    const fast = new FakeStep('listeners');
    const slow = new FakeStep('inbound-http2');
    shutdown.register(fast);
    shutdown.register(slow);
    const done = shutdown.begin('admin');
    fast.finish();
    await settle();
    timers.advance(999);
    expect(slow.calls).toEqual(['drain']);
    timers.advance(1);
    expect(slow.calls).toEqual(['drain', 'forceClose']);
    const summary = await done;
    expect(summary).toMatchObject({ outcome: 'forced', elapsedMs: 1_000, drained: ['listeners'], forced: ['inbound-http2'] });
    // Finishing after the force changes nothing.
    slow.finish();
    await settle();
    expect(await shutdown.begin('SIGTERM')).toEqual(summary);
    expect(describeShutdownSummary(summary)).toBe(
      'admin: forced after 1000 ms (grace period 1000 ms); force-closed: inbound-http2',
    );
  });

  it('drains once however often it is asked', async () => {
    const { timers, shutdown } = setUp();
    const step = new FakeStep('tcp');
    shutdown.register(step);
    const first = shutdown.begin('SIGTERM');
    timers.advance(100);
    const second = shutdown.begin('SIGINT');
    expect(second).toBe(first);
    step.finish();
    expect((await second).reason).toBe('SIGTERM');
    expect(step.calls).toEqual(['drain']);
  });

  it('force-closes a step whose drain fails and reports the error', async () => {
    const { shutdown } = setUp();
    const broken = new FakeStep('outbound-tcp');
    const fine = new FakeStep('listeners');
    shutdown.register(broken);
    shutdown.register(fine);
    const done = shutdown.begin('SIGTERM');
    broken.fail('socket already destroyed');
    fine.finish();
    const summary = await done;
    expect(broken.calls).toEqual(['drain', 'forceClose']);
    expect(summary).toMatchObject({
      outcome: 'forced',
      drained: ['listeners'],
      forced: ['outbound-tcp'],
      failed: [{ step: 'outbound-tcp', error: 'socket already destroyed' }],
    });
    expect(describeShutdownSummary(summary)).toContain('failed: outbound-tcp (socket already destroyed)');
  });

  it('counts a drain that throws at once, and a forceClose that throws, without stopping the others', async () => {
    const { timers, shutdown } = setUp(500);
    const closed: string[] = [];
    shutdown.register({
      name: 'throws',
      drain: () => {
        throw new Error('not started');
      },
      forceClose: () => closed.push('throws'),
    });
    shutdown.register({
      name: 'stuck',
      drain: () => new Promise<void>(() => undefined),
      forceClose: () => {
        throw new Error('already closed');
      },
    });
    const last = new FakeStep('last');
    shutdown.register(last);
    const done = shutdown.begin('SIGTERM');
    await settle();
    timers.advance(500);
    const summary = await done;
    expect(closed).toEqual(['throws']);
    expect(last.calls).toEqual(['drain', 'forceClose']);
    expect(summary.forced).toEqual(['throws', 'stuck', 'last']);
    expect(summary.failed).toEqual([
      { step: 'throws', error: 'not started' },
      { step: 'stuck', error: 'forceClose: already closed' },
    ]);
  });

  it('resolves at once when nothing is registered', async () => {
    const { timers, shutdown } = setUp();
    const summary = await shutdown.begin('SIGINT');
    expect(summary).toMatchObject({ outcome: 'drained', elapsedMs: 0, drained: [], forced: [] });
    expect(timers.scheduled).toBe(0);
  });

  it('drains a step registered mid-drain and force-closes one registered after the end', async () => {
    const { timers, shutdown } = setUp();
    const first = new FakeStep('first');
    shutdown.register(first);
    const done = shutdown.begin('SIGTERM');
    const late = new FakeStep('late');
    shutdown.register(late);
    first.finish();
    await settle();
    timers.advance(10);
    expect(shutdown.state).toBe('draining');
    late.finish();
    expect((await done).drained).toEqual(['first', 'late']);
    const tooLate = new FakeStep('too-late');
    shutdown.register(tooLate);
    expect(tooLate.calls).toEqual(['forceClose']);
  });

  it('stops waiting for a step that unregisters itself mid-drain', async () => {
    const { shutdown } = setUp();
    const step = new FakeStep('listener');
    const registration = shutdown.register(step);
    const done = shutdown.begin('SIGTERM');
    registration.close();
    const summary = await done;
    expect(summary).toMatchObject({ outcome: 'drained', drained: [], forced: [] });
    expect(step.calls).toEqual(['drain']);
  });

  it('does not drain a step unregistered before the shutdown', async () => {
    const { shutdown } = setUp();
    const step = new FakeStep('gone');
    shutdown.register(step).close();
    await shutdown.begin('SIGTERM');
    expect(step.calls).toEqual([]);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses a grace period of %s ms', (gracePeriodMs) => {
    expect(() => setUp(gracePeriodMs)).toThrow(RangeError);
  });

  it('forces a stuck step with the host timers after a short grace period', async () => {
    const readiness = new Readiness();
    const shutdown = new GracefulShutdown({ gracePeriodMs: 50, readiness, clock: new SystemClock() });
    const stuck = new FakeStep('stuck');
    const quick = new FakeStep('quick');
    shutdown.register(stuck);
    shutdown.register(quick);
    const done = shutdown.begin('SIGTERM');
    setTimeout(() => quick.finish(), 10);
    const summary = await done;
    expect(summary.outcome).toBe('forced');
    expect(summary.drained).toEqual(['quick']);
    expect(summary.forced).toEqual(['stuck']);
    expect(summary.elapsedMs).toBeGreaterThanOrEqual(45);
    expect(summary.elapsedMs).toBeLessThan(2_000);
  });
});

describe('GracefulShutdown.finished', () => {
  it('resolves with the summary of a shutdown started by anyone', async () => {
    const readiness = new Readiness([]);
    const shutdown = new GracefulShutdown({ gracePeriodMs: 1_000, readiness, clock: { now: () => 0 } });
    let settled = false;
    void shutdown.finished.then(() => {
      settled = true;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    const started = await shutdown.begin('SIGTERM');
    await expect(shutdown.finished).resolves.toBe(started);
    expect(started.reason).toBe('SIGTERM');
  });
});
