// PrometheusControlClientMetrics: the proxy's control-plane client metrics (control_*) as prom-client counters on the proxy's registry.
import { Counter, type Registry } from 'prom-client';
import { OVERFLOW_LABEL_VALUE } from './series-family.js';

/**
 * The stream a recording is about. It has the shape of the gRPC adapter's ControlCallLabels, so an instance of
 * PrometheusControlClientMetrics is a ControlClientMetrics there; this adapter does not import that one.
 */
export interface ControlStreamLabels {
  /** The control-plane API: `destination` or `policy`. */
  readonly service: string;
  /** The streaming RPC: `Get`, `GetProfile` or `WatchPort`. */
  readonly rpc: string;
  /** The control plane's address as configured, e.g. `127.0.0.1:8086`. */
  readonly addr: string;
}

/** The control_* families and what each counts. */
export const CONTROL_CLIENT_METRICS = {
  requests: 'control_stream_requests_total',
  connects: 'control_stream_connects_total',
  errors: 'control_errors_total',
  expired: 'control_state_expired_total',
} as const;

export interface PrometheusControlClientMetricsOptions {
  /** Distinct control-plane addresses kept as `addr` values; later ones read `overflow`. Default 4 (a proxy has one). */
  readonly maxAddresses?: number;
}

/** The label value of a service, RPC or reason outside the known vocabulary. */
const OTHER = 'other';
const SERVICES: ReadonlySet<string> = new Set(['destination', 'policy']);
const RPCS: ReadonlySet<string> = new Set(['Get', 'GetProfile', 'WatchPort']);
/** The gRPC status codes in snake case, and the client's own reasons (see ControlErrorReason in the gRPC adapter). */
const REASONS: ReadonlySet<string> = new Set([
  'ok',
  'cancelled',
  'unknown',
  'invalid_argument',
  'deadline_exceeded',
  'not_found',
  'already_exists',
  'permission_denied',
  'resource_exhausted',
  'failed_precondition',
  'aborted',
  'out_of_range',
  'unimplemented',
  'internal',
  'unavailable',
  'data_loss',
  'unauthenticated',
  'ended',
  'invalid_message',
  'open_failed',
]);

const STREAM = ['service', 'rpc', 'addr'] as const;

/**
 * Four counters on the registry given (the proxy's, PrometheusProxyMetrics.registry, so they are in its /metrics):
 * - control_stream_requests_total{service,rpc,addr}: streams asked for, first attempts and reconnect attempts;
 * - control_stream_connects_total{service,rpc,addr,reconnect}: streams that delivered their first message,
 *   `reconnect="true"` when an earlier stream of the same watch had been served (the proxy came back);
 * - control_errors_total{service,rpc,addr,reason}: streams that failed or ended, and refused messages;
 * - control_state_expired_total{service,rpc,addr}: last known states dropped after their time to live.
 * Every label comes from a closed vocabulary (anything else reads `other`) or, for `addr`, from the first few
 * addresses seen (later ones read `overflow`), so the series stay few whatever a control plane sends. No method throws.
 */
export class PrometheusControlClientMetrics {
  private readonly requests: Counter<(typeof STREAM)[number]>;
  private readonly connects: Counter<(typeof STREAM)[number] | 'reconnect'>;
  private readonly errors: Counter<(typeof STREAM)[number] | 'reason'>;
  private readonly expired: Counter<(typeof STREAM)[number]>;
  private readonly addresses = new Set<string>();
  private readonly maxAddresses: number;

  constructor(registry: Registry, options: PrometheusControlClientMetricsOptions = {}) {
    this.maxAddresses = options.maxAddresses ?? 4;
    if (!Number.isSafeInteger(this.maxAddresses) || this.maxAddresses < 1) {
      throw new RangeError(`maxAddresses ${this.maxAddresses} is not a whole number of at least 1; write e.g. 4`);
    }
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> => {
      // A second instance on the same registry records into the same counters rather than failing to register.
      const existing = registry.getSingleMetric(name);
      if (existing instanceof Counter) return existing as Counter<L>;
      return new Counter({ name, help, labelNames, registers: [registry] });
    };
    this.requests = counter(
      CONTROL_CLIENT_METRICS.requests,
      'Streams requested from the control plane: first attempts and reconnect attempts.',
      STREAM,
    );
    this.connects = counter(
      CONTROL_CLIENT_METRICS.connects,
      'Control-plane streams that delivered their first message; reconnect="true" when an earlier stream of the watch had been served.',
      [...STREAM, 'reconnect'],
    );
    this.errors = counter(
      CONTROL_CLIENT_METRICS.errors,
      'Control-plane streams that failed or ended, by gRPC status or reason, and messages the proxy refused.',
      [...STREAM, 'reason'],
    );
    this.expired = counter(
      CONTROL_CLIENT_METRICS.expired,
      'Last known control-plane states dropped after their time to live while the control plane stayed away.',
      STREAM,
    );
  }

  streamRequested(labels: ControlStreamLabels): void {
    this.requests.inc(this.stream(labels));
  }

  streamConnected(labels: ControlStreamLabels, reconnect: boolean): void {
    this.connects.inc({ ...this.stream(labels), reconnect: reconnect ? 'true' : 'false' });
  }

  errorObserved(labels: ControlStreamLabels, reason: string): void {
    this.errors.inc({ ...this.stream(labels), reason: REASONS.has(reason) ? reason : OTHER });
  }

  staleStateExpired(labels: ControlStreamLabels): void {
    this.expired.inc(this.stream(labels));
  }

  private stream(labels: ControlStreamLabels): Record<(typeof STREAM)[number], string> {
    return {
      service: SERVICES.has(labels.service) ? labels.service : OTHER,
      rpc: RPCS.has(labels.rpc) ? labels.rpc : OTHER,
      addr: this.address(labels.addr),
    };
  }

  private address(addr: string): string {
    if (this.addresses.has(addr)) return addr;
    if (this.addresses.size >= this.maxAddresses) return OVERFLOW_LABEL_VALUE;
    this.addresses.add(addr);
    return addr;
  }
}
