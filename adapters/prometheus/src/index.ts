// @weft/adapter-prometheus: the proxy's metrics as Prometheus series (prom-client), with bounded cardinality.
export * from './node-process-metrics.js';
export * from './prometheus-proxy-metrics.js';
export * from './prometheus-control-client-metrics.js';
export * from './prometheus.module.js';
export { OVERFLOW_LABEL_VALUE } from './series-family.js';
