// Synthetic HTTP/2 responses: errors the proxy answers itself with `weft-proxy-error` (gRPC: trailers-only).
import { constants, type ServerHttp2Stream } from 'node:http2';
import { grpcStatusOf, headerSafe, PROXY_ERROR_HEADER, type ProxyErrorStatus } from '../http/proxy-error.js';
import { resetH2Stream } from './reset-h2-stream.js';
import { encodeGrpcMessage } from '../http/grpc-message.js';

/**
 * Answers a stream with a synthetic error: gRPC gets a trailers-only response (HTTP 200, grpc-status and grpc-message
 * in the one HEADERS frame that ends the stream), others the HTTP status with a one-line text body. A stream whose
 * response head already went out can only be reset.
 */
export function respondH2ProxyError(stream: ServerHttp2Stream, status: ProxyErrorStatus, reason: string, grpc: boolean): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    resetH2Stream(stream, constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  const tag = headerSafe(reason);
  if (grpc) {
    const headers = [':status', '200', 'content-type', 'application/grpc', PROXY_ERROR_HEADER, tag];
    headers.push('grpc-status', String(grpcStatusOf(status)), 'grpc-message', encodeGrpcMessage(reason));
    stream.respond(headers, { endStream: true });
    return;
  }
  const body = `${reason}\n`;
  stream.respond(
    [':status', String(status), PROXY_ERROR_HEADER, tag, 'content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body))],
  );
  stream.end(body);
}
