// H2Exchange: one forwarded HTTP/2 stream: route, body, attempts with retries and timeouts, response, trailers, resets.
import {
  type CompiledProfileRoute,
  formatSocketAddress,
  isFailureResponse,
  matchProfileRoute,
  parseGrpcStatus,
  type RouteLabels,
} from '@weft/core';
import { type ClientHttp2Stream, constants, type ServerHttp2Stream, type ServerStreamResponseOptions } from 'node:http2';
import { performance } from 'node:perf_hooks';
import {
  type ChosenEndpoint,
  chooseEndpoint,
  type Http1Destination,
  recordedResponse,
  RequestTap,
  tapAuthorityOf,
  tapDestinationOf,
  tapRouteLabelsOf,
} from '../http/forward-context.js';
import { rawHeaderValue } from '../http/hop-by-hop-headers.js';
import type { OutboundTarget } from '../http/outbound-target.js';
import { grpcStatusOf, isGrpcContentType, type ProxyErrorStatus } from '../http/proxy-error.js';
import { H2Attempt } from './h2-attempt.js';
import type { H2ForwardContext } from './h2-forward-context.js';
import { forwardH2RequestHeaders, forwardH2ResponseHeaders, headerObjectOf } from './h2-headers.js';
import { respondH2ProxyError } from './h2-proxy-error.js';
import { H2RequestBody } from './h2-request-body.js';
import { CONNECT_TIMEOUT_CODE } from './h2-upstream-sessions.js';
import { resetCodeOf, resetH2Stream } from './reset-h2-stream.js';

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM, NGHTTP2_INTERNAL_ERROR } = constants;
/** The HEADERS flag that ends the stream (Node's `endAfterHeaders` is set only after the 'response' event). */
export const END_STREAM_FLAG = 0x1;

/** How often a stream waiting for an endpoint looks again. */
const ENDPOINT_POLL_MS = 20;
/**
 * gRPC statuses a retryable route retries when no response class decides: the endpoint could not serve the call.
 * Other failures (NOT_FOUND, INVALID_ARGUMENT...) are answers, and the same call would get them again.
 */
const RETRYABLE_GRPC_STATUSES: ReadonlySet<number> = new Set([14]);

/** `sendDate: false` (a Node option its typings leave out) keeps the upstream's Date the only one. */
const RESPOND_STREAMING = { waitForTrailers: true, sendDate: false } as ServerStreamResponseOptions;
const RESPOND_ENDED = { endStream: true, sendDate: false } as ServerStreamResponseOptions;

/** Why an attempt ended without a response: never reached the endpoint, refused unprocessed, or lost after sending. */
type AttemptFailure = 'connect' | 'refused' | 'lost';

export class H2Exchange {
  private readonly startedAt = performance.now();
  private readonly grpc: boolean;
  private readonly method: string;
  private readonly path: string;
  private readonly headers: string[];
  private body: H2RequestBody | undefined;
  /** The logical target of a balanced stream, held (active) until the exchange ends. */
  private logical: OutboundTarget | undefined;
  private route: CompiledProfileRoute | undefined;
  private routeLabels: RouteLabels | undefined;
  private attempts = 0;
  private waitingSince = -1;
  private current: H2Attempt | undefined;
  private routeTimer: NodeJS.Timeout | undefined;
  private waitTimer: NodeJS.Timeout | undefined;
  private committed = false;
  private done = false;
  private routeRecorded = false;
  /** The trailers that close the committed response. */
  private trailers: string[] = [];
  /** Present only if somebody tapped when the stream arrived; `this.tap?.x(...)` then builds nothing otherwise. */
  private readonly tap: RequestTap | undefined;
  /** The request's raw headers, kept for tap only. */
  private readonly tapHeaders: readonly string[] | undefined;

  constructor(
    private readonly context: H2ForwardContext,
    private readonly downstream: ServerHttp2Stream,
    rawHeaders: readonly string[],
    /** The request's HEADERS carried END_STREAM: there is no body. */
    private readonly bodyless: boolean,
    private destination: Http1Destination,
  ) {
    this.grpc = isGrpcContentType(rawHeaderValue(rawHeaders, 'content-type'));
    this.method = rawHeaderValue(rawHeaders, ':method') ?? 'GET';
    this.path = rawHeaderValue(rawHeaders, ':path') ?? '/';
    this.headers = forwardH2RequestHeaders(rawHeaders, { stripClientId: context.stripClientId });
    const hub = context.tap;
    if (hub?.isTapping() === true) {
      const socket = downstream.session?.socket;
      const source = { ip: socket?.remoteAddress ?? '', port: socket?.remotePort ?? 0 };
      this.tap = new RequestTap(hub, context.direction, source, this.startedAt);
      this.tapHeaders = rawHeaders;
    }
  }

  start(): void {
    this.downstream.once('close', this.onDownstreamClose);
    this.downstream.on('wantTrailers', this.onWantTrailers);
    if (this.destination.kind === 'balanced') this.startRoute(this.destination);
    if (!this.bodyless) {
      // Kept for a replay on retryable routes, and on balanced ones until the request is on the wire (connect failures).
      const retain = this.route?.isRetryable === true || this.destination.kind === 'balanced';
      this.body = new H2RequestBody(this.downstream, this.context.options.maxReplayBodyBytes, retain);
    }
    this.attempt();
  }

  // ----- attempts -----

  private attempt(): void {
    if (this.done) return;
    const chosen = chooseEndpoint(this.context, this.destination);
    if ('wait' in chosen) {
      if (chosen.wait) this.waitForEndpoint();
      else if (this.destination.kind === 'balanced' && this.destination.fallback !== undefined && this.attempts === 0) {
        this.destination = { kind: 'direct', address: this.destination.fallback, authority: undefined };
        this.attempt();
      } else this.fail(503, chosen.reason);
      return;
    }
    this.attempts += 1;
    if (this.tap !== undefined) this.tapRequest(this.tap, chosen);
    const upstream = this.context.upstreams.get(chosen.address);
    const attempt = new H2Attempt(chosen, upstream);
    this.current = attempt;
    this.context.metrics.requestStarted(chosen.labels);
    let stream: ClientHttp2Stream;
    try {
      stream = upstream.request(this.headers, { endStream: this.body === undefined });
    } catch (error) {
      attempt.error = errorCode(error);
      // A session that could take no stream sent nothing: like a refused stream, the request may go again.
      if (upstream.retired) this.onAttemptClosed(attempt, 'refused');
      else this.rejectRequest(attempt);
      return;
    }
    attempt.stream = stream;
    this.watch(attempt, stream);
    this.body?.attach(stream);
  }

  private watch(attempt: H2Attempt, stream: ClientHttp2Stream): void {
    stream.on('error', (error: unknown) => (attempt.error ??= errorCode(error)));
    stream.once('ready', () => {
      attempt.sent = true;
      if (this.route?.isRetryable !== true) this.body?.release();
    });
    stream.once('response', (_headers, flags: number, raw: string[]) => this.onResponseHead(attempt, raw, (flags & END_STREAM_FLAG) !== 0));
    stream.on('trailers', (_headers, _flags, raw: string[]) => (attempt.trailers = forwardH2ResponseHeaders(raw)));
    stream.on('data', (chunk: Buffer) => this.onResponseData(attempt, chunk));
    stream.once('end', () => this.onResponseEnd(attempt, stream));
    stream.once('close', () => this.onAttemptClosed(attempt));
  }

  /** Retries start from a fresh stack, never from inside the session's callbacks. */
  private retry(attempt: H2Attempt): void {
    attempt.retrying = true;
    this.current = undefined;
    attempt.cancel(NGHTTP2_CANCEL);
    this.body?.detach();
    setImmediate(() => this.attempt());
  }

  private waitForEndpoint(): void {
    const now = performance.now();
    if (this.waitingSince < 0) this.waitingSince = now;
    const { failFastMs } = this.context.options;
    if (now - this.waitingSince >= failFastMs) {
      const name = this.destination.kind === 'balanced' ? this.destination.logical.canonical : 'the target';
      this.fail(503, `no endpoint of ${name} was available within ${failFastMs} ms (fail-fast)`);
      return;
    }
    this.waitTimer = setTimeout(() => {
      this.waitTimer = undefined;
      this.attempt();
    }, ENDPOINT_POLL_MS);
  }

  // ----- response -----

  private onResponseHead(attempt: H2Attempt, raw: readonly string[], endsStream: boolean): void {
    attempt.headAt = performance.now();
    attempt.head = forwardH2ResponseHeaders(raw);
    attempt.status = Number(rawHeaderValue(raw, ':status'));
    attempt.headEndsStream = endsStream;
    if (attempt !== this.current || this.done) {
      attempt.settleLease(false);
      attempt.cancel(NGHTTP2_CANCEL);
      return;
    }
    if (!this.grpc) {
      const retry = this.shouldRetryStatus(attempt.status);
      // A failure the route retries puts the endpoint on the balancer's failure backoff, so the retry goes elsewhere.
      attempt.settleLease(retry);
      if (retry) this.retry(attempt);
      else this.commit(attempt);
      return;
    }
    if (attempt.headEndsStream) attempt.grpcStatus = parseGrpcStatus(rawHeaderValue(raw, 'grpc-status'));
    // gRPC tells its status at the end: while a retry is possible, the head waits for the first message or the trailers.
    if (attempt.headEndsStream || this.mayRetry()) {
      attempt.held = true;
      return;
    }
    attempt.settleLease(false);
    this.commit(attempt);
  }

  private onResponseData(attempt: H2Attempt, chunk: Buffer): void {
    if (attempt !== this.current || this.done || attempt.retrying || attempt.wasCancelled) return;
    if (attempt.held) {
      attempt.held = false;
      attempt.settleLease(false);
      if (!this.commit(attempt)) return;
    }
    if (this.downstream.destroyed) return;
    if (this.tap !== undefined) this.tap.responseBytes += chunk.length;
    if (!this.downstream.write(chunk)) {
      const stream = attempt.stream;
      stream?.pause();
      this.downstream.once('drain', () => stream?.resume());
    }
  }

  /** Node also ends the readable side when the stream is reset; only an end without an error code is a response's end. */
  private onResponseEnd(attempt: H2Attempt, stream: ClientHttp2Stream): void {
    if ((stream.rstCode ?? NGHTTP2_NO_ERROR) !== NGHTTP2_NO_ERROR) return;
    attempt.complete = true;
    attempt.grpcStatus = parseGrpcStatus(rawHeaderValue(attempt.trailers, 'grpc-status')) ?? attempt.grpcStatus;
    if (attempt !== this.current || this.done || attempt.retrying || attempt.wasCancelled) {
      this.recordAttempt(attempt, undefined);
      return;
    }
    if (attempt.held) {
      attempt.held = false;
      const retry = this.shouldRetryGrpc(attempt);
      attempt.settleLease(retry);
      this.recordAttempt(attempt, undefined);
      if (retry) {
        this.retry(attempt);
        return;
      }
      if (!this.commit(attempt)) return;
    } else this.recordAttempt(attempt, undefined);
    if (!attempt.headEndsStream && !this.downstream.destroyed) {
      this.trailers = attempt.trailers;
      this.downstream.end();
    }
    this.finish(attempt.status, attempt.grpcStatus, undefined, undefined, attempt.trailers);
  }

  private readonly onWantTrailers = (): void => {
    try {
      this.downstream.sendTrailers(headerObjectOf(this.trailers));
    } catch {
      resetH2Stream(this.downstream, NGHTTP2_INTERNAL_ERROR);
    }
  };

  private onAttemptClosed(attempt: H2Attempt, unsent?: AttemptFailure): void {
    if (attempt.complete) {
      this.afterComplete(attempt);
      return;
    }
    if (attempt === this.current) this.body?.detach();
    if (attempt.wasCancelled) {
      attempt.settleLease(false);
      this.recordAttempt(attempt, attempt.retrying ? undefined : 'cancelled');
      return;
    }
    const stream = attempt.stream;
    const code = stream?.rstCode;
    const sessionLost = stream === undefined || attempt.upstream.session.destroyed;
    const failure: AttemptFailure =
      unsent ?? (!attempt.sent || !attempt.upstream.connected ? 'connect' : !sessionLost && code === NGHTTP2_REFUSED_STREAM ? 'refused' : 'lost');
    const error = attempt.upstream.failure ?? attempt.error ?? `RST_STREAM ${code ?? '?'}`;
    attempt.settleLease(true);
    this.recordAttempt(attempt, error);
    if (attempt !== this.current || this.done) return;
    if (this.committed) {
      // The head is out: only a reset can tell the client, with the endpoint's code.
      const resetCode = sessionLost ? NGHTTP2_INTERNAL_ERROR : resetCodeOf(code);
      resetH2Stream(this.downstream, resetCode);
      this.finish(attempt.status, undefined, error, resetCode);
      return;
    }
    if (this.mayTryAgain(failure)) {
      setImmediate(() => this.attempt());
      return;
    }
    if (failure !== 'connect' && !sessionLost && code !== undefined) {
      // The endpoint reset the stream before answering: the client gets the same reset.
      resetH2Stream(this.downstream, resetCodeOf(code));
      this.finish(undefined, undefined, error, resetCodeOf(code));
      return;
    }
    this.fail(...describeFailure(failure, error, formatSocketAddress(attempt.endpoint.address)));
  }

  /** The endpoint's stream closed after its whole response; if it stopped reading the request body, so does the client. */
  private afterComplete(attempt: H2Attempt): void {
    if (attempt !== this.current || this.body === undefined || this.body.ended) return;
    this.body.discard();
    if (!this.downstream.closed && !this.downstream.destroyed) this.downstream.close(NGHTTP2_NO_ERROR);
  }

  /** The request cannot be sent as it is (Node refused its headers): the client's fault, not the endpoint's. */
  private rejectRequest(attempt: H2Attempt): void {
    attempt.settleLease(false);
    this.recordAttempt(attempt, attempt.error);
    this.fail(400, `the request cannot be forwarded (${attempt.error ?? 'invalid'})`);
  }

  // ----- retry decisions -----

  private replayable(): boolean {
    return this.body === undefined || this.body.replayable;
  }

  private shouldRetryStatus(status: number): boolean {
    const route = this.route;
    if (route === undefined || !route.isRetryable || !isFailureResponse(route, status)) return false;
    return this.replayable() && this.attempts < this.context.options.maxAttempts && this.withdrawRetry();
  }

  /** Whether a gRPC response could still be retried, before its status is known. */
  private mayRetry(): boolean {
    return (
      this.route?.isRetryable === true &&
      this.destination.kind === 'balanced' &&
      this.replayable() &&
      this.attempts < this.context.options.maxAttempts
    );
  }

  /** A gRPC failure is retried when the route's response class says failure, or (no class) for UNAVAILABLE. */
  private shouldRetryGrpc(attempt: H2Attempt): boolean {
    const status = attempt.grpcStatus;
    if (status === undefined || status === 0 || !this.mayRetry()) return false;
    const httpStatus = attempt.status ?? 200;
    const routeSays = this.route?.responseClasses.find((responseClass) => responseClass.matches(httpStatus))?.isFailure;
    return (routeSays ?? RETRYABLE_GRPC_STATUSES.has(status)) && this.withdrawRetry();
  }

  /**
   * A request that never reached the endpoint goes to another one whatever the route; one the endpoint refused
   * unprocessed (REFUSED_STREAM, or past a GOAWAY) may go anywhere; one lost after sending only on retryable routes.
   */
  private mayTryAgain(failure: AttemptFailure): boolean {
    if (this.attempts >= this.context.options.maxAttempts || !this.replayable()) return false;
    if (failure === 'connect') return this.destination.kind === 'balanced';
    if (failure === 'refused') return true;
    return this.route?.isRetryable === true && this.withdrawRetry();
  }

  private withdrawRetry(): boolean {
    return this.destination.kind === 'balanced' && this.destination.logical.retryBudget().tryWithdraw();
  }

  // ----- outcome -----

  private commit(attempt: H2Attempt): boolean {
    this.committed = true;
    this.clearTimers();
    this.body?.release();
    try {
      this.downstream.respond(attempt.head, attempt.headEndsStream ? RESPOND_ENDED : RESPOND_STREAMING);
      this.tap?.responseInit(attempt.status ?? 0, attempt.head);
    } catch {
      this.committed = false;
      attempt.cancel(NGHTTP2_CANCEL);
      this.fail(502, `upstream ${formatSocketAddress(attempt.endpoint.address)} sent a response head that cannot be forwarded`);
      return false;
    }
    return true;
  }

  private fail(status: ProxyErrorStatus, reason: string): void {
    if (this.done) return;
    this.clearTimers();
    const downstream = this.downstream;
    // A stream already closed gets no answer; one whose head went out only a reset (see respondH2ProxyError).
    const answered = !downstream.destroyed && !downstream.closed && !downstream.headersSent;
    respondH2ProxyError(downstream, status, reason, this.grpc);
    if (answered && this.tap !== undefined) {
      this.tapRequest(this.tap, undefined);
      this.tap.syntheticResponse(status, reason, this.grpc);
    }
    const resetCode = answered ? undefined : (downstream.rstCode ?? NGHTTP2_INTERNAL_ERROR);
    this.finish(this.grpc ? 200 : status, this.grpc ? grpcStatusOf(status) : undefined, undefined, resetCode);
    // Whatever body is still coming is read and dropped; the response has said all there is.
    this.body?.discard();
  }

  private readonly onRouteTimeout = (): void => {
    this.routeTimer = undefined;
    if (this.committed || this.done) return;
    this.current?.cancel(NGHTTP2_CANCEL);
    const route = this.route;
    this.fail(504, `route "${route?.name ?? ''}" timed out after ${route?.timeoutMs ?? 0} ms`);
  };

  /** The client's stream closed: before the end of the exchange its reset goes upstream with the same code. */
  private readonly onDownstreamClose = (): void => {
    const code = this.downstream.rstCode ?? NGHTTP2_CANCEL;
    const attempt = this.current;
    if (this.done) {
      const stream = attempt?.stream;
      if (code !== NGHTTP2_NO_ERROR && stream !== undefined && !stream.closed) resetH2Stream(stream, code);
      return;
    }
    attempt?.cancel(code === NGHTTP2_NO_ERROR ? NGHTTP2_CANCEL : code);
    this.finish(this.committed ? attempt?.status : undefined, undefined, 'client reset the stream', code);
  };

  /**
   * The exchange is over when its response (real or synthetic) went out whole, or the client left. `resetCode` is
   * the RST_STREAM code of a stream that ended in a reset; `trailers` those forwarded.
   */
  private finish(
    status: number | undefined,
    grpcStatus: number | undefined,
    error: string | undefined,
    resetCode?: number,
    trailers?: readonly string[],
  ): void {
    if (this.done) return;
    this.done = true;
    this.clearTimers();
    if (this.logical !== undefined) this.logical.active -= 1;
    this.recordRoute(status, grpcStatus, error);
    if (this.tap !== undefined) this.tapEnd(this.tap, error === undefined ? grpcStatus : undefined, resetCode, trailers);
  }

  // ----- tap -----

  /** requestInit, once: the request as the client sent it, going to `chosen` (or what is known before one is). */
  private tapRequest(tap: RequestTap, chosen: ChosenEndpoint | undefined): void {
    if (tap.requested) return;
    const headers = this.tapHeaders ?? [];
    tap.requestInit({
      ...tapDestinationOf(this.destination, chosen),
      method: this.method,
      scheme: rawHeaderValue(headers, ':scheme') ?? 'http',
      authority: rawHeaderValue(headers, ':authority') ?? rawHeaderValue(headers, 'host') ?? tapAuthorityOf(this.destination),
      path: this.path,
      headers,
      routeLabels: tapRouteLabelsOf(this.route, this.routeLabels),
    });
  }

  /** responseEnd, after the requestInit of a stream that ended before reaching any endpoint. */
  private tapEnd(tap: RequestTap, grpcStatus: number | undefined, resetCode: number | undefined, trailers: readonly string[] | undefined): void {
    this.tapRequest(tap, undefined);
    tap.responseEnd({ grpcStatus, resetErrorCode: resetCode, trailers });
  }

  // ----- routes and metrics -----

  private startRoute(destination: Extract<Http1Destination, { kind: 'balanced' }>): void {
    const { logical } = destination;
    this.logical = logical;
    logical.active += 1;
    this.route = matchProfileRoute(logical.profile(), { method: this.method, path: this.path });
    this.routeLabels = logical.routeLabelsFor(this.context.direction, this.route?.name ?? 'default');
    this.context.metrics.routeRequestStarted(this.routeLabels);
    // Retries are a share of the requests that could be retried, as in Linkerd.
    if (this.route?.isRetryable === true) logical.retryBudget().deposit();
    const timeoutMs = this.route?.timeoutMs;
    if (timeoutMs !== undefined && timeoutMs > 0) this.routeTimer = setTimeout(this.onRouteTimeout, timeoutMs);
  }

  private recordAttempt(attempt: H2Attempt, error: string | undefined): void {
    if (attempt.recorded) return;
    attempt.recorded = true;
    const latencyMs = (attempt.headAt > 0 ? attempt.headAt : performance.now()) - attempt.startedAt;
    const outcome = { status: attempt.status, grpcStatus: attempt.grpcStatus, error };
    this.context.metrics.responseEnded(attempt.endpoint.labels, recordedResponse(this.route, outcome, latencyMs));
  }

  private recordRoute(status: number | undefined, grpcStatus: number | undefined, error: string | undefined): void {
    if (this.routeLabels === undefined || this.routeRecorded) return;
    this.routeRecorded = true;
    const outcome = { status, grpcStatus, error };
    this.context.metrics.routeResponseEnded(this.routeLabels, recordedResponse(this.route, outcome, performance.now() - this.startedAt));
  }

  private clearTimers(): void {
    if (this.routeTimer !== undefined) clearTimeout(this.routeTimer);
    if (this.waitTimer !== undefined) clearTimeout(this.waitTimer);
    this.routeTimer = undefined;
    this.waitTimer = undefined;
  }
}

/** The synthetic status and reason for an attempt that ended without a response head. */
function describeFailure(failure: AttemptFailure, code: string, address: string): [ProxyErrorStatus, string] {
  if (failure === 'connect' || code === CONNECT_TIMEOUT_CODE) return [502, `connection to ${address} failed (${code})`];
  return [502, `upstream ${address} failed (${code})`];
}

function errorCode(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { code, cause } = error as { code?: unknown; cause?: { code?: unknown } };
  // A stream cancelled because its session never connected carries the connect error as its cause.
  if (typeof cause?.code === 'string') return cause.code;
  return typeof code === 'string' ? code : 'ERROR';
}
