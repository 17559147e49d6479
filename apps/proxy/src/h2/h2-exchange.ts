// H2Exchange: one forwarded HTTP/2 stream: route, body, attempts with retries and timeouts, response, trailers, resets.
import { formatSocketAddress, parseGrpcStatus } from '@weft/core';
import { type ClientHttp2Stream, constants, type ServerHttp2Stream, type ServerStreamResponseOptions } from 'node:http2';
import { performance } from 'node:perf_hooks';
import { type ChosenEndpoint, type Http1Destination, tapAuthorityOf } from '../http/forward-context.js';
import { withClientId } from '../inbound/inbound-authorizer.js';
import { ForwardExchange, type TapRequestLine } from '../http/forward-exchange.js';
import { rawHeaderValue } from '../http/hop-by-hop-headers.js';
import { isGrpcContentType, type ProxyErrorStatus } from '../http/proxy-error.js';
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

export class H2Exchange extends ForwardExchange<H2ForwardContext, H2Attempt> {
  private readonly headers: string[];
  private body: H2RequestBody | undefined;
  /** The trailers that close the committed response. */
  private trailers: string[] = [];
  /** The request's raw headers, kept for tap only. */
  private readonly tapHeaders: readonly string[] | undefined;

  constructor(
    context: H2ForwardContext,
    private readonly downstream: ServerHttp2Stream,
    rawHeaders: readonly string[],
    /** The request's HEADERS carried END_STREAM: there is no body. */
    private readonly bodyless: boolean,
    destination: Http1Destination,
  ) {
    super(context, destination, {
      grpc: isGrpcContentType(rawHeaderValue(rawHeaders, 'content-type')),
      method: rawHeaderValue(rawHeaders, ':method') ?? 'GET',
      path: rawHeaderValue(rawHeaders, ':path') ?? '/',
      client: downstream.session?.socket,
    });
    const clientId = destination.kind === 'direct' ? destination.inbound?.clientId : undefined;
    this.headers = withClientId(forwardH2RequestHeaders(rawHeaders, { stripClientId: context.stripClientId }), clientId);
    if (this.tap !== undefined) this.tapHeaders = rawHeaders;
  }

  start(): void {
    // Listeners are made here, never kept in fields: see PER_REQUEST_FUNCTIONS in forward-exchange.ts.
    this.downstream.once('close', () => this.downstreamClosed());
    this.downstream.on('wantTrailers', () => this.sendTrailers());
    if (this.destination.kind === 'balanced') this.startRoute(this.destination);
    if (!this.bodyless) {
      // Kept for a replay on retryable routes, and on balanced ones until the request is on the wire (connect failures).
      const retain = this.route?.isRetryable === true || this.destination.kind === 'balanced';
      this.body = new H2RequestBody(this.downstream, this.context.options.maxReplayBodyBytes, retain);
    }
    this.attempt();
  }

  // ----- attempts -----

  protected newAttempt(chosen: ChosenEndpoint): H2Attempt {
    return new H2Attempt(chosen, this.context.upstreams.get(chosen.address, chosen.lease?.endpoint));
  }

  protected send(attempt: H2Attempt): void {
    const { upstream } = attempt;
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

  protected cancelAttempt(attempt: H2Attempt): void {
    attempt.cancel(NGHTTP2_CANCEL);
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
      else this.commitHead(attempt);
      return;
    }
    if (attempt.headEndsStream) attempt.grpcStatus = parseGrpcStatus(rawHeaderValue(raw, 'grpc-status'));
    // gRPC tells its status at the end: while a retry is possible, the head waits for the first message or the trailers.
    if (attempt.headEndsStream || this.mayRetry()) {
      attempt.held = true;
      return;
    }
    attempt.settleLease(false);
    this.commitHead(attempt);
  }

  private onResponseData(attempt: H2Attempt, chunk: Buffer): void {
    if (attempt !== this.current || this.done || attempt.retrying || attempt.wasCancelled) return;
    if (attempt.held) {
      attempt.held = false;
      attempt.settleLease(false);
      if (!this.commitHead(attempt)) return;
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
      if (!this.commitHead(attempt)) return;
    } else this.recordAttempt(attempt, undefined);
    if (!attempt.headEndsStream && !this.downstream.destroyed) {
      this.trailers = attempt.trailers;
      this.downstream.end();
    }
    this.finish(attempt.status, attempt.grpcStatus, undefined, undefined, attempt.trailers);
  }

  private sendTrailers(): void {
    try {
      this.downstream.sendTrailers(headerObjectOf(this.trailers));
    } catch {
      resetH2Stream(this.downstream, NGHTTP2_INTERNAL_ERROR);
    }
  }

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

  protected isReplayable(): boolean {
    return this.body === undefined || this.body.replayable;
  }

  /** Whether a gRPC response could still be retried, before its status is known. */
  private mayRetry(): boolean {
    return (
      this.route?.isRetryable === true &&
      this.destination.kind === 'balanced' &&
      this.isReplayable() &&
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
    if (this.attempts >= this.context.options.maxAttempts || !this.isReplayable()) return false;
    if (failure === 'connect') return this.destination.kind === 'balanced';
    if (failure === 'refused') return true;
    return this.route?.isRetryable === true && this.withdrawRetry();
  }

  // ----- outcome -----

  /** Releases the body kept for replays and sends the head `attempt` got. */
  private commitHead(attempt: H2Attempt): boolean {
    return this.commit(attempt, () => {
      this.body?.release();
      this.downstream.respond(attempt.head, attempt.headEndsStream ? RESPOND_ENDED : RESPOND_STREAMING);
      return attempt.head;
    });
  }

  protected override fail(status: ProxyErrorStatus, reason: string): void {
    if (this.done) return;
    super.fail(status, reason);
    // Whatever body is still coming is read and dropped; the response has said all there is.
    this.body?.discard();
  }

  /** A stream already closed gets no answer; one whose head went out only a reset (see respondH2ProxyError). */
  protected sendError(status: ProxyErrorStatus, reason: string): number | undefined {
    const downstream = this.downstream;
    const answered = !downstream.destroyed && !downstream.closed && !downstream.headersSent;
    respondH2ProxyError(downstream, status, reason, this.grpc);
    return answered ? undefined : (downstream.rstCode ?? NGHTTP2_INTERNAL_ERROR);
  }

  /** The client's stream closed: before the end of the exchange its reset goes upstream with the same code. */
  private downstreamClosed(): void {
    const code = this.downstream.rstCode ?? NGHTTP2_CANCEL;
    const attempt = this.current;
    if (this.done) {
      const stream = attempt?.stream;
      if (code !== NGHTTP2_NO_ERROR && stream !== undefined && !stream.closed) resetH2Stream(stream, code);
      return;
    }
    attempt?.cancel(code === NGHTTP2_NO_ERROR ? NGHTTP2_CANCEL : code);
    this.finish(this.committed ? attempt?.status : undefined, undefined, 'client reset the stream', code);
  }

  // ----- tap -----

  protected tapRequestLine(): TapRequestLine {
    const headers = this.tapHeaders ?? [];
    return {
      method: this.method,
      scheme: rawHeaderValue(headers, ':scheme') ?? 'http',
      authority: rawHeaderValue(headers, ':authority') ?? rawHeaderValue(headers, 'host') ?? tapAuthorityOf(this.destination),
      path: this.path,
      headers,
    };
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
