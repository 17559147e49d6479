// Synthetic responses: the errors the proxy answers itself, tagged with `weft-proxy-error` (gRPC: trailers-only).
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { encodeGrpcMessage } from './grpc-message.js';
import type { Http1ServerResponse } from './http1-server-response.js';

/** Names why the proxy, not the upstream, produced a response. */
export const PROXY_ERROR_HEADER = 'weft-proxy-error';

export type ProxyErrorStatus = 400 | 403 | 408 | 417 | 431 | 500 | 502 | 503 | 504;

/** gRPC codes of the synthetic errors: UNAVAILABLE for 502/503, DEADLINE_EXCEEDED for 504, INTERNAL otherwise. */
export function grpcStatusOf(status: ProxyErrorStatus): number {
  if (status === 502 || status === 503) return 14;
  if (status === 504) return 4;
  if (status === 403) return 7;
  return 13;
}

/** Whether a request speaks gRPC (content-type application/grpc, +proto, +json...). */
export function isGrpcContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/grpc(?:[+;]|$)/i.test(contentType.trim());
}

/**
 * Answers with a synthetic error. gRPC requests get a trailers-only response (HTTP 200, grpc-status and
 * grpc-message in the head), others the HTTP status with a one-line text body. `close` adds Connection: close.
 */
export function sendProxyError(res: Http1ServerResponse, status: ProxyErrorStatus, reason: string, grpc: boolean, close = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: string[] = [PROXY_ERROR_HEADER, headerSafe(reason)];
  if (close) headers.push('connection', 'close');
  if (grpc) {
    headers.push('content-type', 'application/grpc', 'grpc-status', String(grpcStatusOf(status)));
    headers.push('grpc-message', encodeGrpcMessage(reason), 'content-length', '0');
    res.writeHead(200, headers);
    res.end();
    return;
  }
  const body = `${reason}\n`;
  headers.push('content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body)));
  res.writeHead(status, headers);
  res.end(body);
}

/** Writes a whole error response straight to a socket that no ServerResponse owns, then closes it once written. */
export function writeRawProxyError(socket: Socket, status: ProxyErrorStatus, reason: string): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${reason}\n`;
  socket.write(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      `${PROXY_ERROR_HEADER}: ${headerSafe(reason)}\r\n` +
      'connection: close\r\ncontent-type: text/plain; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  // end() alone would only half-close a socket of a server that allows half-open connections.
  socket.destroySoon();
}

/** Keeps a reason printable on one header line. */
export function headerSafe(reason: string): string {
  return reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 256);
}
