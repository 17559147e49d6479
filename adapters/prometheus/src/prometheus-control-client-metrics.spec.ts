import { describe, expect, it } from 'vitest';
import { CONTROL_CLIENT_METRICS, type ControlStreamLabels, PrometheusControlClientMetrics } from './prometheus-control-client-metrics.js';
import { PrometheusProxyMetrics } from './prometheus-proxy-metrics.js';
import { parseExposition, promtoolCheckMetrics, sumSamples } from './prometheus-text.spec-helper.js';

const ADDR = '127.0.0.1:8086';
const get: ControlStreamLabels = { service: 'destination', rpc: 'Get', addr: ADDR };
const profile: ControlStreamLabels = { service: 'destination', rpc: 'GetProfile', addr: ADDR };
const watchPort: ControlStreamLabels = { service: 'policy', rpc: 'WatchPort', addr: ADDR };

function setUp(): { proxy: PrometheusProxyMetrics; control: PrometheusControlClientMetrics } {
  const proxy = new PrometheusProxyMetrics({ version: 'test', processMetrics: false });
  return { proxy, control: new PrometheusControlClientMetrics(proxy.registry) };
}

/** A proxy that connected, lost the control plane, tried twice more and came back. */
function recordOutage(control: PrometheusControlClientMetrics): void {
  for (const labels of [get, profile, watchPort]) {
    control.streamRequested(labels);
    control.streamConnected(labels, false);
    control.errorObserved(labels, 'unavailable');
  }
  control.streamRequested(get);
  control.errorObserved(get, 'unavailable');
  control.streamRequested(get);
  control.streamConnected(get, true);
  control.errorObserved(profile, 'invalid_message');
  control.staleStateExpired(watchPort);
}

describe('PrometheusControlClientMetrics', () => {
  it('records the control_* counters into the proxy\'s registry, so one scrape of /metrics shows them with the traffic', async () => {
    const { proxy, control } = setUp();
    recordOutage(control);
    proxy.requestStarted({ direction: 'outbound', targetAddr: '10.0.0.1:80', tls: { tls: 'disabled' } });

    const scraped = parseExposition(await proxy.metricsText());
    expect(sumSamples(scraped, 'request_total')).toBe(1);
    expect(sumSamples(scraped, CONTROL_CLIENT_METRICS.requests, { service: 'destination', rpc: 'Get', addr: ADDR })).toBe(3);
    expect(sumSamples(scraped, CONTROL_CLIENT_METRICS.requests)).toBe(5);
    expect(sumSamples(scraped, CONTROL_CLIENT_METRICS.connects, { rpc: 'Get', reconnect: 'false' })).toBe(1);
    expect(sumSamples(scraped, CONTROL_CLIENT_METRICS.connects, { rpc: 'Get', reconnect: 'true' })).toBe(1);
    expect(sumSamples(scraped, CONTROL_CLIENT_METRICS.connects, { reconnect: 'true' })).toBe(1);
    expect(sumSamples(scraped, CONTROL_CLIENT_METRICS.errors, { rpc: 'Get', reason: 'unavailable' })).toBe(2);
    expect(sumSamples(scraped, CONTROL_CLIENT_METRICS.errors, { service: 'destination', rpc: 'GetProfile', reason: 'invalid_message' })).toBe(1);
    expect(sumSamples(scraped, CONTROL_CLIENT_METRICS.expired, { service: 'policy', rpc: 'WatchPort', addr: ADDR })).toBe(1);
    const families = scraped.families.filter((family) => family.name.startsWith('control_'));
    expect(families.map((family) => [family.name, family.type])).toEqual(
      Object.values(CONTROL_CLIENT_METRICS).map((name) => [name, 'counter']),
    );
  });

  it('keeps its labels to a closed vocabulary: unknown services, RPCs and reasons read "other", extra addresses "overflow"', async () => {
    const proxy = new PrometheusProxyMetrics({ processMetrics: false });
    const control = new PrometheusControlClientMetrics(proxy.registry, { maxAddresses: 2 });
    for (let i = 0; i < 50; i++) {
      const labels = { service: `svc-${i}`, rpc: `Rpc${i}`, addr: `10.0.0.${i}:8086` };
      control.streamRequested(labels);
      control.errorObserved(labels, `reason "${i}"\n`);
    }

    const scraped = parseExposition(await proxy.metricsText());
    const requests = scraped.samples.filter((sample) => sample.name === CONTROL_CLIENT_METRICS.requests);
    expect(requests.map((sample) => sample.labels)).toEqual([
      { service: 'other', rpc: 'other', addr: '10.0.0.0:8086' },
      { service: 'other', rpc: 'other', addr: '10.0.0.1:8086' },
      { service: 'other', rpc: 'other', addr: 'overflow' },
    ]);
    expect(requests.map((sample) => sample.value)).toEqual([1, 1, 48]);
    const errors = scraped.samples.filter((sample) => sample.name === CONTROL_CLIENT_METRICS.errors);
    const reasons = new Set(errors.map((sample) => sample.labels['reason']));
    expect(reasons).toEqual(new Set(['other']));
  });

  it('counts into the same series when a second instance is made on the same registry', async () => {
    const { proxy, control } = setUp();
    const again = new PrometheusControlClientMetrics(proxy.registry);
    control.streamRequested(get);
    again.streamRequested(get);
    expect(sumSamples(parseExposition(await proxy.metricsText()), CONTROL_CLIENT_METRICS.requests)).toBe(2);
  });

  it('refuses a series limit that is not a whole number of at least 1', () => {
    const { proxy } = setUp();
    expect(() => new PrometheusControlClientMetrics(proxy.registry, { maxAddresses: 0 })).toThrow(/maxAddresses 0 is not a whole number/);
  });

  it('passes promtool check metrics', async (context) => {
    const { proxy, control } = setUp();
    recordOutage(control);
    const result = promtoolCheckMetrics(await proxy.metricsText());
    if (!result.installed) {
      const message = 'promtool is not installed: run `bash scripts/setup-system.sh` (Debian package prometheus)';
      if (process.env['CI'] === 'true') expect.fail(message);
      return context.skip(message);
    }
    // The traffic families have findings of their own (see prometheus-proxy-metrics.spec.ts); control_* has none.
    expect(result.problems.filter((problem) => problem.includes('control_'))).toEqual([]);
    expect([0, 3]).toContain(result.exitCode);
  });
});
