// GracefulShutdown: marks the proxy not ready, drains every registered step, and force-closes what outlasts the grace period.
import type { Clock, Subscription } from '@weft/core';

/** WEFT_PROXY_SHUTDOWN_GRACE_PERIOD's default, as Linkerd's shutdown grace period. */
export const DEFAULT_SHUTDOWN_GRACE_PERIOD_MS = 120_000;

/** What started the shutdown: a signal from the process manager or POST /shutdown on the admin server. */
export type ShutdownReason = 'SIGTERM' | 'SIGINT' | 'admin';

/** One thing to drain, such as a listener or the open HTTP/1 connections of a server. */
export interface DrainStep {
  /** Names the step in the summary and the logs, e.g. "outbound-http1". */
  readonly name: string;
  /** Stops taking new work (new connections, new requests) and resolves once the work in flight has finished. */
  drain(): Promise<void>;
  /** Closes what is left at once; called only when drain() failed or did not finish within the grace period. */
  forceClose(): void;
}

export interface ShutdownTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface GracefulShutdownOptions {
  /** How long in-flight work may take before it is force-closed; 0 force-closes at once. */
  readonly gracePeriodMs: number;
  /** Marked shutting down before any step starts, so /ready answers 503 while the proxy drains. */
  readonly readiness: { markShuttingDown(): void };
  readonly clock: Clock;
  /** The host's timers unless a test passes its own. */
  readonly timers?: ShutdownTimers;
}

export interface ShutdownSummary {
  readonly reason: ShutdownReason;
  /** "drained" when every step finished within the grace period; "forced" when any had to be force-closed. */
  readonly outcome: 'drained' | 'forced';
  readonly elapsedMs: number;
  readonly gracePeriodMs: number;
  /** Names of the steps that drained cleanly. */
  readonly drained: readonly string[];
  /** Names of the steps that were force-closed, because they failed or ran out of time. */
  readonly forced: readonly string[];
  /** The steps whose drain() failed, with the error's message. */
  readonly failed: readonly { readonly step: string; readonly error: string }[];
}

export type ShutdownState = 'serving' | 'draining' | 'stopped';

const hostTimers: ShutdownTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Runs the proxy's shutdown once. begin() is idempotent: a second call (a second signal, another POST /shutdown)
 * returns the drain already under way instead of restarting it.
 */
export class GracefulShutdown {
  private readonly steps = new Set<DrainStep>();
  private readonly timers: ShutdownTimers;
  private run: ShutdownRun | undefined;
  private announceFinished: (summary: ShutdownSummary) => void = () => undefined;
  /** Resolves with the summary of the shutdown, whoever started it (a signal, /shutdown, or code). */
  readonly finished: Promise<ShutdownSummary> = new Promise((resolve) => {
    this.announceFinished = resolve;
  });

  constructor(private readonly options: GracefulShutdownOptions) {
    if (!(options.gracePeriodMs >= 0 && Number.isFinite(options.gracePeriodMs))) {
      throw new RangeError(`GracefulShutdown: grace period ${options.gracePeriodMs} ms is not a finite duration >= 0`);
    }
    this.timers = options.timers ?? hostTimers;
  }

  get state(): ShutdownState {
    if (this.run === undefined) return 'serving';
    return this.run.finished ? 'stopped' : 'draining';
  }

  /**
   * Adds a step to drain at shutdown; closing the subscription removes it (e.g. a listener that closed by itself).
   * A step registered while draining starts draining at once; one registered after the shutdown ended is
   * force-closed at once, since nothing will drain it any more.
   */
  register(step: DrainStep): Subscription {
    this.steps.add(step);
    this.run?.add(step);
    return {
      close: () => {
        this.steps.delete(step);
        this.run?.remove(step);
      },
    };
  }

  /** Starts the shutdown (or joins the one under way) and resolves with its summary. Never rejects. */
  begin(reason: ShutdownReason): Promise<ShutdownSummary> {
    if (this.run === undefined) {
      this.options.readiness.markShuttingDown();
      this.run = new ShutdownRun(reason, this.options, this.timers);
      for (const step of this.steps) this.run.add(step);
      this.run.settleIfIdle();
      void this.run.summary.then(this.announceFinished);
    }
    return this.run.summary;
  }
}

/** One shutdown in progress: the steps still draining, the grace timer, and the summary it resolves with. */
class ShutdownRun {
  readonly summary: Promise<ShutdownSummary>;
  finished = false;
  private readonly pending = new Set<DrainStep>();
  private readonly drained: string[] = [];
  private readonly forced: string[] = [];
  private readonly failed: { step: string; error: string }[] = [];
  private readonly startedAt: number;
  private readonly timer: unknown;
  private resolve: (summary: ShutdownSummary) => void = () => undefined;

  constructor(
    private readonly reason: ShutdownReason,
    private readonly options: GracefulShutdownOptions,
    private readonly timers: ShutdownTimers,
  ) {
    this.summary = new Promise((resolve) => {
      this.resolve = resolve;
    });
    this.startedAt = options.clock.now();
    this.timer = timers.setTimeout(() => this.forceRemaining(), options.gracePeriodMs);
  }

  add(step: DrainStep): void {
    if (this.finished) {
      forceQuietly(step);
      return;
    }
    this.pending.add(step);
    startDrain(step).then(
      () => this.settle(step, undefined),
      (error: unknown) => this.settle(step, error),
    );
  }

  /** A step unregistered mid-drain has closed by itself: it no longer holds the shutdown open. */
  remove(step: DrainStep): void {
    if (this.pending.delete(step)) this.settleIfIdle();
  }

  settleIfIdle(): void {
    if (this.pending.size === 0) this.finish();
  }

  private settle(step: DrainStep, error: unknown): void {
    // A step force-closed at the deadline may still resolve later; it was already counted.
    if (this.finished || !this.pending.delete(step)) return;
    if (error === undefined) {
      this.drained.push(step.name);
    } else {
      this.failed.push({ step: step.name, error: error instanceof Error ? error.message : String(error) });
      this.force(step);
    }
    this.settleIfIdle();
  }

  private forceRemaining(): void {
    if (this.finished) return;
    for (const step of this.pending) this.force(step);
    this.pending.clear();
    this.finish();
  }

  // One step's forceClose failing must not stop the others from being closed.
  private force(step: DrainStep): void {
    this.forced.push(step.name);
    try {
      step.forceClose();
    } catch (error) {
      this.failed.push({ step: step.name, error: `forceClose: ${error instanceof Error ? error.message : String(error)}` });
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.timers.clearTimeout(this.timer);
    this.resolve({
      reason: this.reason,
      outcome: this.forced.length === 0 ? 'drained' : 'forced',
      elapsedMs: this.options.clock.now() - this.startedAt,
      gracePeriodMs: this.options.gracePeriodMs,
      drained: [...this.drained],
      forced: [...this.forced],
      failed: [...this.failed],
    });
  }
}

// Closes a step that came too late for the summary; its errors have nowhere to go but away.
function forceQuietly(step: DrainStep): void {
  try {
    step.forceClose();
  } catch {
    // The shutdown has ended; the process is about to exit.
  }
}

// drain() may throw synchronously instead of rejecting; both count as a failed drain.
function startDrain(step: DrainStep): Promise<void> {
  try {
    return Promise.resolve(step.drain());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** One line for the shutdown log: "drained cleanly in 840 ms (3 steps)" or "forced after 120000 ms: ...". */
export function describeShutdownSummary(summary: ShutdownSummary): string {
  const steps = summary.drained.length + summary.forced.length;
  if (summary.outcome === 'drained') {
    return `${summary.reason}: drained cleanly in ${summary.elapsedMs} ms (${steps} step${steps === 1 ? '' : 's'})`;
  }
  const failures = summary.failed.map((failure) => `${failure.step} (${failure.error})`);
  const failedPart = failures.length > 0 ? `; failed: ${failures.join(', ')}` : '';
  return `${summary.reason}: forced after ${summary.elapsedMs} ms (grace period ${summary.gracePeriodMs} ms); force-closed: ${summary.forced.join(', ')}${failedPart}`;
}
