import { describeProxyMetricsContract } from '@weft/fixtures';
import { describe, expect, it } from 'vitest';
import { InMemoryProxyMetrics } from './in-memory-proxy-metrics.js';

describeProxyMetricsContract('InMemoryProxyMetrics', () => {
  const metrics = new InMemoryProxyMetrics();
  return { port: metrics, value: async (name, labels) => metrics.value(name, labels), close: async () => undefined };
});

describe('InMemoryProxyMetrics', () => {
  it('keeps one series per distinct label set, whatever the key order', () => {
    const metrics = new InMemoryProxyMetrics();
    metrics.requestStarted({ direction: 'inbound', targetAddr: '127.0.0.1:80', tls: { tls: 'disabled' } });
    metrics.requestStarted({ tls: { tls: 'disabled' }, targetAddr: '127.0.0.1:80', direction: 'inbound' });
    expect(metrics.allSeries().filter((s) => s.name === 'request_total')).toHaveLength(1);
    expect(metrics.value('request_total')).toBe(2);
  });
});
