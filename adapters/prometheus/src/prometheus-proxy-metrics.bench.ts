// Micro benchmark of the metrics hot path: requestStarted + responseEnded pairs, as the proxy records every request.
import type { RecordedResponse, RouteLabels, TrafficLabels } from '@weft/core';
import { bench, describe } from 'vitest';
import { PrometheusProxyMetrics } from './prometheus-proxy-metrics.js';

/** Endpoints as the HTTP path labels them: one reused TrafficLabels object per endpoint (see forward-context.ts). */
const endpoints: readonly TrafficLabels[] = Array.from({ length: 8 }, (_, i) => ({
  direction: 'outbound',
  authority: 'books.shop.svc.cluster.local:7000',
  targetAddr: `10.0.0.${i + 1}:7000`,
  tls: { tls: 'true', peerIdentity: 'books.shop.serviceaccount.identity.weft.cluster.local' },
  destination: { service: 'books', namespace: 'shop', pod: `books-${i}`, 'app.kubernetes.io/name': 'books' },
}));

const route: RouteLabels = { direction: 'outbound', dst: 'books.shop.svc.cluster.local:7000', route: 'GET /books/{id}' };

const outcomes: readonly RecordedResponse[] = [
  { classification: 'success', statusCode: 200, latencyMs: 3 },
  { classification: 'success', statusCode: 200, latencyMs: 12 },
  { classification: 'failure', statusCode: 503, latencyMs: 40 },
  { classification: 'success', statusCode: 200, grpcStatus: 0, latencyMs: 1 },
];

/** Each case has its own adapter, so one case's series and JIT state do not weigh on another's. */
function adapter(): PrometheusProxyMetrics {
  return new PrometheusProxyMetrics({ processMetrics: false });
}

const options = { time: 1_000, warmupTime: 300 };

describe('PrometheusProxyMetrics hot path', () => {
  const stable = adapter();
  let i = 0;
  bench(
    'requestStarted + responseEnded, stable label objects',
    () => {
      const labels = endpoints[i & 7] as TrafficLabels;
      stable.requestStarted(labels);
      stable.responseEnded(labels, outcomes[i & 3] as RecordedResponse);
      i++;
    },
    options,
  );

  const routes = adapter();
  let j = 0;
  bench(
    'routeRequestStarted + routeResponseEnded, stable label object',
    () => {
      routes.routeRequestStarted(route);
      routes.routeResponseEnded(route, outcomes[j & 3] as RecordedResponse);
      j++;
    },
    options,
  );

  const fresh = adapter();
  let k = 0;
  bench(
    'requestStarted + responseEnded, a new label object every call',
    () => {
      // Same label values in new objects: what a caller that does not reuse its labels pays (the first-call path).
      const labels = { ...(endpoints[k & 7] as TrafficLabels) };
      fresh.requestStarted(labels);
      fresh.responseEnded(labels, outcomes[k & 3] as RecordedResponse);
      k++;
    },
    options,
  );
});
