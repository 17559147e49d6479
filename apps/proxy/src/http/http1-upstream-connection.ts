// Http1UpstreamConnection: one keep-alive HTTP/1.1 connection to an endpoint, carrying one exchange at a time, parsed by llhttp.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { requestHead, type RequestFraming } from './http1-request-head.js';
import {
  type HeadersCompleteCallback,
  HTTPParser,
  type LlhttpError,
  type OwnedParser as LlhttpOwnedParser,
  ownedParser,
  type ParserCallbacks,
  releaseParser,
  SKIP_BODY,
} from './llhttp-parser.js';
import { UpstreamError } from './upstream-error.js';

export interface UpstreamRequest {
  readonly method: string;
  readonly path: string;
  /** Flat [name, value, ...] without hop-by-hop fields. */
  readonly headers: readonly string[];
  /** Nothing, the whole body (replayable), or a stream of it. */
  readonly body: Buffer | Readable | null;
}

/** The one exchange a connection carries; every callback comes at most once except onData. */
export interface UpstreamHandler {
  /** The request is about to be written on `connection`: from now on it may reach the endpoint. */
  onConnect(connection: UpstreamConnectionControl): void;
  /** The final response head (interim 1xx heads are not passed on); false pauses reading until `resume`. */
  onHeaders(status: number, rawHeaders: string[]): boolean;
  /** A piece of the response body; false pauses reading until `resume`. */
  onData(chunk: Buffer): boolean;
  onComplete(trailers: string[] | null): void;
  onError(error: Error & { code?: string }): void;
}

/** What a handler may do to the connection that carries it; calls for an exchange that is over do nothing. */
export interface UpstreamConnectionControl {
  /** Ends the exchange: the connection is closed and the handler gets `error` through onError. */
  abort(handler: UpstreamHandler, error: Error): void;
  resume(handler: UpstreamHandler): void;
}

/** The pool a connection belongs to. */
export interface UpstreamConnectionOwner {
  /** The exchange ended and the connection can carry another. */
  released(connection: Http1UpstreamConnection): void;
  /** The socket is closed. */
  closed(connection: Http1UpstreamConnection): void;
}

export interface UpstreamConnectionOptions {
  /** The endpoint as host:port, the `host` of requests without one. */
  readonly authority: string;
  readonly maxResponseHeaderBytes: number;
  /** An idle connection is not used again after this (shortened by the server's own Keep-Alive timeout hint). */
  readonly keepAliveTimeoutMs: number;
}

/** A server's Keep-Alive hint is cut by this much, so the proxy stops using a connection before the server closes it. */
const KEEP_ALIVE_HINT_MARGIN_MS = 1_000;
const KEEP_ALIVE_TIMEOUT = /timeout\s*=\s*(\d+)/i;

type OwnedParser = LlhttpOwnedParser<Http1UpstreamConnection>;

export class Http1UpstreamConnection implements UpstreamConnectionControl {
  private handler: UpstreamHandler | undefined;
  private readonly parser: OwnedParser;
  private closed = false;
  private socketError: (Error & { code?: string }) | undefined;
  // The current exchange.
  private sentAtMs = 0;
  private lastReadAtMs = 0;
  private awaitingHead = false;
  private paused = false;
  private headRequest = false;
  private interim = false;
  private keepAlive = true;
  private requestDone = true;
  private body: Readable | undefined;
  private framing: RequestFraming = { kind: 'none' };
  private bodyBytes = 0;
  /** Header fields llhttp hands over before the head completes (heads of more than 32 fields) and trailers. */
  private pendingFields: string[] = [];
  // Between exchanges.
  private idleSinceMs = 0;
  private idleLimitMs: number;

  constructor(
    readonly socket: Socket,
    private readonly owner: UpstreamConnectionOwner,
    private readonly options: UpstreamConnectionOptions,
  ) {
    this.idleLimitMs = options.keepAliveTimeoutMs;
    this.parser = ownedParser(HTTPParser.RESPONSE, options.maxResponseHeaderBytes, this, PARSER_CALLBACKS);
    socket.on('data', this.onSocketData);
    socket.on('end', this.onSocketEnd);
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
  }

  /** Writes `request` and reports its response to `handler`. Only on a connection that is new or was released. */
  send(request: UpstreamRequest, handler: UpstreamHandler): void {
    const body = request.body;
    const head = requestHead(request.method, request.path, request.headers, this.options.authority, body === null ? 'none' : Buffer.isBuffer(body) ? body.length : 'stream');
    if (typeof head === 'string') {
      // Nothing was written: the connection stays as good as it was.
      this.idleSinceMs = performance.now();
      this.owner.released(this);
      handler.onError(new UpstreamError(head.includes('target') ? 'REQUEST_INVALID' : 'REQUEST_BODY_LENGTH_MISMATCH', head));
      return;
    }
    this.handler = handler;
    this.headRequest = request.method === 'HEAD';
    this.keepAlive = true;
    this.interim = false;
    this.bodyBytes = 0;
    handler.onConnect(this);
    if (this.handler !== handler) return;
    this.framing = head.framing;
    this.sentAtMs = performance.now();
    this.lastReadAtMs = this.sentAtMs;
    this.awaitingHead = true;
    if (body === null || head.framing.kind === 'none') {
      this.requestDone = true;
      this.socket.write(head.text, 'latin1');
    } else if (Buffer.isBuffer(body)) {
      this.requestDone = true;
      this.socket.cork();
      this.socket.write(head.text, 'latin1');
      this.socket.write(body);
      this.socket.uncork();
    } else {
      this.requestDone = false;
      this.socket.write(head.text, 'latin1');
      this.body = body;
      body.on('data', this.onBodyData);
      body.on('end', this.onBodyEnd);
      body.on('error', this.onBodyError);
      body.on('close', this.onBodyClose);
    }
  }

  abort(handler: UpstreamHandler, error: Error): void {
    if (this.handler === handler) this.fail(error);
  }

  resume(handler: UpstreamHandler): void {
    if (this.handler !== handler || !this.paused) return;
    this.paused = false;
    this.lastReadAtMs = performance.now();
    this.socket.resume();
  }

  /** Whether an idle connection may carry another request at `nowMs`. */
  reusable(nowMs: number): boolean {
    return !this.closed && this.handler === undefined && nowMs - this.idleSinceMs < this.idleLimitMs;
  }

  /** Fails the exchange whose head or body has not come within the limits. */
  checkTimeouts(nowMs: number, headersTimeoutMs: number, bodyTimeoutMs: number): void {
    if (this.handler === undefined || this.paused) return;
    if (this.awaitingHead && nowMs - this.sentAtMs > headersTimeoutMs) {
      this.fail(new UpstreamError('UPSTREAM_HEADERS_TIMEOUT', `no response head within ${headersTimeoutMs} ms`));
    } else if (!this.awaitingHead && nowMs - this.lastReadAtMs > bodyTimeoutMs) {
      this.fail(new UpstreamError('UPSTREAM_BODY_TIMEOUT', `the response body stalled for ${bodyTimeoutMs} ms`));
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  // ----- response (llhttp callbacks, through the module functions below) -----

  /** A response begins: one nobody asked for means the endpoint is not speaking HTTP/1.1 any more. */
  messageBegin(): void {
    if (this.handler === undefined) this.socket.destroy();
  }

  headersComplete(headers: string[] | undefined, statusCode: number, shouldKeepAlive: boolean): number {
    const handler = this.handler;
    if (handler === undefined) return SKIP_BODY;
    const fields = headers ?? this.pendingFields;
    this.pendingFields = [];
    if (statusCode < 200) {
      if (statusCode === 101) {
        this.fail(new UpstreamError('UPSTREAM_MALFORMED_RESPONSE', 'the endpoint switched protocols on a request that asked for no upgrade'));
        return SKIP_BODY;
      }
      this.interim = true;
      return SKIP_BODY;
    }
    this.awaitingHead = false;
    this.keepAlive = shouldKeepAlive && this.keepAliveHint(fields);
    if (!handler.onHeaders(statusCode, fields) && this.handler === handler) this.pause();
    return this.headRequest ? SKIP_BODY : 0;
  }

  responseBody(chunk: Buffer): void {
    const handler = this.handler;
    if (handler !== undefined && !handler.onData(chunk) && this.handler === handler) this.pause();
  }

  messageComplete(): void {
    if (this.interim) {
      this.interim = false;
      return;
    }
    const handler = this.handler;
    if (handler === undefined) return;
    const trailers = this.pendingFields.length > 0 ? this.pendingFields : null;
    this.pendingFields = [];
    this.handler = undefined;
    if (!this.requestDone) {
      // Answered before the whole request body went out: the rest would be read as the next request.
      this.detachBody();
      this.keepAlive = false;
    }
    if (!this.keepAlive) this.socket.destroy();
    // Released only after the handler has heard: a request it sends from onComplete goes on another connection, never
    // on this one while llhttp may still be parsing the rest of the same read.
    handler.onComplete(trailers);
    if (this.keepAlive && !this.closed && this.handler === undefined) {
      this.idleSinceMs = performance.now();
      if (this.paused) {
        this.paused = false;
        this.socket.resume();
      }
      this.owner.released(this);
    }
  }

  addFields(fields: string[]): void {
    for (const field of fields) this.pendingFields.push(field);
  }

  // ----- socket -----

  private readonly onSocketData = (chunk: Buffer): void => {
    if (this.handler !== undefined) this.lastReadAtMs = performance.now();
    const result = this.parser.execute(chunk);
    if (typeof result !== 'number') this.malformed(result);
  };

  /** The endpoint ended its side: that completes a body delimited by the close; anything else was cut short. */
  private readonly onSocketEnd = (): void => {
    const result = this.parser.finish();
    const cut = result !== undefined && typeof result !== 'number' ? ` (${result.code ?? 'HPE'}: ${result.reason ?? result.message})` : '';
    this.fail(new UpstreamError('UPSTREAM_CLOSED', `the endpoint closed the connection before the response ended${cut}`));
    this.socket.destroy();
  };

  private readonly onSocketError = (error: Error): void => {
    this.socketError = error;
  };

  private readonly onSocketClose = (): void => {
    this.closed = true;
    this.fail(this.socketError ?? new UpstreamError('UPSTREAM_CLOSED', 'the connection to the endpoint closed before the response ended'));
    this.owner.closed(this);
    releaseParser(this.parser);
  };

  private malformed(error: LlhttpError): void {
    const reason = error.reason ?? error.message;
    this.fail(new UpstreamError('UPSTREAM_MALFORMED_RESPONSE', `the endpoint sent an invalid response (${error.code ?? 'HPE'}: ${reason})`));
    this.socket.destroy();
  }

  // ----- request body -----

  private readonly onBodyData = (chunk: Buffer): void => {
    if (chunk.length === 0) return;
    this.bodyBytes += chunk.length;
    let flowing: boolean;
    if (this.framing.kind === 'length') {
      if (this.bodyBytes > this.framing.length) {
        this.fail(new UpstreamError('REQUEST_BODY_LENGTH_MISMATCH', `the request body is longer than its Content-Length (${this.framing.length})`));
        return;
      }
      flowing = this.socket.write(chunk);
    } else {
      this.socket.cork();
      this.socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      this.socket.write(chunk);
      flowing = this.socket.write('\r\n', 'latin1');
      this.socket.uncork();
    }
    if (!flowing) {
      this.body?.pause();
      this.socket.once('drain', this.onRequestDrain);
    }
  };

  private readonly onRequestDrain = (): void => {
    this.body?.resume();
  };

  private readonly onBodyEnd = (): void => {
    if (this.framing.kind === 'length' && this.bodyBytes !== this.framing.length) {
      this.fail(new UpstreamError('REQUEST_BODY_LENGTH_MISMATCH', `the request body has ${this.bodyBytes} bytes but Content-Length says ${this.framing.length}`));
      return;
    }
    if (this.framing.kind === 'chunked') this.socket.write('0\r\n\r\n', 'latin1');
    this.detachBody();
    this.requestDone = true;
  };

  private readonly onBodyError = (error: Error): void => {
    this.fail(error);
  };

  private readonly onBodyClose = (): void => {
    if (!this.requestDone) this.fail(new UpstreamError('REQUEST_BODY_ABORTED', 'the request body ended before it was complete'));
  };

  private detachBody(): void {
    const body = this.body;
    if (body === undefined) return;
    this.body = undefined;
    body.off('data', this.onBodyData);
    body.off('end', this.onBodyEnd);
    body.off('error', this.onBodyError);
    body.off('close', this.onBodyClose);
    this.socket.off('drain', this.onRequestDrain);
  }

  // ----- helpers -----

  private pause(): void {
    this.paused = true;
    this.socket.pause();
  }

  /** Ends the current exchange with `error` and closes the connection (it may hold half a message). */
  private fail(error: Error): void {
    const handler = this.handler;
    if (handler === undefined) return;
    this.handler = undefined;
    this.requestDone = true;
    this.detachBody();
    this.socket.destroy();
    handler.onError(error);
  }

  /** Applies the server's `Keep-Alive: timeout=N`; false when that leaves no time to reuse the connection. */
  private keepAliveHint(fields: readonly string[]): boolean {
    this.idleLimitMs = this.options.keepAliveTimeoutMs;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i] as string;
      if (name.length !== 10 || name.toLowerCase() !== 'keep-alive') continue;
      const hint = KEEP_ALIVE_TIMEOUT.exec(fields[i + 1] as string);
      if (hint === null) continue;
      const limit = Number(hint[1]) * 1_000 - KEEP_ALIVE_HINT_MARGIN_MS;
      if (limit <= 0) return false;
      this.idleLimitMs = Math.min(this.idleLimitMs, limit);
    }
    return true;
  }
}

// llhttp calls these with `this` bound to the parser; one set for every connection.

function onMessageBegin(this: OwnedParser): void {
  this.owner.messageBegin();
}

function onHeaderFields(this: OwnedParser, fields: string[]): void {
  this.owner.addFields(fields);
}

const onHeadersComplete: HeadersCompleteCallback = function (this, _major, _minor, headers, _method, _url, statusCode, _message, _upgrade, shouldKeepAlive) {
  return (this as OwnedParser).owner.headersComplete(headers, statusCode, shouldKeepAlive);
};

function onBody(this: OwnedParser, chunk: Buffer): void {
  this.owner.responseBody(chunk);
}

function onMessageComplete(this: OwnedParser): void {
  this.owner.messageComplete();
}

const PARSER_CALLBACKS: ParserCallbacks<Http1UpstreamConnection> = {
  messageBegin: onMessageBegin,
  headers: onHeaderFields,
  headersComplete: onHeadersComplete,
  body: onBody,
  messageComplete: onMessageComplete,
};
