import { ProxyMetrics } from '@weft/core';
import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { PrometheusProxyMetrics } from './prometheus-proxy-metrics.js';
import { prometheusModule } from './prometheus.module.js';
import { parseExposition, sumSamples } from './prometheus-text.spec-helper.js';

describe('prometheusModule', () => {
  it('binds ProxyMetrics and PrometheusProxyMetrics to one instance, so what the proxy records is what is scraped', async () => {
    const container = new Container();
    container.load(prometheusModule({ version: '9.9.9', processMetrics: false }));
    const port = container.get<ProxyMetrics>(ProxyMetrics);
    const metrics = container.get(PrometheusProxyMetrics);
    expect(port).toBe(metrics);
    expect(container.get<ProxyMetrics>(ProxyMetrics)).toBe(port);

    port.requestStarted({ direction: 'inbound', targetAddr: '127.0.0.1:8080', tls: { tls: 'disabled' } });
    const scraped = parseExposition(await metrics.metricsText());
    expect(sumSamples(scraped, 'request_total', { direction: 'inbound' })).toBe(1);
    expect(sumSamples(scraped, 'proxy_build_info', { version: '9.9.9' })).toBe(1);
  });
});
