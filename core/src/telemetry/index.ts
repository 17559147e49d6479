// Telemetry: response classification, metric label sets, latency buckets and the ProxyMetrics port.
export * from './latency-buckets.js';
export * from './response-classification.js';
export * from './traffic-labels.js';
export * from './authz-labels.js';
export * from './proxy-metrics.port.js';
