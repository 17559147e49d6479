// AttemptHandler: undici's dispatch handler for one attempt of a request; hands each event to its exchange.
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { ChosenEndpoint } from './forward-context.js';
import type { ProxyExchange } from './proxy-exchange.js';

/** Raised into undici when the proxy stops an attempt itself (timeout, client gone, retry). */
export class AttemptCancelledError extends Error {
  override readonly name = 'AttemptCancelledError';
  readonly code = 'WEFT_ATTEMPT_CANCELLED';
}

/**
 * Uses undici's raw handler callbacks (Buffer header lists, `false` from onData to pause, `resume` to go on),
 * the cheapest path through undici: no header objects, no body streams.
 */
export class AttemptHandler implements Dispatcher.DispatchHandler {
  readonly startedAt = performance.now();
  /** When the response head arrived; 0 until then. */
  headAt = 0;
  status: number | undefined;
  grpcStatus: number | undefined;
  /** Whether undici began writing the request (false means it never left: safe to send elsewhere). */
  sent = false;
  /** The response is a failure being drained or cut before a retry. */
  retrying = false;
  recorded = false;
  private resumeUpstream: (() => void) | undefined;
  private abortUpstream: ((error?: Error) => void) | undefined;
  private cancelled = false;
  private leaseSettled = false;

  /** Whether the proxy stopped this attempt itself. */
  get wasCancelled(): boolean {
    return this.cancelled;
  }

  constructor(
    private readonly exchange: ProxyExchange,
    readonly endpoint: ChosenEndpoint,
  ) {}

  /** Resumes a response paused for backpressure. */
  resume(): void {
    this.resumeUpstream?.();
  }

  /** Stops the attempt; undici then reports an error, which the exchange ignores for a stale attempt. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.abortUpstream?.(new AttemptCancelledError('the proxy stopped this attempt'));
  }

  /** Reports the attempt's latency (to the response head, or until now) to the balancer once. */
  settleLease(failed: boolean): void {
    if (this.leaseSettled) return;
    this.leaseSettled = true;
    const end = this.headAt > 0 ? this.headAt : performance.now();
    this.endpoint.lease?.finish({ rttMs: end - this.startedAt, failed });
  }

  onConnect(abort: (error?: Error) => void): void {
    this.abortUpstream = abort;
    this.sent = true;
    if (this.cancelled) abort(new AttemptCancelledError('the proxy stopped this attempt'));
  }

  onHeaders(statusCode: number, headers: Buffer[], resume: () => void): boolean {
    // 1xx informational heads (103 Early Hints...) are not forwarded; the final head follows.
    if (statusCode < 200) return true;
    this.resumeUpstream = resume;
    return this.exchange.onResponseHead(this, statusCode, headers);
  }

  onData(chunk: Buffer): boolean {
    return this.exchange.onResponseData(this, chunk);
  }

  onComplete(trailers: string[] | null): void {
    this.exchange.onResponseEnd(this, trailers);
  }

  onError(error: Error): void {
    this.exchange.onAttemptError(this, error);
  }
}
