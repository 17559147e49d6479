// AttemptHandler: the upstream connection's handler for one attempt of a request; hands each event to its exchange.
import { performance } from 'node:perf_hooks';
import type { ChosenEndpoint } from './forward-context.js';
import type { UpstreamConnectionControl, UpstreamHandler } from './http1-upstream-connection.js';
import type { ProxyExchange } from './proxy-exchange.js';

/** Ends an attempt the proxy stops itself (timeout, client gone, retry). */
export class AttemptCancelledError extends Error {
  override readonly name = 'AttemptCancelledError';
  readonly code = 'WEFT_ATTEMPT_CANCELLED';
}

/** Raw callbacks (flat header lists, `false` from onData to pause, `resume` to go on): no header objects, no body streams. */
export class AttemptHandler implements UpstreamHandler {
  readonly startedAt = performance.now();
  /** When the response head arrived; 0 until then. */
  headAt = 0;
  status: number | undefined;
  grpcStatus: number | undefined;
  /** Whether the request was handed to a connection (false means it never left: safe to send elsewhere). */
  sent = false;
  /** The response is a failure being drained or cut before a retry. */
  retrying = false;
  recorded = false;
  private upstream: UpstreamConnectionControl | undefined;
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
    this.upstream?.resume(this);
  }

  /** Stops the attempt; the connection then reports an error, which the exchange ignores for a stale attempt. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.upstream?.abort(this, new AttemptCancelledError('the proxy stopped this attempt'));
  }

  /** Reports the attempt's latency (to the response head, or until now) to the balancer once. */
  settleLease(failed: boolean): void {
    if (this.leaseSettled) return;
    this.leaseSettled = true;
    const end = this.headAt > 0 ? this.headAt : performance.now();
    this.endpoint.lease?.finish({ rttMs: end - this.startedAt, failed });
  }

  onConnect(upstream: UpstreamConnectionControl): void {
    this.upstream = upstream;
    this.sent = true;
    if (this.cancelled) upstream.abort(this, new AttemptCancelledError('the proxy stopped this attempt'));
  }

  /** Interim 1xx heads (103 Early Hints...) are not forwarded: the connection passes on the final head only. */
  onHeaders(statusCode: number, headers: string[]): boolean {
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
