import type { TrafficLabels } from '@weft/core';
import { describeProxyMetricsContract } from '@weft/fixtures';
import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PrometheusProxyMetrics } from './prometheus-proxy-metrics.js';
import { parseExposition, promtoolCheckMetrics, sumSamples } from './prometheus-text.spec-helper.js';

describeProxyMetricsContract('PrometheusProxyMetrics', () => {
  const metrics = new PrometheusProxyMetrics();
  return {
    port: metrics,
    // Read back through the text a Prometheus server would scrape, not through prom-client's objects.
    value: async (name, labels) => sumSamples(parseExposition(await metrics.metricsText()), name, labels),
    close: async () => undefined,
  };
});

const books: TrafficLabels = {
  direction: 'outbound',
  authority: 'books.shop.svc.cluster.local:7000',
  targetAddr: '10.0.0.9:7000',
  tls: { tls: 'true', peerIdentity: 'books.shop.serviceaccount.identity.weft.cluster.local' },
  destination: { service: 'books', namespace: 'shop', 'app.kubernetes.io/name': 'books' },
};

function inboundFrom(targetAddr: string): TrafficLabels {
  return { direction: 'inbound', targetAddr, tls: { tls: 'no_identity', reason: 'no_tls_from_remote' } };
}

async function scrape(metrics: PrometheusProxyMetrics) {
  return parseExposition(await metrics.metricsText());
}

/** Traffic of every kind, with label sets of several shapes, so each family has samples. */
function recordMixedTraffic(metrics: PrometheusProxyMetrics): void {
  metrics.requestStarted(books);
  metrics.responseEnded(books, { classification: 'success', statusCode: 200, latencyMs: 7 });
  metrics.responseEnded(inboundFrom('10.0.0.9:8080'), { classification: 'failure', latencyMs: 0.4 });
  metrics.responseEnded(inboundFrom('10.0.0.9:8080'), { classification: 'failure', statusCode: 200, grpcStatus: 14, latencyMs: 60_000 });
  const route = { direction: 'outbound', dst: 'books.shop.svc.cluster.local:7000', route: 'GET /books/{id}' } as const;
  metrics.routeRequestStarted(route);
  metrics.routeResponseEnded(route, { classification: 'success', statusCode: 200, latencyMs: 12 });
  metrics.tcpOpened(books);
  metrics.tcpOpened(inboundFrom('10.0.0.9:8080'));
  metrics.tcpClosed(inboundFrom('10.0.0.9:8080'), { classification: 'failure', errno: 'ECONNRESET', readBytes: 10, writeBytes: 0 });
}

/**
 * promtool lints beyond the format. These findings are expected and nothing else is: Linkerd's family names end in
 * `_ms`, which dashboards query, and prom-client names three of its Node gauges `_total`.
 */
const EXPECTED_LINT = new Set([
  'response_latency_ms metric names should not contain abbreviated units',
  'route_response_latency_ms metric names should not contain abbreviated units',
  'nodejs_active_handles_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_requests_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_resources_total non-counter metrics should not have "_total" suffix',
]);

describe('PrometheusProxyMetrics exposition', () => {
  it('passes promtool check metrics (the format, and every lint rule but the expected names)', async (context) => {
    const metrics = new PrometheusProxyMetrics({ version: '0.1.0', maxSeriesPerFamily: 3 });
    recordMixedTraffic(metrics);
    metrics.requestStarted({ ...books, authority: 'say "hi"\\there\nnext line:80' });
    for (let i = 0; i < 5; i++) metrics.requestStarted(inboundFrom(`127.0.0.1:${9000 + i}`));

    const result = promtoolCheckMetrics(await metrics.metricsText());
    if (!result.installed) {
      const message = 'promtool is not installed: run `bash scripts/setup-system.sh` (Debian package prometheus)';
      if (process.env['CI'] === 'true') expect.fail(message);
      return context.skip(message);
    }
    expect(result.problems.filter((problem) => !EXPECTED_LINT.has(problem))).toEqual([]);
    expect([0, 3]).toContain(result.exitCode);
  });

  it('gives each family one HELP and one TYPE line, however many label-name sets it holds', async () => {
    const metrics = new PrometheusProxyMetrics();
    recordMixedTraffic(metrics);
    const text = await metrics.metricsText();

    const response = (await scrape(metrics)).families.find((family) => family.name === 'response_total');
    const labelNameSets = new Set(response?.samples.map((sample) => Object.keys(sample.labels).sort().join(',')));
    expect(labelNameSets.size).toBe(3);
    for (const keyword of ['HELP', 'TYPE']) {
      const names = text.split('\n').filter((line) => line.startsWith(`# ${keyword} `)).map((line) => line.split(' ')[2]);
      expect(names.length).toBeGreaterThan(11);
      expect(new Set(names).size).toBe(names.length);
    }
    expect(text).toContain('# TYPE response_latency_ms histogram\n');
    expect(text).toContain('# TYPE tcp_open_connections gauge\n');
    expect(text).toContain('# TYPE tcp_read_bytes_total counter\n');
  });

  it('escapes quotes, backslashes and newlines in label values so they read back unchanged', async () => {
    const metrics = new PrometheusProxyMetrics();
    const authority = 'say "hi"\\there\nnext line:80';
    metrics.requestStarted({ ...books, authority, destination: { pod: 'C:\\pods\\"x"' } });

    const text = await metrics.metricsText();
    expect(text).toContain('authority="say \\"hi\\"\\\\there\\nnext line:80"');
    expect(text).toContain('dst_pod="C:\\\\pods\\\\\\"x\\""');
    expect(text.split('\n').filter((line) => line.startsWith('request_total'))).toHaveLength(1);
    expect(sumSamples(await scrape(metrics), 'request_total', { authority, dst_pod: 'C:\\pods\\"x"' })).toBe(1);
  });

  it('renders destination labels from discovery under valid dst_ names', async () => {
    const metrics = new PrometheusProxyMetrics();
    metrics.requestStarted(books);
    expect(sumSamples(await scrape(metrics), 'request_total', { dst_app_kubernetes_io_name: 'books', dst_namespace: 'shop' })).toBe(1);
  });

  it('puts the histogram buckets in order with le last, and le="+Inf" equal to the count', async () => {
    const metrics = new PrometheusProxyMetrics();
    metrics.responseEnded(books, { classification: 'success', statusCode: 200, latencyMs: 60_000 });
    const samples = (await scrape(metrics)).samples.filter((sample) => sample.name === 'response_latency_ms_bucket');
    expect(samples.map((sample) => sample.labels['le'])).toEqual([
      '1', '2', '3', '4', '5', '10', '20', '30', '40', '50', '100', '200', '300', '400', '500', '1000', '2000', '3000',
      '4000', '5000', '10000', '20000', '30000', '40000', '50000', '+Inf',
    ]);
    expect(samples.every((sample) => Object.keys(sample.labels).at(-1) === 'le')).toBe(true);
    expect(samples.map((sample) => sample.value).filter((value) => value > 0)).toEqual([1]);
  });
});

describe('PrometheusProxyMetrics series limit', () => {
  it('folds label sets beyond the limit into one overflow series and counts each recording folded', async () => {
    const metrics = new PrometheusProxyMetrics({ maxSeriesPerFamily: 3 });
    for (let i = 0; i < 6; i++) {
      metrics.requestStarted(inboundFrom(`127.0.0.1:${9000 + i}`));
      metrics.requestStarted(inboundFrom(`127.0.0.1:${9000 + i}`));
    }
    metrics.requestStarted(inboundFrom('127.0.0.1:9000'));

    const scraped = await scrape(metrics);
    const series = scraped.samples.filter((sample) => sample.name === 'request_total');
    expect(series).toHaveLength(4);
    expect(sumSamples(scraped, 'request_total', { target_addr: '127.0.0.1:9000' })).toBe(3);
    expect(sumSamples(scraped, 'request_total', { target_addr: '127.0.0.1:9005' })).toBeUndefined();
    expect(sumSamples(scraped, 'request_total', { direction: 'overflow', target_addr: 'overflow', tls: 'overflow' })).toBe(6);
    expect(sumSamples(scraped, 'request_total')).toBe(13);
    expect(sumSamples(scraped, 'metrics_series_overflow_total', { family: 'request_total' })).toBe(6);
    expect(sumSamples(scraped, 'metrics_series_overflow_total', { family: 'response_total' })).toBe(0);
  });

  it('keeps the overflowed open-connection gauge balanced and the histogram whole', async () => {
    const metrics = new PrometheusProxyMetrics({ maxSeriesPerFamily: 1 });
    const [first, second, third] = [inboundFrom('127.0.0.1:1'), inboundFrom('127.0.0.1:2'), inboundFrom('127.0.0.1:3')];
    for (const labels of [first, second, third]) metrics.tcpOpened(labels);
    let scraped = await scrape(metrics);
    expect(sumSamples(scraped, 'tcp_open_connections', { target_addr: 'overflow' })).toBe(2);

    for (const labels of [first, second, third]) {
      metrics.tcpClosed(labels, { classification: 'success', readBytes: 1, writeBytes: 2 });
      metrics.responseEnded(labels, { classification: 'success', statusCode: 200, latencyMs: 5 });
    }
    scraped = await scrape(metrics);
    expect(sumSamples(scraped, 'tcp_open_connections')).toBe(0);
    expect(sumSamples(scraped, 'tcp_write_bytes_total', { target_addr: 'overflow' })).toBe(4);
    expect(sumSamples(scraped, 'response_latency_ms_count', { target_addr: 'overflow' })).toBe(2);
    expect(sumSamples(scraped, 'response_latency_ms_bucket', { target_addr: 'overflow', le: '5' })).toBe(2);
    expect(sumSamples(scraped, 'metrics_series_overflow_total', { family: 'response_latency_ms' })).toBe(2);
  });

  it('defaults to 10 000 series per family and refuses a limit that is not a whole number', async () => {
    const metrics = new PrometheusProxyMetrics({ processMetrics: false });
    for (let i = 0; i < 10_001; i++) metrics.requestStarted(inboundFrom(`10.1.${i >> 8}.${i & 255}:80`));
    const scraped = await scrape(metrics);
    expect(scraped.samples.filter((sample) => sample.name === 'request_total')).toHaveLength(10_001);
    expect(sumSamples(scraped, 'request_total', { target_addr: 'overflow' })).toBe(1);

    expect(() => new PrometheusProxyMetrics({ maxSeriesPerFamily: 0 })).toThrow(/maxSeriesPerFamily 0/);
    expect(() => new PrometheusProxyMetrics({ maxSeriesPerFamily: 2.5 })).toThrow(RangeError);
  });
});

describe('PrometheusProxyMetrics registry', () => {
  it('adds the process metrics without a prefix and proxy_build_info with the version', async () => {
    const metrics = new PrometheusProxyMetrics({ version: '1.2.3' });
    const scraped = await scrape(metrics);
    expect(sumSamples(scraped, 'proxy_build_info', { version: '1.2.3' })).toBe(1);
    expect(sumSamples(scraped, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sumSamples(scraped, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sumSamples(scraped, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(metrics.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('keeps each instance to its own registry and leaves prom-client\'s global one alone', async () => {
    const a = new PrometheusProxyMetrics({ processMetrics: false });
    const b = new PrometheusProxyMetrics({ processMetrics: false });
    a.requestStarted(books);
    expect(sumSamples(await scrape(a), 'request_total')).toBe(1);
    expect(sumSamples(await scrape(b), 'request_total')).toBeUndefined();
    expect(sumSamples(await scrape(b), 'process_cpu_user_seconds_total')).toBeUndefined();
    expect(await globalRegistry.metrics()).not.toMatch(/request_total|proxy_build_info|process_cpu/);
  });

  it('drops latencies and byte counts that are not finite non-negative numbers instead of throwing', async () => {
    const metrics = new PrometheusProxyMetrics({ processMetrics: false });
    metrics.responseEnded(books, { classification: 'success', statusCode: 200, latencyMs: Number.NaN });
    metrics.tcpClosed(books, { classification: 'success', readBytes: -1, writeBytes: Infinity });
    const scraped = await scrape(metrics);
    expect(sumSamples(scraped, 'response_total')).toBe(1);
    expect(sumSamples(scraped, 'response_latency_ms_count')).toBeUndefined();
    expect(sumSamples(scraped, 'tcp_close_total')).toBe(1);
    expect(sumSamples(scraped, 'tcp_read_bytes_total')).toBeUndefined();
    expect(sumSamples(scraped, 'tcp_write_bytes_total')).toBeUndefined();
  });
});
