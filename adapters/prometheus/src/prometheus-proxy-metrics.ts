// PrometheusProxyMetrics: the proxy's traffic metrics (own series) and a private prom-client registry, scraped as Prometheus text.
import {
  type AuthzLabels,
  type AuthzProtocol,
  INBOUND_CONNECTION_ERRORS,
  type InboundConnectionError,
  type ProxyMetrics,
  type RecordedResponse,
  type RecordedTcpClose,
  RESPONSE_LATENCY_BUCKETS_MS,
  responseOutcomeLabelSet,
  type RouteLabels,
  tcpCloseLabelSet,
  type TrafficLabels,
} from '@weft/core';
import { injectable } from 'inversify';
import { Counter, Gauge, Registry } from 'prom-client';
import { actualResponseSeries, LabelSeriesCache, type ResponseSeries, responseSeries, tcpCloseSeries } from './label-series-cache.js';
import { registerNodeProcessMetrics } from './node-process-metrics.js';
import { HistogramValue, type Labels, ScalarValue, SeriesFamily } from './series-family.js';

export const DEFAULT_MAX_SERIES_PER_FAMILY = 10_000;

export interface PrometheusProxyMetricsOptions {
  /** The most label sets one family keeps before folding new ones into its overflow series; default 10 000. */
  readonly maxSeriesPerFamily?: number;
  /** The `version` label of `proxy_build_info`; default `unknown`. */
  readonly version?: string;
  /** Whether the registry also carries the Node process metrics (`process_*`, `nodejs_*`); default true. */
  readonly processMetrics?: boolean;
}

const TRAFFIC = ['direction', 'target_addr', 'tls'] as const;
const ROUTE = ['direction', 'dst', 'rt_route'] as const;
const AUTHZ = ['target_addr', 'tls', 'srv_name', 'srv_port'] as const;
const CERT_EXPIRATION = 'identity_cert_expiration_timestamp_seconds';

/**
 * The ProxyMetrics port on prom-client. The series a label object records into are remembered per object (see
 * LabelSeriesCache), which relies on the port's label objects being readonly: pass a new object for new values,
 * never a changed one, or the recordings keep going to the series of the first values.
 */
@injectable()
export class PrometheusProxyMetrics implements ProxyMetrics {
  /** The registry of everything but the traffic families (process metrics, build info, overflow counts); never the global one. */
  readonly registry = new Registry();
  readonly contentType: string = Registry.PROMETHEUS_CONTENT_TYPE;

  private readonly overflows: Counter<'family'>;
  private readonly requestTotal: SeriesFamily<ScalarValue>;
  private readonly responseTotal: SeriesFamily<ScalarValue>;
  private readonly responseLatency: SeriesFamily<HistogramValue>;
  private readonly routeRequestTotal: SeriesFamily<ScalarValue>;
  private readonly routeResponseTotal: SeriesFamily<ScalarValue>;
  private readonly routeResponseLatency: SeriesFamily<HistogramValue>;
  private readonly routeActualRequestTotal: SeriesFamily<ScalarValue>;
  private readonly routeActualResponseTotal: SeriesFamily<ScalarValue>;
  private readonly routeActualResponseLatency: SeriesFamily<HistogramValue>;
  private readonly tcpOpenTotal: SeriesFamily<ScalarValue>;
  private readonly tcpCloseTotal: SeriesFamily<ScalarValue>;
  private readonly tcpReadBytes: SeriesFamily<ScalarValue>;
  private readonly tcpWriteBytes: SeriesFamily<ScalarValue>;
  private readonly tcpOpenConnections: SeriesFamily<ScalarValue>;
  private readonly authzFamilies: Readonly<Record<AuthzProtocol, AuthzFamilies>>;
  private readonly certRefreshes: Counter;
  private readonly inboundTcpErrors: Counter<'error'>;
  private readonly certExpiration: Gauge;
  private readonly cache = new LabelSeriesCache();
  private readonly families: readonly SeriesFamily<ScalarValue | HistogramValue>[];

  constructor(options: PrometheusProxyMetricsOptions = {}) {
    const max = validMaxSeries(options.maxSeriesPerFamily ?? DEFAULT_MAX_SERIES_PER_FAMILY);
    this.overflows = new Counter({
      name: 'metrics_series_overflow_total',
      help: 'Recordings folded into a family\'s overflow series because the family reached its series limit.',
      labelNames: ['family'],
      registers: [this.registry],
    });
    const onOverflow = (family: string): void => this.overflows.inc({ family });
    const counter = (name: string, help: string, overflowLabelNames: readonly string[]): SeriesFamily<ScalarValue> =>
      new SeriesFamily({ name, help, type: 'counter', overflowLabelNames, create: makeScalar }, max, onOverflow);
    const histogram = (name: string, help: string, overflowLabelNames: readonly string[]): SeriesFamily<HistogramValue> =>
      new SeriesFamily({ name, help, type: 'histogram', overflowLabelNames, create: makeLatencyHistogram }, max, onOverflow);

    this.requestTotal = counter('request_total', 'Requests started.', TRAFFIC);
    this.responseTotal = counter('response_total', 'Responses ended, by classification and status.', [...TRAFFIC, 'classification']);
    this.responseLatency = histogram('response_latency_ms', 'Time from request start to response head, in milliseconds.', TRAFFIC);
    this.routeRequestTotal = counter('route_request_total', 'Requests started on a service profile route.', ROUTE);
    this.routeResponseTotal = counter(
      'route_response_total',
      'Responses ended on a service profile route, by classification and status.',
      [...ROUTE, 'classification'],
    );
    this.routeResponseLatency = histogram(
      'route_response_latency_ms',
      'Time from request start to response head on a service profile route, in milliseconds.',
      ROUTE,
    );
    // One count per attempt sent to an endpoint, retries included: actual minus logical is what retries added.
    this.routeActualRequestTotal = counter(
      'route_actual_request_total',
      'Attempts sent to an endpoint on a service profile route, retries included.',
      ROUTE,
    );
    this.routeActualResponseTotal = counter(
      'route_actual_response_total',
      'Attempts ended on a service profile route, retries included, by classification and status.',
      [...ROUTE, 'classification'],
    );
    this.routeActualResponseLatency = histogram(
      'route_actual_response_latency_ms',
      'Time from an attempt\'s start to its response head on a service profile route, in milliseconds.',
      ROUTE,
    );
    this.tcpOpenTotal = counter('tcp_open_total', 'Connections opened or accepted.', TRAFFIC);
    this.tcpCloseTotal = counter('tcp_close_total', 'Connections closed, by classification and errno.', [...TRAFFIC, 'classification']);
    this.tcpReadBytes = counter('tcp_read_bytes_total', 'Bytes read from closed connections.', TRAFFIC);
    this.tcpWriteBytes = counter('tcp_write_bytes_total', 'Bytes written to closed connections.', TRAFFIC);
    this.tcpOpenConnections = new SeriesFamily(
      { name: 'tcp_open_connections', help: 'Connections open now.', type: 'gauge', overflowLabelNames: TRAFFIC, create: makeScalar },
      max,
      onOverflow,
    );
    const authz = (protocol: AuthzProtocol): AuthzFamilies => ({
      allow: counter(`inbound_${protocol}_authz_allow_total`, `Inbound ${protocol.toUpperCase()} ${authzUnit(protocol)} authorized.`, AUTHZ),
      deny: counter(`inbound_${protocol}_authz_deny_total`, `Inbound ${protocol.toUpperCase()} ${authzUnit(protocol)} refused by policy.`, AUTHZ),
    });
    this.authzFamilies = { http: authz('http'), tcp: authz('tcp') };
    this.families = [
      this.requestTotal,
      this.responseTotal,
      this.responseLatency,
      this.routeRequestTotal,
      this.routeResponseTotal,
      this.routeResponseLatency,
      this.routeActualRequestTotal,
      this.routeActualResponseTotal,
      this.routeActualResponseLatency,
      this.tcpOpenTotal,
      this.tcpCloseTotal,
      this.tcpOpenConnections,
      this.tcpReadBytes,
      this.tcpWriteBytes,
      this.authzFamilies.http.allow,
      this.authzFamilies.http.deny,
      this.authzFamilies.tcp.allow,
      this.authzFamilies.tcp.deny,
    ];
    // Every family shows its overflow count from the start, so 0 and "never scraped" read differently.
    for (const family of this.families) this.overflows.inc({ family: family.name }, 0);
    this.registerBuildInfo(options.version ?? 'unknown');
    this.inboundTcpErrors = new Counter({
      name: 'inbound_tcp_errors_total',
      help: 'Inbound connections refused before anything was forwarded, by error.',
      labelNames: ['error'],
      registers: [this.registry],
    });
    // Every error shows from the start, so that a refusal shows up as a change and not as a new series.
    for (const error of INBOUND_CONNECTION_ERRORS) this.inboundTcpErrors.inc({ error }, 0);
    this.certRefreshes = new Counter({
      name: 'identity_cert_refresh_count',
      help: 'Certificates the proxy obtained (its first one and every renewal).',
      registers: [this.registry],
    });
    // Registered on the first certificate: before it there is no expiry to show, and 0 would read as "expired".
    this.certExpiration = new Gauge({
      name: CERT_EXPIRATION,
      help: 'When the proxy\'s current certificate expires, in seconds since the Unix epoch.',
      registers: [],
    });
    if (options.processMetrics ?? true) registerNodeProcessMetrics(this.registry);
  }

  // Each call finds its series through the cache (see LabelSeriesCache); a series is resolved with the family's limit
  // on the first call that records into it, and kept for the calls after.

  requestStarted(labels: TrafficLabels): void {
    const traffic = this.cache.trafficSeries(labels);
    this.requestTotal.record((traffic.request ??= this.requestTotal.seriesFor(traffic.labels)), 1, increment);
  }

  responseEnded(labels: TrafficLabels, response: RecordedResponse): void {
    const traffic = this.cache.trafficSeries(labels);
    this.recordResponse(traffic.labels, responseSeries(traffic, response), response, this.responseTotal, this.responseLatency);
  }

  routeRequestStarted(labels: RouteLabels): void {
    const route = this.cache.routeSeries(labels);
    this.routeRequestTotal.record((route.request ??= this.routeRequestTotal.seriesFor(route.labels)), 1, increment);
  }

  routeResponseEnded(labels: RouteLabels, response: RecordedResponse): void {
    const route = this.cache.routeSeries(labels);
    this.recordResponse(route.labels, responseSeries(route, response), response, this.routeResponseTotal, this.routeResponseLatency);
  }

  routeAttemptStarted(labels: RouteLabels): void {
    const route = this.cache.routeSeries(labels);
    this.routeActualRequestTotal.record((route.actualRequest ??= this.routeActualRequestTotal.seriesFor(route.labels)), 1, increment);
  }

  routeAttemptEnded(labels: RouteLabels, response: RecordedResponse): void {
    const route = this.cache.routeSeries(labels);
    const outcome = actualResponseSeries(route, response);
    this.recordResponse(route.labels, outcome, response, this.routeActualResponseTotal, this.routeActualResponseLatency);
  }

  tcpOpened(labels: TrafficLabels): void {
    const traffic = this.cache.trafficSeries(labels);
    this.tcpOpenTotal.record((traffic.tcpOpen ??= this.tcpOpenTotal.seriesFor(traffic.labels)), 1, increment);
    this.tcpOpenConnections.record((traffic.openConnections ??= this.tcpOpenConnections.seriesFor(traffic.labels)), 1, increment);
  }

  tcpClosed(labels: TrafficLabels, close: RecordedTcpClose): void {
    const traffic = this.cache.trafficSeries(labels);
    const closed = tcpCloseSeries(traffic, close);
    closed.total ??= this.tcpCloseTotal.seriesFor({ ...traffic.labels, ...tcpCloseLabelSet(close) });
    this.tcpCloseTotal.record(closed.total, 1, increment);
    this.tcpOpenConnections.record((traffic.openConnections ??= this.tcpOpenConnections.seriesFor(traffic.labels)), 1, lower);
    if (isAmount(close.readBytes)) {
      this.tcpReadBytes.record((traffic.readBytes ??= this.tcpReadBytes.seriesFor(traffic.labels)), close.readBytes, increment);
    }
    if (isAmount(close.writeBytes)) {
      this.tcpWriteBytes.record((traffic.writeBytes ??= this.tcpWriteBytes.seriesFor(traffic.labels)), close.writeBytes, increment);
    }
  }

  authorizationDecided(labels: AuthzLabels, allowed: boolean): void {
    const series = this.cache.authzSeries(labels);
    const families = this.authzFamilies[labels.protocol];
    if (allowed) families.allow.record((series.allow ??= families.allow.seriesFor(series.labels)), 1, increment);
    else families.deny.record((series.deny ??= families.deny.seriesFor(series.labels)), 1, increment);
  }

  inboundConnectionRefused(error: InboundConnectionError): void {
    this.inboundTcpErrors.inc({ error });
  }

  certificateRefreshed(notAfterMs: number): void {
    if (!Number.isFinite(notAfterMs)) return;
    if (this.registry.getSingleMetric(CERT_EXPIRATION) === undefined) this.registry.registerMetric(this.certExpiration);
    this.certExpiration.set(notAfterMs / 1000);
    this.certRefreshes.inc();
  }

  /** The whole scrape: the traffic families, then the registry's metrics, in the Prometheus text format. */
  async metricsText(): Promise<string> {
    const families = this.families.map((family) => family.render()).join('');
    return `${families}${await this.registry.metrics()}`;
  }

  /**
   * A response total and its latency histogram, for `outcome` (the cached series of one outcome of a label object whose
   * flat labels are `labels`): the same for traffic, routes and route attempts.
   */
  private recordResponse(
    labels: Labels,
    outcome: ResponseSeries,
    response: RecordedResponse,
    total: SeriesFamily<ScalarValue>,
    latency: SeriesFamily<HistogramValue>,
  ): void {
    outcome.total ??= total.seriesFor({ ...labels, ...responseOutcomeLabelSet(response) });
    total.record(outcome.total, 1, increment);
    if (isAmount(response.latencyMs)) {
      outcome.latency ??= latency.seriesFor({ ...labels, ...statusCodeLabel(response) });
      latency.record(outcome.latency, response.latencyMs, observe);
    }
  }

  private registerBuildInfo(version: string): void {
    const buildInfo = new Gauge({
      name: 'proxy_build_info',
      help: 'The proxy\'s build; the value is always 1.',
      labelNames: ['version'],
      registers: [this.registry],
    });
    buildInfo.set({ version }, 1);
  }
}

interface AuthzFamilies {
  readonly allow: SeriesFamily<ScalarValue>;
  readonly deny: SeriesFamily<ScalarValue>;
}

function authzUnit(protocol: AuthzProtocol): string {
  return protocol === 'http' ? 'requests' : 'connections';
}

function makeScalar(): ScalarValue {
  return new ScalarValue();
}

function makeLatencyHistogram(): HistogramValue {
  return new HistogramValue(RESPONSE_LATENCY_BUCKETS_MS);
}

// Recorders are plain functions, not closures over the amount, so a recording allocates nothing.

/** A counter's increment, or a gauge's rise. */
function increment(counter: ScalarValue, delta: number): void {
  counter.value += delta;
}

function lower(gauge: ScalarValue, delta: number): void {
  gauge.value -= delta;
}

function observe(histogram: HistogramValue, valueMs: number): void {
  histogram.observe(valueMs);
}

/**
 * Whether a latency or byte count can be recorded. One that is not a finite non-negative number (a caller's bug) is
 * dropped rather than recorded: a counter would go backwards, or a histogram's sum turn NaN.
 */
function isAmount(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}

function statusCodeLabel(response: RecordedResponse): Labels {
  return response.statusCode === undefined ? {} : { status_code: String(response.statusCode) };
}

function validMaxSeries(max: number): number {
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new RangeError(`maxSeriesPerFamily ${max} is not a whole number of at least 1; write e.g. 10000`);
  }
  return max;
}
