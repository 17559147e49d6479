// ControlClientMetrics: what the proxy's control-plane clients report (control_* series), for the proxy to implement.

/** The control-plane API a stream belongs to, as the `service` label: `control_destination_*`, `control_policy_*`. */
export type ControlService = 'destination' | 'policy';

/** The streaming RPC, as the `rpc` label. */
export type ControlRpc = 'Get' | 'GetProfile' | 'WatchPort';

export interface ControlCallLabels {
  readonly service: ControlService;
  readonly rpc: ControlRpc;
  /** The control plane's address as configured, e.g. "127.0.0.1:8086" (bounded: one per client). */
  readonly addr: string;
}

/**
 * Why a stream failed or a message was refused: the gRPC status in snake case ("unavailable", "internal"...),
 * "ended" for a stream the server closed without an error, "invalid_message" for a message the client refused.
 */
export type ControlErrorReason = string;

/**
 * The control_* client metrics. Every method is called on the event loop, never on a hot data path, and must not
 * throw. Suggested series: control_request_total, control_stream_connect_total{reconnect},
 * control_error_total{reason}, control_stale_expired_total, each with the labels above.
 */
export interface ControlClientMetrics {
  /** A stream was requested from the control plane (a first attempt or a reconnect attempt). */
  streamRequested(labels: ControlCallLabels): void;
  /** A stream delivered its first message; `reconnect` when an earlier stream of the same watch had been served. */
  streamConnected(labels: ControlCallLabels, reconnect: boolean): void;
  /** A stream failed or ended, or one of its messages was refused. */
  errorObserved(labels: ControlCallLabels, reason: ControlErrorReason): void;
  /** The last known state of a watch outlived its time to live while the control plane stayed away, and was dropped. */
  staleStateExpired(labels: ControlCallLabels): void;
}

/** Metrics that go nowhere, for clients that are given none. */
export const noControlClientMetrics: ControlClientMetrics = {
  streamRequested: () => undefined,
  streamConnected: () => undefined,
  errorObserved: () => undefined,
  staleStateExpired: () => undefined,
};
