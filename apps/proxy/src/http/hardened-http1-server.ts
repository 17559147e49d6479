// The HTTP/1 server side of the proxy: llhttp on the client's socket, with the limits and timeouts a proxy needs against smuggling and slow clients.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { hasToken } from './hop-by-hop-headers.js';
import { Http1ServerConnection, type ServerConnectionContext } from './http1-server-connection.js';
import type { Http1ServerRequest } from './http1-server-request.js';
import type { Http1ServerResponse } from './http1-server-response.js';
import { sendProxyError } from './proxy-error.js';

export interface Http1ServerLimits {
  /** Largest request head, in bytes; larger ones get 431. */
  readonly maxHeaderBytes: number;
  /** Most header fields in a request; this many or more get 431 (never a truncated set forwarded, CVE-2026-58044). */
  readonly maxHeadersCount: number;
  /** Time allowed to receive a whole request, body included. */
  readonly requestTimeoutMs: number;
  /** Time allowed to receive a request head. */
  readonly headersTimeoutMs: number;
  /** An idle keep-alive connection closes after this. */
  readonly keepAliveTimeoutMs: number;
  /** Requests served on one connection before it is closed; 0 for no limit. */
  readonly maxRequestsPerSocket: number;
}

export const DEFAULT_HTTP1_SERVER_LIMITS: Http1ServerLimits = {
  maxHeaderBytes: 16 * 1024,
  maxHeadersCount: 100,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxRequestsPerSocket: 1_000,
};

/**
 * The inbound listener's limits. Its clients are mostly peer proxies over mTLS, whose connections cost a handshake
 * on both sides: they stay open longer than the peers' own 60 s idle limit (so the client always closes first and
 * never sends into a connection the server is closing), and are not cycled after a number of requests, which only
 * spreads load between servers and there is one app behind this proxy.
 */
export const INBOUND_HTTP1_SERVER_LIMITS: Http1ServerLimits = {
  ...DEFAULT_HTTP1_SERVER_LIMITS,
  keepAliveTimeoutMs: 65_000,
  maxRequestsPerSocket: 0,
};

/** What the server hands each request and tunnel to. */
export interface Http1ServerHandlers {
  request(request: Http1ServerRequest, response: Http1ServerResponse): void;
  /** An Upgrade or CONNECT request: the socket is the tunnel's now, `head` the bytes read after the request head. */
  tunnel(request: Http1ServerRequest, socket: Socket, head: Buffer): void;
}

/** How often connections are checked against the header, request and keep-alive timeouts. */
const TIMEOUT_CHECK_EVERY_MS = 1_000;

/**
 * The server side of the HTTP/1 path. It never listens: the connection layer hands it sockets it detected as HTTP/1.
 * Each is read by llhttp in strict mode (no lenient flags: the smuggling vectors are parse errors); malformed
 * requests get 400, oversized heads 431, slow heads and bodies 408, each with Connection: close, and never reach the
 * handlers. Requests on a connection are answered one at a time, in order.
 */
export class Http1Server implements ServerConnectionContext {
  draining = false;
  private readonly connections = new Set<Http1ServerConnection>();
  private readonly timeoutChecker: NodeJS.Timeout;

  constructor(
    readonly limits: Http1ServerLimits,
    private readonly handlers: Http1ServerHandlers,
  ) {
    this.timeoutChecker = setInterval(() => this.checkTimeouts(), TIMEOUT_CHECK_EVERY_MS);
    this.timeoutChecker.unref();
  }

  /** Serves `socket`, whose first bytes (`preRead`) protocol detection already consumed. */
  handle(socket: Socket, preRead: Buffer): void {
    const connection = new Http1ServerConnection(socket, this);
    this.connections.add(connection);
    connection.feed(preRead);
    // Detection may have left the socket paused; a tunnel that took it over from preRead resumes it itself.
    if (!connection.handedOver) socket.resume();
  }

  /** Closes the connections that are between requests. */
  closeIdleConnections(): void {
    for (const connection of this.connections) if (connection.isIdle()) connection.destroy();
  }

  close(): void {
    clearInterval(this.timeoutChecker);
    for (const connection of this.connections) connection.destroy();
    this.connections.clear();
  }

  // ----- ServerConnectionContext -----

  request(request: Http1ServerRequest, response: Http1ServerResponse): void {
    this.handlers.request(request, response);
  }

  tunnel(request: Http1ServerRequest, socket: Socket, head: Buffer): void {
    this.handlers.tunnel(request, socket, head);
  }

  closed(connection: Http1ServerConnection): void {
    this.connections.delete(connection);
  }

  private checkTimeouts(): void {
    const now = performance.now();
    const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = this.limits;
    for (const connection of this.connections) {
      if (connection.headStartedMs > 0 && now - connection.headStartedMs > headersTimeoutMs) connection.timedOut();
      else if (connection.requestStartedMs > 0 && now - connection.requestStartedMs > requestTimeoutMs) connection.timedOut();
      else if (connection.isIdle() && now - connection.idleSinceMs > keepAliveTimeoutMs) connection.destroy();
    }
  }
}

/**
 * Framing llhttp accepts but a proxy must not forward: HTTP/1.0 with Transfer-Encoding (RFC 9112 §6.1), and a head
 * with more fields than the limit. Answers and returns true when rejected.
 */
export function rejectUnsafeFraming(req: Http1ServerRequest, res: Http1ServerResponse, limits: Http1ServerLimits): boolean {
  if (req.rawHeaders.length / 2 >= limits.maxHeadersCount) {
    sendProxyError(res, 431, `request has ${limits.maxHeadersCount} or more header fields`, false, true);
    return true;
  }
  const te = req.transferEncoding;
  if (te !== undefined && (req.httpVersionMajor !== 1 || req.httpVersionMinor !== 1 || !hasToken(te, 'chunked'))) {
    sendProxyError(res, 400, 'Transfer-Encoding is not allowed here (HTTP/1.0, or not chunked)', false, true);
    return true;
  }
  return false;
}
