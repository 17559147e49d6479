// NameFallback: resolves the host of a target discovery does not know, again whenever its answer expires, one query at a time.
import { type Clock, NameResolutionError, type ResolvedName, type ResolveName } from '@weft/core';

/** How a balancer falls back to DNS for a target that discovery says does not exist. */
export interface NameFallbackOptions {
  /** Resolves the host of a `dns` or `service` target (a service by its FQDN). */
  readonly resolver: ResolveName;
  /** After a failed resolution, how long until the next try, in ms; default 5 s. */
  readonly retryMs?: number;
  /** Answers are used at least this long, in ms, whatever their TTL, so a 0 s TTL cannot cause a query per request; default 1 s. */
  readonly minRefreshMs?: number;
  /** Answers are used at most this long, in ms, so a huge TTL cannot pin stale addresses; default 5 min. */
  readonly maxRefreshMs?: number;
}

export const DEFAULT_NAME_FALLBACK_RETRY_MS = 5_000;
export const DEFAULT_NAME_FALLBACK_MIN_REFRESH_MS = 1_000;
export const DEFAULT_NAME_FALLBACK_MAX_REFRESH_MS = 300_000;

export interface NameFallbackListener {
  answered(answer: ResolvedName): void;
  failed(error: NameResolutionError): void;
}

/**
 * Keeps one host resolved without timers: refreshIfDue() starts a query when the last answer's TTL has run out (or,
 * after a failure, the retry pause has), and never while one is running. The owner calls it when it is used, so an
 * idle target costs nothing, and a busy one is re-resolved within one request of its TTL running out. Stopped, it
 * drops answers still on their way.
 */
export class NameFallback {
  private nextAt = Number.NEGATIVE_INFINITY;
  private resolving = false;
  private stopped = false;

  constructor(
    readonly host: string,
    private readonly options: NameFallbackOptions,
    private readonly clock: Clock,
    private readonly listener: NameFallbackListener,
  ) {}

  refreshIfDue(): void {
    if (this.stopped || this.resolving || this.clock.now() < this.nextAt) return;
    this.resolving = true;
    this.options.resolver.resolve(this.host).then(
      (result) => (result.ok ? this.answer(result.value) : this.fail(result.error)),
      // The port never rejects; an adapter that does anyway is treated as one that could not answer.
      (error: unknown) => this.fail(new NameResolutionError('unavailable', this.host, `the resolver failed: ${String(error)}`)),
    );
  }

  stop(): void {
    this.stopped = true;
  }

  private answer(answer: ResolvedName): void {
    this.resolving = false;
    if (this.stopped) return;
    const min = this.options.minRefreshMs ?? DEFAULT_NAME_FALLBACK_MIN_REFRESH_MS;
    const max = this.options.maxRefreshMs ?? DEFAULT_NAME_FALLBACK_MAX_REFRESH_MS;
    this.nextAt = this.clock.now() + Math.min(Math.max(answer.ttlMs, min), max);
    this.listener.answered(answer);
  }

  private fail(error: NameResolutionError): void {
    this.resolving = false;
    if (this.stopped) return;
    this.nextAt = this.clock.now() + (this.options.retryMs ?? DEFAULT_NAME_FALLBACK_RETRY_MS);
    this.listener.failed(error);
  }
}
