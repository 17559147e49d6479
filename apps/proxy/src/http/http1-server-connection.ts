// Http1ServerConnection: one client's HTTP/1 connection, read by llhttp (strict), its requests answered one at a time in order.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Http1ServerRequest, RequestBody, type RequestBodySource } from './http1-server-request.js';
import { Http1ServerResponse, type ResponseConnection } from './http1-server-response.js';
import {
  type HeadersCompleteCallback,
  HTTPParser,
  type LlhttpError,
  methodName,
  type OwnedParser as LlhttpOwnedParser,
  ownedParser,
  type ParserCallbacks,
  releaseParser,
} from './llhttp-parser.js';
import { type ProxyErrorStatus, writeRawProxyError } from './proxy-error.js';

/** What a connection needs of the server it belongs to. */
export interface ServerConnectionContext {
  readonly limits: {
    readonly maxHeaderBytes: number;
    readonly maxRequestsPerSocket: number;
    readonly keepAliveTimeoutMs: number;
  };
  /** Set while the proxy drains: every response then closes its connection. */
  readonly draining: boolean;
  request(request: Http1ServerRequest, response: Http1ServerResponse): void;
  tunnel(request: Http1ServerRequest, socket: Socket, head: Buffer): void;
  closed(connection: Http1ServerConnection): void;
}

/** Pipelined requests read ahead of the one being answered; past this the socket is not read until they are served. */
const MAX_QUEUED_REQUESTS = 16;
const CLIENT_ABORTED = 'WEFT_CLIENT_ABORTED';

type OwnedParser = LlhttpOwnedParser<Http1ServerConnection>;

interface Exchange {
  readonly request: Http1ServerRequest;
  readonly response: Http1ServerResponse;
}

export class Http1ServerConnection implements ResponseConnection, RequestBodySource {
  readonly keepAliveSeconds: number;
  private readonly parser: OwnedParser;
  /** The request whose body llhttp is reading. */
  private parsing: Http1ServerRequest | undefined;
  /** The request being answered, and those read after it, waiting their turn. */
  private active: Exchange | undefined;
  private readonly queue: Exchange[] = [];
  private served = 0;
  private pendingFields: string[] = [];
  private pendingUrl = '';
  private tunnelRequest: Http1ServerRequest | undefined;
  private readingPaused = false;
  private closed = false;
  /** The connection closes after what is being answered (a request refused, or a response that closes): nothing more is read. */
  private stopped = false;
  /** A refusal of a request read behind others: written once their responses are out, in request order. */
  private deferredRefusal: { readonly status: ProxyErrorStatus; readonly reason: string } | undefined;
  /** Set once the socket belongs to a tunnel. */
  handedOver = false;
  /** The client half-closed its side: the connection closes after what is being answered. */
  private clientEnded = false;
  /** When the head now being read began, and when its request began (0: none), for the header and request timeouts. */
  headStartedMs = 0;
  requestStartedMs = 0;
  /** When the connection last became idle (no request being read or answered). */
  idleSinceMs = performance.now();

  constructor(
    readonly socket: Socket,
    private readonly context: ServerConnectionContext,
  ) {
    this.keepAliveSeconds = Math.max(1, Math.floor(context.limits.keepAliveTimeoutMs / 1000));
    this.parser = ownedParser(HTTPParser.REQUEST, context.limits.maxHeaderBytes, this, PARSER_CALLBACKS);
    socket.on('data', this.onSocketData);
    socket.on('end', this.onSocketEnd);
    socket.on('error', ignoreSocketError);
    socket.on('close', this.onSocketClose);
  }

  /** Reads bytes that arrived before the connection was made (protocol detection's). */
  feed(bytes: Buffer): void {
    if (bytes.length > 0) this.onSocketData(bytes);
  }

  /** No request is being read or answered. */
  isIdle(): boolean {
    return this.active === undefined && this.parsing === undefined && this.headStartedMs === 0;
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Answers a request that took too long with 408 unless a response is already under way (then it is cut), and closes. */
  timedOut(): void {
    if (this.active === undefined || !this.active.response.headersSent) writeRawProxyError(this.socket, 408, 'request not received in time');
    else this.socket.destroy();
  }

  // ----- ResponseConnection -----

  keepAliveAfter(request: Http1ServerRequest): boolean {
    const limit = this.context.limits.maxRequestsPerSocket;
    // A response that goes out before its request body was read closes the connection (the rest of the body would be
    // read as the next request), so it says so.
    const bodyRead = request.complete || request.body === undefined;
    return request.keepAlive && bodyRead && !this.clientEnded && !this.context.draining && (limit === 0 || this.served + 1 < limit);
  }

  responseFinished(response: Http1ServerResponse): void {
    if (this.active?.response !== response) return;
    this.active = undefined;
    this.served += 1;
    // A request body not read to its end would be parsed as the next request. (A request without a body may be
    // answered before llhttp has finished its head's message: it ends with no more bytes.)
    const unreadBody = !response.request.complete && response.request.body !== undefined;
    if (!response.keepAlive || unreadBody || this.clientEnded) {
      // No request read after this one is served (RFC 9112 §9.6), even one llhttp is still handing over from this read.
      this.stopped = true;
      this.queue.length = 0;
      this.socket.destroySoon();
      return;
    }
    const next = this.queue.shift();
    if (next !== undefined) this.start(next);
    else if (this.deferredRefusal !== undefined) writeRawProxyError(this.socket, this.deferredRefusal.status, this.deferredRefusal.reason);
    else if (this.parsing === undefined && this.headStartedMs === 0) this.idleSinceMs = performance.now();
    if (this.readingPaused && this.queue.length < MAX_QUEUED_REQUESTS && !this.bodyFull()) this.resumeReading();
  }

  // ----- RequestBodySource -----

  bodyWanted(): void {
    if (this.readingPaused && this.queue.length < MAX_QUEUED_REQUESTS) this.resumeReading();
  }

  // ----- llhttp callbacks (through the module functions below) -----

  messageBegin(): void {
    if (this.stopped) return;
    const now = performance.now();
    this.headStartedMs = now;
    this.requestStartedMs = now;
  }

  addFields(fields: string[], url: string): void {
    for (const field of fields) this.pendingFields.push(field);
    this.pendingUrl += url;
  }

  headersComplete(headers: string[] | undefined, major: number, minor: number, method: number, url: string | undefined, upgrade: boolean, keepAlive: boolean): number {
    if (this.stopped) return 0;
    const fields = headers ?? this.pendingFields;
    const target = url !== undefined && url !== '' ? url : this.pendingUrl;
    this.pendingFields = [];
    this.pendingUrl = '';
    this.headStartedMs = 0;
    let host: string | undefined;
    let contentLength: string | undefined;
    let transferEncoding: string | undefined;
    let contentType: string | undefined;
    let expect: string | undefined;
    let hosts = 0;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i] as string;
      switch (name.length) {
        case 4:
          if (name.toLowerCase() === 'host') {
            hosts += 1;
            host ??= fields[i + 1];
          }
          break;
        case 6:
          if (name.toLowerCase() === 'expect') expect = fields[i + 1];
          break;
        case 12:
          if (contentType === undefined && name.toLowerCase() === 'content-type') contentType = fields[i + 1];
          break;
        case 14:
          if (name.toLowerCase() === 'content-length') contentLength = fields[i + 1];
          break;
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') transferEncoding = transferEncoding === undefined ? fields[i + 1] : `${transferEncoding}, ${fields[i + 1]}`;
          break;
        default:
      }
    }
    const request = new Http1ServerRequest(this.socket, methodName(method), target, fields, major, minor, keepAlive, host, contentLength, transferEncoding, contentType);
    if (hosts > 1 || (major === 1 && minor === 1 && host === undefined)) {
      this.refuse(400, `malformed request (an HTTP/1.1 request needs exactly one Host header, not ${hosts})`);
      return 0;
    }
    const declaresBody = (contentLength !== undefined && contentLength !== '0') || transferEncoding !== undefined;
    if (upgrade) {
      // The bytes after the head belong to the tunnel; a body in between would be lost to it.
      if (declaresBody) this.refuse(400, 'an Upgrade or CONNECT request may not carry a body');
      else this.tunnelRequest = request;
      return 0;
    }
    if (expect !== undefined) {
      if (!/^\s*100-continue\s*$/i.test(expect)) {
        this.refuse(417, `expectation ${JSON.stringify(expect)} is not supported`);
        return 0;
      }
      request.expectsContinue = minor >= 1 && declaresBody;
    }
    if (declaresBody) request.body = new RequestBody(this);
    this.parsing = request;
    const exchange: Exchange = { request, response: new Http1ServerResponse(this, request) };
    if (this.active === undefined) this.start(exchange);
    else {
      this.queue.push(exchange);
      if (this.queue.length >= MAX_QUEUED_REQUESTS) this.pauseReading();
    }
    return 0;
  }

  bodyChunk(chunk: Buffer): void {
    if (this.stopped) return;
    const body = this.parsing?.body;
    if (body !== undefined && !body.push(chunk)) this.pauseReading();
  }

  messageComplete(): void {
    const request = this.parsing;
    this.requestStartedMs = 0;
    if (request === undefined) return;
    this.parsing = undefined;
    request.complete = true;
    request.body?.push(null);
    if (this.active === undefined) this.idleSinceMs = performance.now();
  }

  // ----- socket -----

  private readonly onSocketData = (chunk: Buffer): void => {
    if (this.stopped) return;
    const result = this.parser.execute(chunk);
    if (typeof result !== 'number') {
      this.parseError(result);
      return;
    }
    const tunnel = this.tunnelRequest;
    if (tunnel !== undefined) this.handOver(tunnel, chunk.subarray(result));
  };

  /** The client half-closed: what is being answered still goes out, then the connection closes. */
  private readonly onSocketEnd = (): void => {
    this.clientEnded = true;
    // Idle, or half a head with nothing being answered: the client gave up.
    if (this.isIdle() || this.active === undefined) this.socket.destroy();
    else if (this.parsing !== undefined) this.abortBody();
  };

  private readonly onSocketClose = (): void => {
    this.closed = true;
    this.abortBody();
    const active = this.active;
    this.active = undefined;
    this.queue.length = 0;
    if (active !== undefined && !active.response.writableEnded) active.response.observer?.downstreamClosed();
    this.context.closed(this);
    releaseParser(this.parser);
  };

  // ----- helpers -----

  private start(exchange: Exchange): void {
    this.active = exchange;
    // Sent when the request's turn comes, so a pipelined one hears it after the responses ahead of it.
    if (exchange.request.expectsContinue && !exchange.request.complete) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    this.context.request(exchange.request, exchange.response);
  }

  /** An Upgrade or CONNECT request: the socket leaves this connection for a tunnel, with the bytes read after the head. */
  private handOver(request: Http1ServerRequest, head: Buffer): void {
    this.tunnelRequest = undefined;
    if (this.active !== undefined) {
      // A tunnel cannot start while an earlier response is still being written on the same bytes.
      this.socket.destroy();
      return;
    }
    this.handedOver = true;
    this.socket.pause();
    this.socket.off('data', this.onSocketData);
    this.socket.off('end', this.onSocketEnd);
    this.socket.off('close', this.onSocketClose);
    this.closed = true;
    this.context.closed(this);
    releaseParser(this.parser);
    this.context.tunnel(request, this.socket, head);
  }

  private parseError(error: LlhttpError): void {
    const code = error.code ?? 'HPE_UNKNOWN';
    // A body the active request is still sending went bad: that request gets the answer (or its connection is cut).
    const ofActive = this.parsing !== undefined && this.parsing === this.active?.request;
    this.abortBody();
    const [status, reason]: [ProxyErrorStatus, string] = code === 'HPE_HEADER_OVERFLOW' ? [431, `request head too large (${code})`] : [400, `malformed request (${code})`];
    if (ofActive) this.refuseNow(status, reason);
    else this.refuse(status, reason);
  }

  /**
   * Refuses the request now being read with `status`, then closes. Responses to requests read before it go out first
   * (in request order); nothing after it is read.
   */
  private refuse(status: ProxyErrorStatus, reason: string): void {
    if (this.active === undefined) {
      this.refuseNow(status, reason);
      return;
    }
    this.stopReading();
    this.deferredRefusal ??= { status, reason };
  }

  /** Answers at once, unless a response head is already out: then the connection is cut. */
  private refuseNow(status: ProxyErrorStatus, reason: string): void {
    if (this.active !== undefined && this.active.response.headersSent) {
      this.socket.destroy();
      return;
    }
    this.stopReading();
    writeRawProxyError(this.socket, status, reason);
  }

  private stopReading(): void {
    this.stopped = true;
    this.readingPaused = true;
    this.socket.pause();
  }

  private abortBody(): void {
    const request = this.parsing;
    if (request === undefined) return;
    this.parsing = undefined;
    if (!request.complete) request.body?.destroy(Object.assign(new Error('the client stopped sending the request body'), { code: CLIENT_ABORTED }));
  }

  private bodyFull(): boolean {
    const body = this.parsing?.body;
    return body !== undefined && body.readableLength >= body.readableHighWaterMark;
  }

  private pauseReading(): void {
    if (this.readingPaused) return;
    this.readingPaused = true;
    this.socket.pause();
  }

  private resumeReading(): void {
    if (this.closed || this.stopped) return;
    this.readingPaused = false;
    this.socket.resume();
  }
}

function ignoreSocketError(): void {
  // A reset or broken pipe ends in 'close', which is where the connection is cleaned up.
}

// llhttp calls these with `this` bound to the parser; one set for every connection.

function onMessageBegin(this: OwnedParser): void {
  this.owner.messageBegin();
}

function onHeaderFields(this: OwnedParser, fields: string[], url: string): void {
  this.owner.addFields(fields, url);
}

const onHeadersComplete: HeadersCompleteCallback = function (this, major, minor, headers, method, url, _status, _message, upgrade, shouldKeepAlive) {
  return (this as OwnedParser).owner.headersComplete(headers, major, minor, method ?? 0, url, upgrade, shouldKeepAlive);
};

function onBody(this: OwnedParser, chunk: Buffer): void {
  this.owner.bodyChunk(chunk);
}

function onMessageComplete(this: OwnedParser): void {
  this.owner.messageComplete();
}

const PARSER_CALLBACKS: ParserCallbacks<Http1ServerConnection> = {
  messageBegin: onMessageBegin,
  headers: onHeaderFields,
  headersComplete: onHeadersComplete,
  body: onBody,
  messageComplete: onMessageComplete,
};
