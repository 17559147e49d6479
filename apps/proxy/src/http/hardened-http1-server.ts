// The HTTP/1 server side of the proxy: Node's llhttp with the limits and timeouts a proxy needs against smuggling and slow clients.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { hasToken } from './hop-by-hop-headers.js';
import { sendProxyError, writeRawProxyError } from './proxy-error.js';

export interface Http1ServerLimits {
  /** Largest request head, in bytes; larger ones get 431. */
  readonly maxHeaderBytes: number;
  /** Most header fields in a request; more get 431 (never a truncated set forwarded, CVE-2026-58044). */
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

/**
 * A server that never listens: sockets are handed to it with `emit('connection')`. Malformed requests
 * (everything llhttp refuses in strict mode) get 400, oversized heads 431, slow heads 408, each with
 * Connection: close, and never reach the request handler.
 */
export function createHardenedHttp1Server(limits: Http1ServerLimits): Server {
  const server = createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    insecureHTTPParser: false,
    requireHostHeader: true,
    joinDuplicateHeaders: false,
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: 1_000,
    highWaterMark: 64 * 1024,
  });
  server.maxHeadersCount = limits.maxHeadersCount;
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  server.timeout = 0;
  server.on('clientError', answerClientError);
  // Node starts the connection tracking that enforces headersTimeout/requestTimeout on 'listening'; this server
  // only receives injected sockets, so start it by hand.
  server.emit('listening');
  return server;
}

/**
 * Framing the parser accepts but a proxy must not forward: HTTP/1.0 with Transfer-Encoding (RFC 9112 §6.1) and a
 * head at the header-count limit, whose extra fields Node may have dropped. Answers and returns true when rejected.
 */
export function rejectUnsafeFraming(req: IncomingMessage, res: ServerResponse, limits: Http1ServerLimits): boolean {
  if (req.rawHeaders.length / 2 >= limits.maxHeadersCount) {
    sendProxyError(res, 431, `request has ${limits.maxHeadersCount} or more header fields`, false, true);
    return true;
  }
  const te = req.headers['transfer-encoding'];
  if (te !== undefined && (req.httpVersionMajor !== 1 || req.httpVersionMinor !== 1 || !hasToken(te, 'chunked'))) {
    sendProxyError(res, 400, 'Transfer-Encoding is not allowed here (HTTP/1.0, or not chunked)', false, true);
    return true;
  }
  return false;
}

function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const code = error.code ?? 'UNKNOWN';
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    socket.destroy();
    return;
  }
  // A response already on its way cannot be followed by an error response; the connection just ends.
  const current = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (current?.headersSent === true) {
    socket.destroy();
    return;
  }
  if (code === 'HPE_HEADER_OVERFLOW') writeRawProxyError(socket as Socket, 431, `request head too large (${code})`);
  else if (code === 'ERR_HTTP_REQUEST_TIMEOUT') writeRawProxyError(socket as Socket, 408, 'request not received in time');
  else writeRawProxyError(socket as Socket, 400, `malformed request (${code})`);
}
