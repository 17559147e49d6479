// H2Attempt: one try of a forwarded stream on one endpoint: its upstream stream, response head, trailers and lease.
import type { ClientHttp2Stream } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { ChosenEndpoint } from '../http/forward-context.js';
import type { H2Upstream } from './h2-upstream-sessions.js';
import { resetH2Stream } from './reset-h2-stream.js';

export class H2Attempt {
  readonly startedAt = performance.now();
  stream: ClientHttp2Stream | undefined;
  /** When the response head arrived; 0 until then. */
  headAt = 0;
  status: number | undefined;
  grpcStatus: number | undefined;
  /** The response head, connection-specific fields dropped. */
  head: string[] = [];
  /** The head came with END_STREAM (a gRPC trailers-only response). */
  headEndsStream = false;
  /** The head waits for the first DATA or the trailers before it goes out, so a gRPC failure can still be retried. */
  held = false;
  trailers: string[] = [];
  /** The upstream's END_STREAM arrived: the response is complete. */
  complete = false;
  /** The stream's HEADERS left for the endpoint (the session was connected). */
  sent = false;
  /** The response is a failure being retried; the exchange no longer forwards it. */
  retrying = false;
  recorded = false;
  /** The first error the upstream stream reported (its code). */
  error: string | undefined;
  private cancelled = false;
  private leaseSettled = false;

  constructor(
    readonly endpoint: ChosenEndpoint,
    readonly upstream: H2Upstream,
  ) {}

  get wasCancelled(): boolean {
    return this.cancelled;
  }

  /** Stops the attempt with RST_STREAM(`code`); its close then reports it as cancelled. */
  cancel(code: number): void {
    if (this.cancelled) return;
    this.cancelled = true;
    if (this.stream !== undefined) resetH2Stream(this.stream, code);
  }

  /** Reports the attempt's latency (to the response head, or until now) to the balancer once. */
  settleLease(failed: boolean): void {
    if (this.leaseSettled) return;
    this.leaseSettled = true;
    const end = this.headAt > 0 ? this.headAt : performance.now();
    this.endpoint.lease?.finish({ rttMs: end - this.startedAt, failed });
  }
}
