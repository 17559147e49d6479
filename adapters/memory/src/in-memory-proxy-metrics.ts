// InMemoryProxyMetrics: keeps the proxy's counters, gauges and histograms in maps, named as the Prometheus series are.
import {
  authzLabelSet,
  type AuthzLabels,
  authzMetricName,
  bucketIndex,
  type InboundConnectionError,
  type ProxyMetrics,
  type RecordedResponse,
  type RecordedTcpClose,
  RESPONSE_LATENCY_BUCKETS_MS,
  responseOutcomeLabelSet,
  routeLabelSet,
  type RouteLabels,
  tcpCloseLabelSet,
  trafficLabelSet,
  type TrafficLabels,
} from '@weft/core';
import { injectable } from 'inversify';

interface Series {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  value: number;
}

@injectable()
export class InMemoryProxyMetrics implements ProxyMetrics {
  private readonly series = new Map<string, Series>();

  requestStarted(labels: TrafficLabels): void {
    this.add('request_total', trafficLabelSet(labels), 1);
  }

  responseEnded(labels: TrafficLabels, response: RecordedResponse): void {
    const traffic = trafficLabelSet(labels);
    this.add('response_total', { ...traffic, ...responseOutcomeLabelSet(response) }, 1);
    this.observe('response_latency_ms', { ...traffic, ...statusCodeLabel(response) }, response.latencyMs);
  }

  routeRequestStarted(labels: RouteLabels): void {
    this.add('route_request_total', routeLabelSet(labels), 1);
  }

  routeResponseEnded(labels: RouteLabels, response: RecordedResponse): void {
    this.recordRouteResponse('route_response', labels, response);
  }

  routeAttemptStarted(labels: RouteLabels): void {
    this.add('route_actual_request_total', routeLabelSet(labels), 1);
  }

  routeAttemptEnded(labels: RouteLabels, response: RecordedResponse): void {
    this.recordRouteResponse('route_actual_response', labels, response);
  }

  tcpOpened(labels: TrafficLabels): void {
    const traffic = trafficLabelSet(labels);
    this.add('tcp_open_total', traffic, 1);
    this.add('tcp_open_connections', traffic, 1);
  }

  tcpClosed(labels: TrafficLabels, close: RecordedTcpClose): void {
    const traffic = trafficLabelSet(labels);
    this.add('tcp_close_total', { ...traffic, ...tcpCloseLabelSet(close) }, 1);
    this.add('tcp_open_connections', traffic, -1);
    this.add('tcp_read_bytes_total', traffic, close.readBytes);
    this.add('tcp_write_bytes_total', traffic, close.writeBytes);
  }

  authorizationDecided(labels: AuthzLabels, allowed: boolean): void {
    this.add(authzMetricName(labels.protocol, allowed), authzLabelSet(labels), 1);
  }

  certificateRefreshed(notAfterMs: number): void {
    this.set('identity_cert_expiration_timestamp_seconds', {}, notAfterMs / 1000);
    this.add('identity_cert_refresh_count', {}, 1);
  }

  inboundConnectionRefused(error: InboundConnectionError): void {
    this.add('inbound_tcp_errors_total', { error }, 1);
  }

  /**
   * The sum over every series of `name` whose labels include all of `labels`; undefined when none exists.
   * Histograms read as `<name>_bucket` (with `le`), `<name>_count` and `<name>_sum`.
   */
  value(name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
    let total: number | undefined;
    for (const series of this.series.values()) {
      if (series.name !== name) continue;
      if (!Object.entries(labels).every(([key, value]) => series.labels[key] === value)) continue;
      total = (total ?? 0) + series.value;
    }
    return total;
  }

  /** Every series, for assertions on label sets. */
  allSeries(): readonly Readonly<Series>[] {
    return [...this.series.values()];
  }

  /** `<prefix>_total` and `<prefix>_latency_ms`: the same shape for a route's responses and its attempts'. */
  private recordRouteResponse(prefix: string, labels: RouteLabels, response: RecordedResponse): void {
    const route = routeLabelSet(labels);
    this.add(`${prefix}_total`, { ...route, ...responseOutcomeLabelSet(response) }, 1);
    this.observe(`${prefix}_latency_ms`, { ...route, ...statusCodeLabel(response) }, response.latencyMs);
  }

  private observe(name: string, labels: Record<string, string>, valueMs: number): void {
    const index = bucketIndex(valueMs);
    RESPONSE_LATENCY_BUCKETS_MS.forEach((bound, i) => {
      this.add(`${name}_bucket`, { ...labels, le: String(bound) }, i >= index ? 1 : 0);
    });
    this.add(`${name}_bucket`, { ...labels, le: '+Inf' }, 1);
    this.add(`${name}_count`, labels, 1);
    this.add(`${name}_sum`, labels, valueMs);
  }

  private add(name: string, labels: Record<string, string>, delta: number): void {
    const key = seriesKey(name, labels);
    const existing = this.series.get(key);
    if (existing) existing.value += delta;
    else this.series.set(key, { name, labels, value: delta });
  }

  private set(name: string, labels: Record<string, string>, value: number): void {
    this.series.set(seriesKey(name, labels), { name, labels, value });
  }
}

function seriesKey(name: string, labels: Record<string, string>): string {
  return `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`;
}

function statusCodeLabel(response: RecordedResponse): Record<string, string> {
  return response.statusCode === undefined ? {} : { status_code: String(response.statusCode) };
}
