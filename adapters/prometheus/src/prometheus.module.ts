// The Prometheus metrics adapter as one inversify ContainerModule: ProxyMetrics bound to a PrometheusProxyMetrics.
import { ProxyMetrics } from '@weft/core';
import { ContainerModule } from 'inversify';
import { PrometheusProxyMetrics, type PrometheusProxyMetricsOptions } from './prometheus-proxy-metrics.js';

/** Binds ProxyMetrics, and PrometheusProxyMetrics itself (for the admin server's `metricsText()`), to one instance. */
export function prometheusModule(options: PrometheusProxyMetricsOptions = {}): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(PrometheusProxyMetrics)
      .toResolvedValue(() => new PrometheusProxyMetrics(options))
      .inSingletonScope();
    bind<ProxyMetrics>(ProxyMetrics).toService(PrometheusProxyMetrics);
  });
}
