// ProxyMetrics port: what the proxy reports about the traffic it carries; an adapter turns it into Prometheus series.
import type { AuthzLabels } from './authz-labels.js';
import type { Classification } from './response-classification.js';
import type { RouteLabels, TrafficLabels } from './traffic-labels.js';

export const ProxyMetrics = Symbol('ProxyMetrics');

export interface ProxyMetrics {
  /** A request started (`request_total`). */
  requestStarted(labels: TrafficLabels): void;
  /** A response ended (`response_total`, `response_latency_ms` measured to the response head). */
  responseEnded(labels: TrafficLabels, response: RecordedResponse): void;
  /** A request matched a profile route (`route_request_total`). */
  routeRequestStarted(labels: RouteLabels): void;
  /** A profile route's response ended (`route_response_total`, `route_response_latency_ms`). */
  routeResponseEnded(labels: RouteLabels, response: RecordedResponse): void;
  /**
   * One attempt of a profile-route request was sent to an endpoint, the first and every retry
   * (`route_actual_request_total`): the route's actual requests minus its requests are its retries.
   */
  routeAttemptStarted(labels: RouteLabels): void;
  /**
   * One attempt of a profile-route request ended, with the outcome of that attempt alone (a retried 503, a reset, an
   * attempt cut by the route's timeout): `route_actual_response_total`, `route_actual_response_latency_ms` (measured
   * from the attempt's start to its response head).
   */
  routeAttemptEnded(labels: RouteLabels, response: RecordedResponse): void;
  /** A connection was accepted or opened (`tcp_open_total`, `tcp_open_connections`). */
  tcpOpened(labels: TrafficLabels): void;
  /** A connection closed (`tcp_close_total`, `tcp_read_bytes_total`, `tcp_write_bytes_total`). */
  tcpClosed(labels: TrafficLabels, close: RecordedTcpClose): void;
  /**
   * An inbound request or connection was authorized: `inbound_{http,tcp}_authz_allow_total` when `allowed` (audit-mode
   * admissions included), else `inbound_{http,tcp}_authz_deny_total`.
   */
  authorizationDecided(labels: AuthzLabels, allowed: boolean): void;
  /**
   * The proxy obtained a new certificate valid until `notAfterMs` (epoch ms): sets the gauge
   * `identity_cert_expiration_timestamp_seconds` and increments `identity_cert_refresh_count`.
   */
  certificateRefreshed(notAfterMs: number): void;
  /** An inbound connection was refused before any of it was forwarded: `inbound_tcp_errors_total{error}`. */
  inboundConnectionRefused(error: InboundConnectionError): void;
}

/**
 * Why an inbound mesh connection was refused: its TLS handshake failed (no client certificate, a foreign CA, TLS 1.2,
 * an expired certificate...), the peer's certificate broke a workload-leaf rule, its transport header was bad or
 * late, or this proxy had no certificate yet to answer with.
 */
export const INBOUND_CONNECTION_ERRORS = [
  'tls_handshake_failure',
  'peer_certificate_refused',
  'transport_header_invalid',
  'no_certificate',
] as const;

export type InboundConnectionError = (typeof INBOUND_CONNECTION_ERRORS)[number];

export interface RecordedResponse {
  readonly classification: Classification;
  readonly statusCode?: number;
  readonly grpcStatus?: number;
  /** Time from the request's start to the response head, in milliseconds. */
  readonly latencyMs: number;
}

export interface RecordedTcpClose {
  readonly classification: Classification;
  /** The system error code (e.g. `ECONNRESET`) when the connection failed. */
  readonly errno?: string;
  readonly readBytes: number;
  readonly writeBytes: number;
}
