// UpstreamError: why an HTTP/1 exchange with an endpoint failed, as a code the exchange decides on (retry, 502, 504, 400).

export type UpstreamErrorCode =
  /** No response head within the headers timeout after the request went out. */
  | 'UPSTREAM_HEADERS_TIMEOUT'
  /** The response body stopped arriving for longer than the body timeout. */
  | 'UPSTREAM_BODY_TIMEOUT'
  /** The endpoint closed the connection before the response ended (before it began, on a reused connection: the keep-alive race). */
  | 'UPSTREAM_CLOSED'
  /** The response is not valid HTTP/1.1 (llhttp's reason in the message), or answers with a protocol switch nobody asked for. */
  | 'UPSTREAM_MALFORMED_RESPONSE'
  /** The request body's length differs from its Content-Length. */
  | 'REQUEST_BODY_LENGTH_MISMATCH'
  /** The request body stopped before its end (the client went away). */
  | 'REQUEST_BODY_ABORTED'
  /** The request cannot be written as HTTP/1.1 (a target with whitespace or control characters). */
  | 'REQUEST_INVALID';

export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';

  constructor(
    readonly code: UpstreamErrorCode,
    message: string,
  ) {
    super(message);
  }
}
