// ProxyExchange: one forwarded HTTP/1 request: route, body, attempts with retries and timeouts, streamed response, metrics.
import { formatSocketAddress, parseGrpcStatus } from '@weft/core';
import { performance } from 'node:perf_hooks';
import { PassThrough, type Readable } from 'node:stream';
import { withClientId } from '../inbound/inbound-authorizer.js';
import { AttemptHandler } from './attempt-handler.js';
import { type ChosenEndpoint, type ForwardContext, type Http1Destination, tapAuthorityOf } from './forward-context.js';
import { ForwardExchange, type TapRequestLine } from './forward-exchange.js';
import { forwardRequestHeaders, forwardResponseHeaders, rawHeaderValue } from './hop-by-hop-headers.js';
import type { Http1ServerRequest, RequestBody } from './http1-server-request.js';
import type { Http1ServerResponse, ResponseObserver } from './http1-server-response.js';
import { isGrpcContentType, type ProxyErrorStatus, sendProxyError } from './proxy-error.js';
import type { UpstreamErrorCode } from './upstream-error.js';

/** The code of the error that ends a request body the client stopped sending. */
const CLIENT_ABORTED = 'WEFT_CLIENT_ABORTED';
/** Failed responses up to this size are read to the end before a retry, so their connection stays reusable. */
const DRAIN_BEFORE_RETRY_BYTES = 64 * 1024;
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** Errors raised before a single request byte left: the endpoint could not be reached. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ECONNRESET', 'UPSTREAM_CLOSED']);
/** Errors caused by the request or its client, not by the endpoint. */
const REQUEST_FAULTS = new Set<string>(['REQUEST_INVALID', 'REQUEST_BODY_LENGTH_MISMATCH', 'REQUEST_BODY_ABORTED', CLIENT_ABORTED] satisfies (UpstreamErrorCode | typeof CLIENT_ABORTED)[]);
/** A reused keep-alive connection that the server closed just as the request went out. */
const STALE_CONNECTION_ERRORS = new Set(['ECONNRESET', 'UPSTREAM_CLOSED', 'EPIPE']);
/** Tap's reset code for an exchange whose client connection was cut: HTTP/1 has no RST_STREAM to name. */
const CONNECTION_CUT = 0;

export class ProxyExchange extends ForwardExchange<ForwardContext, AttemptHandler> implements ResponseObserver {
  private readonly headers: string[];
  private body: Buffer | Readable | null = null;
  private hasBody = false;
  /** Whether the body can be sent again (none, or buffered whole). */
  private replayable = true;

  constructor(
    context: ForwardContext,
    private readonly req: Http1ServerRequest,
    private readonly res: Http1ServerResponse,
    destination: Http1Destination,
  ) {
    super(context, destination, {
      grpc: isGrpcContentType(req.contentType),
      method: req.method,
      path: req.url,
      client: req.socket,
    });
    const clientId = destination.kind === 'direct' ? destination.inbound?.clientId : undefined;
    this.headers = withClientId(forwardRequestHeaders(req.rawHeaders, { stripClientId: context.stripClientId }), clientId);
  }

  start(): void {
    // The response tells this exchange about its client through methods, never through functions kept per request
    // (PER_REQUEST_FUNCTIONS in forward-exchange.ts).
    this.res.observer = this;
    if (this.destination.kind === 'balanced') this.startRoute(this.destination);
    const te = this.req.transferEncoding;
    const length = this.req.contentLength;
    if (te === undefined && (length === undefined || length === '0')) {
      this.attempt();
      return;
    }
    this.hasBody = true;
    // A body the parser rejects right after the head (bad chunk size...) has been answered with 400 by the next tick;
    // waiting for it means such a request never reaches the upstream.
    setImmediate(() => this.prepareBody(te === undefined ? Number(length) : undefined));
  }

  // ----- called by AttemptHandler -----

  /** The response head of an attempt; true to read its body, false to stop it. */
  onResponseHead(handler: AttemptHandler, status: number, rawHeaders: string[]): boolean {
    handler.headAt = performance.now();
    handler.status = status;
    if (handler !== this.current || this.done) {
      handler.settleLease(false);
      handler.cancel();
      return false;
    }
    const retry = this.shouldRetryStatus(status);
    // A failure the route retries puts the endpoint on the balancer's failure backoff, so the retry goes elsewhere.
    handler.settleLease(retry);
    if (retry) {
      handler.retrying = true;
      const length = Number(rawHeaderValue(rawHeaders, 'content-length') ?? Number.NaN);
      if (length <= DRAIN_BEFORE_RETRY_BYTES) return true;
      handler.cancel();
      return false;
    }
    return this.commitHead(handler, status, rawHeaders);
  }

  onResponseData(handler: AttemptHandler, chunk: Buffer): boolean {
    if (handler.retrying) return true;
    if (handler !== this.current || this.done) {
      handler.cancel();
      return false;
    }
    if (this.tap !== undefined) this.tap.responseBytes += chunk.length;
    return this.res.write(chunk);
  }

  onResponseEnd(handler: AttemptHandler, trailers: readonly string[] | null): void {
    const trailerPairs = trailers === null ? [] : forwardResponseHeaders(trailers);
    const grpcStatus = parseGrpcStatus(rawHeaderValue(trailerPairs, 'grpc-status')) ?? handler.grpcStatus;
    if (grpcStatus !== undefined) handler.grpcStatus = grpcStatus;
    this.recordAttempt(handler, undefined);
    if (handler.retrying) {
      this.attemptSoon();
      return;
    }
    if (handler !== this.current || this.done) return;
    if (trailerPairs.length > 0) this.res.addTrailers(trailerPairs);
    this.res.end();
    this.finish(handler.status, handler.grpcStatus, undefined, undefined, trailerPairs);
  }

  onAttemptError(handler: AttemptHandler, error: Error & { code?: string }): void {
    const code = error.code ?? error.name;
    const connectFailure = !handler.sent && CONNECT_ERRORS.has(code);
    // The endpoint is to blame unless the proxy stopped the attempt or the request itself was at fault.
    handler.settleLease(!handler.wasCancelled && !REQUEST_FAULTS.has(code));
    this.recordAttempt(handler, handler.retrying ? undefined : code);
    if (handler.retrying) {
      this.attemptSoon();
      return;
    }
    if (handler.wasCancelled || handler !== this.current || this.done) return;
    if (this.committed) {
      // The head is already out: the only honest signal left is to cut the downstream connection.
      this.res.destroy();
      this.finish(handler.status, undefined, code, CONNECTION_CUT);
      return;
    }
    if (this.mayTryAgain(code, connectFailure)) {
      this.attemptSoon();
      return;
    }
    const [status, reason] = describeFailure(code, formatSocketAddress(handler.endpoint.address));
    this.fail(status, reason);
  }

  // ----- attempts -----

  protected newAttempt(chosen: ChosenEndpoint): AttemptHandler {
    return new AttemptHandler(this, chosen);
  }

  protected send(handler: AttemptHandler): void {
    const body = this.body;
    this.context.pools.get(handler.endpoint.address, handler.endpoint.lease?.endpoint).dispatch({ path: this.path, method: this.method, headers: this.headers, body }, handler);
  }

  protected cancelAttempt(handler: AttemptHandler): void {
    handler.cancel();
  }

  protected isReplayable(): boolean {
    return this.replayable;
  }

  /** Retries start from a fresh stack, never from inside the upstream connection's callbacks. */
  private attemptSoon(): void {
    if (!this.done) setImmediate(() => this.attempt());
  }

  /**
   * Connect failures never sent a byte, so they go to another endpoint whatever the route (Linkerd's balancer would
   * not have picked an unreachable endpoint). A reused connection closed under a body-less idempotent request is the
   * keep-alive race, tried again once. Other failures are retried on retryable routes within the budget.
   */
  private mayTryAgain(code: string, connectFailure: boolean): boolean {
    if (this.attempts >= this.context.options.maxAttempts || code === 'UPSTREAM_HEADERS_TIMEOUT') return false;
    if (connectFailure) return this.destination.kind === 'balanced';
    if (!this.hasBody && IDEMPOTENT_METHODS.has(this.method) && STALE_CONNECTION_ERRORS.has(code) && this.attempts === 1) return true;
    return this.route?.isRetryable === true && this.replayable && this.withdrawRetry();
  }

  // ----- request body -----

  private prepareBody(length: number | undefined): void {
    if (this.done || this.req.socket.destroyed || this.req.socket.writableEnded || this.req.body === undefined) {
      this.abandon();
      return;
    }
    const limit = this.context.options.maxReplayBodyBytes;
    if (this.route?.isRetryable === true && (length === undefined || length <= limit)) {
      this.bufferBody(limit);
      return;
    }
    this.replayable = false;
    this.body = this.streamFrom([]);
    this.attempt();
  }

  /** Reads up to `limit` bytes so retries can replay them; past the limit the body streams and is not retried. */
  private bufferBody(limit: number): void {
    const body = this.req.body as RequestBody;
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size <= limit) return;
      body.off('data', onData).off('end', onEnd);
      body.pause();
      this.replayable = false;
      this.body = this.streamFrom(chunks);
      this.attempt();
    };
    const onEnd = (): void => {
      this.body = size === 0 ? null : Buffer.concat(chunks, size);
      this.attempt();
    };
    body.on('data', onData).once('end', onEnd);
  }

  /** The body as a stream of its own, so that an upstream failure never destroys the client's request (and socket). */
  private streamFrom(prefix: readonly Buffer[]): Readable {
    const stream = new PassThrough();
    // A failed attempt may leave the stream destroyed with the upstream's error; that error is reported through the attempt instead.
    stream.on('error', () => undefined);
    for (const chunk of prefix) stream.write(chunk);
    const body = this.req.body as RequestBody;
    body.pipe(stream);
    body.once('close', () => {
      if (!this.req.complete) stream.destroy(Object.assign(new Error('the client stopped sending the request body'), { code: CLIENT_ABORTED }));
    });
    return stream;
  }

  // ----- response -----

  /** Writes the head of the response `handler` (whose status is `status`) got. */
  private commitHead(handler: AttemptHandler, status: number, rawHeaders: string[]): boolean {
    return this.commit(handler, () => {
      const headers = forwardResponseHeaders(rawHeaders);
      handler.grpcStatus = parseGrpcStatus(rawHeaderValue(headers, 'grpc-status'));
      this.res.writeHead(status, headers);
      return headers;
    });
  }

  /** A client whose connection is gone or whose response head is out gets no answer: its connection is cut. */
  protected sendError(status: ProxyErrorStatus, reason: string): number | undefined {
    const answered = !this.res.headersSent && !this.res.destroyed;
    sendProxyError(this.res, status, reason, this.grpc, !this.req.complete);
    return answered ? undefined : CONNECTION_CUT;
  }

  /** The client took what was written: the attempt whose body was paused for it reads on. */
  downstreamDrained(): void {
    this.current?.resume();
  }

  /** The client's connection closed before the response ended. */
  downstreamClosed(): void {
    if (this.done) return;
    this.current?.cancel();
    this.finish(this.committed ? this.res.statusCode : undefined, undefined, 'client closed the connection', CONNECTION_CUT);
  }

  // ----- tap -----

  protected tapRequestLine(): TapRequestLine {
    return {
      method: this.method,
      scheme: 'http',
      authority: this.req.host ?? tapAuthorityOf(this.destination),
      path: this.path,
      headers: this.req.rawHeaders,
    };
  }

  /** Gives up without a word: the server already answered a malformed request. */
  private abandon(): void {
    this.routeRecorded = true;
    this.finish(undefined, undefined, 'malformed request', CONNECTION_CUT);
  }
}

/** The synthetic status and reason for an attempt that failed before a response head. */
function describeFailure(code: string, address: string): [ProxyErrorStatus, string] {
  if (code === 'UPSTREAM_HEADERS_TIMEOUT') return [504, `upstream ${address} did not send a response head in time`];
  if (code === 'REQUEST_INVALID' || code === 'REQUEST_BODY_LENGTH_MISMATCH') {
    return [400, `the request cannot be forwarded (${code})`];
  }
  if (CONNECT_ERRORS.has(code)) return [502, `connection to ${address} failed (${code})`];
  return [502, `upstream ${address} failed (${code})`];
}
