import type { RecordedResponse, RecordedTcpClose, RouteLabels, TrafficLabels } from '@weft/core';
import { describeProxyMetricsContract } from '@weft/fixtures';
import fc from 'fast-check';
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
  metrics.routeAttemptStarted(route);
  metrics.routeAttemptEnded(route, { classification: 'failure', statusCode: 503, latencyMs: 3 });
  metrics.routeAttemptStarted(route);
  metrics.routeAttemptEnded(route, { classification: 'success', statusCode: 200, latencyMs: 8 });
  metrics.routeResponseEnded(route, { classification: 'success', statusCode: 200, latencyMs: 12 });
  metrics.tcpOpened(books);
  metrics.tcpOpened(inboundFrom('10.0.0.9:8080'));
  metrics.tcpClosed(inboundFrom('10.0.0.9:8080'), { classification: 'failure', errno: 'ECONNRESET', readBytes: 10, writeBytes: 0 });
  const server = { kind: 'Server', name: 'books-http', port: 8080 } as const;
  const meshed = { tls: 'true', peerIdentity: 'web.shop.serviceaccount.identity.weft.cluster.local' } as const;
  metrics.authorizationDecided(
    { protocol: 'http', targetAddr: '10.0.0.9:8080', tls: meshed, server, authorization: { kind: 'AuthorizationPolicy', name: 'web' }, route: 'get' },
    true,
  );
  metrics.authorizationDecided({ protocol: 'http', targetAddr: '10.0.0.9:8080', tls: inboundFrom('').tls, server }, false);
  const opaque = { kind: 'default', name: 'audit', port: 5432 } as const;
  metrics.authorizationDecided({ protocol: 'tcp', targetAddr: '10.0.0.9:5432', tls: meshed, server: opaque, authorization: opaque }, true);
  metrics.authorizationDecided({ protocol: 'tcp', targetAddr: '10.0.0.9:5432', tls: meshed, server: opaque }, false);
  metrics.certificateRefreshed(1_800_000_000_000);
}

/**
 * promtool lints beyond the format. These findings are expected and nothing else is: Linkerd's family names end in
 * `_ms`, and its certificate refresh counter is `identity_cert_refresh_count` (no `_total`), names dashboards query;
 * prom-client's misnamed Node gauges are dropped.
 */
const EXPECTED_LINT = new Set([
  'response_latency_ms metric names should not contain abbreviated units',
  'route_response_latency_ms metric names should not contain abbreviated units',
  'route_actual_response_latency_ms metric names should not contain abbreviated units',
  'identity_cert_refresh_count counter metrics should have "_total" suffix',
  'identity_cert_refresh_count non-histogram and non-summary metrics should not have "_count" suffix',
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
    expect(text).toContain('# TYPE inbound_tcp_authz_deny_total counter\n');
    expect(text).toContain('# TYPE identity_cert_expiration_timestamp_seconds gauge\n');
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

describe('PrometheusProxyMetrics identity and authorization', () => {
  it('shows no certificate expiry before the first certificate, and a refresh count of 0', async () => {
    const metrics = new PrometheusProxyMetrics({ processMetrics: false });
    let scraped = await scrape(metrics);
    expect(sumSamples(scraped, 'identity_cert_refresh_count')).toBe(0);
    expect(scraped.families.map((family) => family.name)).not.toContain('identity_cert_expiration_timestamp_seconds');

    metrics.certificateRefreshed(1_800_000_000_000);
    metrics.certificateRefreshed(Number.NaN);
    metrics.certificateRefreshed(1_800_000_060_000);
    scraped = await scrape(metrics);
    expect(sumSamples(scraped, 'identity_cert_expiration_timestamp_seconds')).toBe(1_800_000_060);
    expect(sumSamples(scraped, 'identity_cert_refresh_count')).toBe(2);
  });

  it('records a reused authorization label object into the same series as fresh copies of it', async () => {
    const labels = {
      protocol: 'http',
      targetAddr: '10.0.0.9:8080',
      tls: { tls: 'no_identity', reason: 'loopback' },
      server: { kind: 'default', name: 'all-unauthenticated', port: 8080 },
      authorization: { kind: 'default', name: 'all-unauthenticated' },
    } as const;
    const metrics = new PrometheusProxyMetrics({ processMetrics: false });
    for (let i = 0; i < 3; i++) metrics.authorizationDecided(labels, true);
    metrics.authorizationDecided(structuredClone(labels), true);
    metrics.authorizationDecided(labels, false);
    const scraped = await scrape(metrics);
    expect(scraped.samples.filter((sample) => sample.name === 'inbound_http_authz_allow_total')).toHaveLength(1);
    expect(sumSamples(scraped, 'inbound_http_authz_allow_total', { authz_name: 'all-unauthenticated', no_tls_reason: 'loopback' })).toBe(4);
    expect(sumSamples(scraped, 'inbound_http_authz_deny_total', { srv_kind: 'default' })).toBe(1);
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
    // The CPU counters read the time used since the adapter was made, which the OS counts in ticks: use one.
    const cpuAtStart = process.cpuUsage().user;
    while (process.cpuUsage().user === cpuAtStart) metrics.requestStarted(books);
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

describe('PrometheusProxyMetrics with reused label objects', () => {
  /** One call of the port, on label objects taken from the pools below by index. */
  type Call =
    | { readonly kind: 'requestStarted' | 'tcpOpened'; readonly traffic: number }
    | { readonly kind: 'responseEnded'; readonly traffic: number; readonly response: RecordedResponse }
    | { readonly kind: 'routeRequestStarted' | 'routeAttemptStarted'; readonly route: number }
    | { readonly kind: 'routeResponseEnded' | 'routeAttemptEnded'; readonly route: number; readonly response: RecordedResponse }
    | { readonly kind: 'tcpClosed'; readonly traffic: number; readonly close: RecordedTcpClose };

  const trafficPool: readonly TrafficLabels[] = [
    books,
    { ...books, targetAddr: '10.0.0.10:7000' },
    { ...books, destination: { service: 'books', 'app.kubernetes.io/name': 'books', pod: 'books-1' } },
    inboundFrom('10.0.0.9:8080'),
    inboundFrom('10.0.0.9:8081'),
    { direction: 'outbound', targetAddr: '10.0.0.7:80', tls: { tls: 'opaque', sni: 'db.internal' } },
    // The same values as the first: a distinct object that must land in the same series.
    { ...books },
  ];
  const routePool: readonly RouteLabels[] = [
    { direction: 'outbound', dst: 'books.shop.svc.cluster.local:7000', route: 'GET /books/{id}' },
    { direction: 'outbound', dst: 'books.shop.svc.cluster.local:7000', route: 'default' },
    { direction: 'inbound', dst: 'books.shop.svc.cluster.local:7000', route: 'GET /books/{id}' },
  ];

  const response: fc.Arbitrary<RecordedResponse> = fc.record(
    {
      classification: fc.constantFrom('success', 'failure'),
      // 1500 is outside the packed keys.
      statusCode: fc.constantFrom(200, 503, 1500),
      grpcStatus: fc.constantFrom(0, 14, 2000),
      latencyMs: fc.constantFrom(0.4, 7, 250, 60_000, Number.NaN),
    },
    { requiredKeys: ['classification', 'latencyMs'] },
  );
  const close: fc.Arbitrary<RecordedTcpClose> = fc.record(
    {
      classification: fc.constantFrom('success', 'failure'),
      errno: fc.constantFrom('ECONNRESET', 'EPIPE'),
      readBytes: fc.constantFrom(0, 10, -1),
      writeBytes: fc.constantFrom(0, 3, Infinity),
    },
    { requiredKeys: ['classification', 'readBytes', 'writeBytes'] },
  );
  const traffic = fc.nat(trafficPool.length - 1);
  const route = fc.nat(routePool.length - 1);
  const call: fc.Arbitrary<Call> = fc.oneof(
    fc.record({ kind: fc.constantFrom('requestStarted', 'tcpOpened'), traffic }),
    fc.record({ kind: fc.constant('responseEnded'), traffic, response }),
    fc.record({ kind: fc.constantFrom('routeRequestStarted', 'routeAttemptStarted'), route }),
    fc.record({ kind: fc.constantFrom('routeResponseEnded', 'routeAttemptEnded'), route, response }),
    fc.record({ kind: fc.constant('tcpClosed'), traffic, close }),
  );

  /** Plays the calls; `labelsFor` hands the label object of each call: the pooled one, or a fresh copy of it. */
  function play(metrics: PrometheusProxyMetrics, calls: readonly Call[], labelsFor: <T extends object>(pooled: T) => T): void {
    const trafficLabels = (index: number) => labelsFor(trafficPool[index] as TrafficLabels);
    const routeLabels = (index: number) => labelsFor(routePool[index] as RouteLabels);
    for (const c of calls) {
      switch (c.kind) {
        case 'requestStarted':
          metrics.requestStarted(trafficLabels(c.traffic));
          break;
        case 'tcpOpened':
          metrics.tcpOpened(trafficLabels(c.traffic));
          break;
        case 'responseEnded':
          metrics.responseEnded(trafficLabels(c.traffic), c.response);
          break;
        case 'routeRequestStarted':
          metrics.routeRequestStarted(routeLabels(c.route));
          break;
        case 'routeResponseEnded':
          metrics.routeResponseEnded(routeLabels(c.route), c.response);
          break;
        case 'routeAttemptStarted':
          metrics.routeAttemptStarted(routeLabels(c.route));
          break;
        case 'routeAttemptEnded':
          metrics.routeAttemptEnded(routeLabels(c.route), c.response);
          break;
        case 'tcpClosed':
          metrics.tcpClosed(trafficLabels(c.traffic), c.close);
      }
    }
  }

  const reused = <T extends object>(pooled: T): T => pooled;
  const copied = <T extends object>(pooled: T): T => structuredClone(pooled);

  async function scrapeBoth(calls: readonly Call[], maxSeriesPerFamily: number): Promise<[string, string]> {
    const cached = new PrometheusProxyMetrics({ processMetrics: false, maxSeriesPerFamily });
    const uncached = new PrometheusProxyMetrics({ processMetrics: false, maxSeriesPerFamily });
    play(cached, calls, reused);
    play(uncached, calls, copied);
    return [await cached.metricsText(), await uncached.metricsText()];
  }

  it('scrapes the same text whether each call brings the same label objects or new ones', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(call, { maxLength: 80 }), fc.integer({ min: 1, max: 8 }), async (calls, max) => {
        const [cached, uncached] = await scrapeBoth(calls, max);
        expect(cached).toBe(uncached);
      }),
      { numRuns: 200 },
    );
  });

  it('scrapes the same text for every outcome on every label object, more than one object keeps series for', async () => {
    const responses: RecordedResponse[] = [];
    for (const classification of ['success', 'failure'] as const) {
      for (const statusCode of [undefined, 0, 200, 503, 1022, 1023, 1500, 1500.25, Number.NaN]) {
        for (const grpcStatus of [undefined, 0, 14, 1022, 2000]) {
          responses.push({
            classification,
            ...(statusCode === undefined ? {} : { statusCode }),
            ...(grpcStatus === undefined ? {} : { grpcStatus }),
            latencyMs: responses.length,
          });
        }
      }
    }
    const calls: Call[] = [];
    for (let round = 0; round < 2; round++) {
      for (const response of responses) {
        trafficPool.forEach((_, traffic) => calls.push({ kind: 'responseEnded', traffic, response }));
        routePool.forEach((_, route) => calls.push({ kind: 'routeResponseEnded', route, response }));
        routePool.forEach((_, route) => calls.push({ kind: 'routeAttemptEnded', route, response }));
      }
      for (let errno = 0; errno < 100; errno++) {
        const classification = errno % 2 === 0 ? 'failure' : 'success';
        const close = { classification, ...(errno === 0 ? {} : { errno: `E${errno}` }), readBytes: 1, writeBytes: 1 } as const;
        trafficPool.forEach((_, traffic) => calls.push({ kind: 'tcpClosed', traffic, close }));
      }
    }
    const [cached, uncached] = await scrapeBoth(calls, 10_000);
    expect(cached).toBe(uncached);
    const scraped = parseExposition(cached);
    expect(sumSamples(scraped, 'response_total', { status_code: 'NaN', grpc_status: '2000' })).toBe(2 * 2 * trafficPool.length);
    expect(sumSamples(scraped, 'tcp_close_total', { errno: 'E99' })).toBe(2 * trafficPool.length);
    expect(sumSamples(scraped, 'route_actual_response_total', { status_code: 'NaN', grpc_status: '2000' })).toBe(2 * 2 * routePool.length);
  });

  it('keeps recording a label object whose first call overflowed in the overflow series', async () => {
    const metrics = new PrometheusProxyMetrics({ processMetrics: false, maxSeriesPerFamily: 1 });
    const [admitted, folded] = [inboundFrom('127.0.0.1:1'), inboundFrom('127.0.0.1:2')];
    metrics.requestStarted(admitted);
    metrics.tcpOpened(admitted);
    for (let i = 0; i < 3; i++) {
      metrics.requestStarted(folded);
      metrics.responseEnded(folded, { classification: 'success', statusCode: 200, latencyMs: 5 });
      metrics.tcpOpened(folded);
    }
    // The family's one series is taken: the admitted object goes on in its own series, the folded one in overflow.
    metrics.requestStarted(admitted);
    for (let i = 0; i < 3; i++) metrics.tcpClosed(folded, { classification: 'success', readBytes: 1, writeBytes: 0 });

    const scraped = await scrape(metrics);
    expect(scraped.samples.filter((sample) => sample.name === 'request_total')).toHaveLength(2);
    expect(sumSamples(scraped, 'request_total', { target_addr: '127.0.0.1:1' })).toBe(2);
    expect(sumSamples(scraped, 'request_total', { target_addr: '127.0.0.1:2' })).toBeUndefined();
    expect(sumSamples(scraped, 'request_total', { target_addr: 'overflow' })).toBe(3);
    expect(sumSamples(scraped, 'metrics_series_overflow_total', { family: 'request_total' })).toBe(3);
    // The first response of the folded object was admitted in response_total (a family of its own), the rest too.
    expect(sumSamples(scraped, 'response_total', { target_addr: '127.0.0.1:2' })).toBe(3);
    expect(sumSamples(scraped, 'tcp_open_connections', { target_addr: '127.0.0.1:1' })).toBe(1);
    expect(sumSamples(scraped, 'tcp_open_connections', { target_addr: 'overflow' })).toBe(0);
    expect(sumSamples(scraped, 'tcp_open_total', { target_addr: 'overflow' })).toBe(3);
    expect(sumSamples(scraped, 'metrics_series_overflow_total', { family: 'tcp_open_connections' })).toBe(6);
  });

  it('never changes the label or record objects it is given: the cache keys on them and reads them once', async () => {
    const labels = deepFreeze(structuredClone(books));
    const routeLabels = deepFreeze({ direction: 'inbound', dst: 'books.shop.svc.cluster.local:7000', route: 'default' } as const);
    const ok = deepFreeze({ classification: 'success', statusCode: 200, grpcStatus: 0, latencyMs: 3 } as const);
    const reset = deepFreeze({ classification: 'failure', errno: 'ECONNRESET', readBytes: 5, writeBytes: 6 } as const);
    const metrics = new PrometheusProxyMetrics({ processMetrics: false });
    for (let i = 0; i < 2; i++) {
      metrics.requestStarted(labels);
      metrics.responseEnded(labels, ok);
      metrics.routeRequestStarted(routeLabels);
      metrics.routeResponseEnded(routeLabels, ok);
      metrics.routeAttemptStarted(routeLabels);
      metrics.routeAttemptEnded(routeLabels, ok);
      metrics.tcpOpened(labels);
      metrics.tcpClosed(labels, reset);
    }
    expect(labels).toEqual(books);
    const scraped = await scrape(metrics);
    expect(sumSamples(scraped, 'response_total', { grpc_status: '0', dst_service: 'books' })).toBe(2);
    expect(sumSamples(scraped, 'route_response_latency_ms_count', { rt_route: 'default' })).toBe(2);
    expect(sumSamples(scraped, 'route_actual_response_total', { rt_route: 'default', grpc_status: '0' })).toBe(2);
    expect(sumSamples(scraped, 'tcp_read_bytes_total', { target_addr: books.targetAddr })).toBe(10);
  });
});

/** Freezes an object and everything in it, so any write to it throws. */
function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) if (typeof inner === 'object' && inner !== null) deepFreeze(inner);
  return Object.freeze(value);
}
