// The metric math of the live table: inbound totals from a proxy's samples, and a service's rates over a time window.
import type { MetricSample } from './prometheus-text.js';

/** What one scrape of one proxy says about its inbound side: counters since the proxy started, and open connections. */
export interface InboundTotals {
  readonly responses: number;
  readonly successes: number;
  /** Responses to requests that came over mTLS (tls="true"). */
  readonly mtlsResponses: number;
  /** Cumulative counts of response_latency_ms by upper bound in ms (Infinity for +Inf). */
  readonly latencyBuckets: ReadonlyMap<number, number>;
  readonly openConnections: number;
  readonly mtlsOpenConnections: number;
}

export interface InboundSnapshot {
  /** Epoch ms of the scrape. */
  readonly atMs: number;
  readonly totals: InboundTotals;
}

/** A service's figures over the window; undefined where there is nothing to show (no scrape yet, no requests). */
export interface ServiceFigures {
  readonly requestsPerSecond: number | undefined;
  readonly successRate: number | undefined;
  readonly p50Ms: number | undefined;
  readonly p95Ms: number | undefined;
  readonly p99Ms: number | undefined;
  readonly openConnections: number | undefined;
  /** The share of inbound requests over mTLS, or when there were none, of open inbound connections. */
  readonly mtlsShare: number | undefined;
}

const isInbound = (sample: MetricSample) => sample.labels['direction'] === 'inbound';

export function inboundTotals(samples: readonly MetricSample[]): InboundTotals {
  let responses = 0;
  let successes = 0;
  let mtlsResponses = 0;
  let openConnections = 0;
  let mtlsOpenConnections = 0;
  const latencyBuckets = new Map<number, number>();
  for (const sample of samples) {
    if (!isInbound(sample) || !Number.isFinite(sample.value)) continue;
    const mtls = sample.labels['tls'] === 'true';
    switch (sample.name) {
      case 'response_total':
        responses += sample.value;
        if (sample.labels['classification'] === 'success') successes += sample.value;
        if (mtls) mtlsResponses += sample.value;
        break;
      case 'response_latency_ms_bucket': {
        const le = upperBound(sample.labels['le']);
        if (le !== undefined) latencyBuckets.set(le, (latencyBuckets.get(le) ?? 0) + sample.value);
        break;
      }
      case 'tcp_open_connections':
        openConnections += sample.value;
        if (mtls) mtlsOpenConnections += sample.value;
        break;
    }
  }
  return { responses, successes, mtlsResponses, latencyBuckets, openConnections, mtlsOpenConnections };
}

function upperBound(le: string | undefined): number | undefined {
  if (le === undefined) return undefined;
  if (le === '+Inf') return Infinity;
  const value = Number(le);
  return Number.isNaN(value) ? undefined : value;
}

interface Delta {
  readonly seconds: number;
  readonly responses: number;
  readonly successes: number;
  readonly mtlsResponses: number;
  readonly latencyBuckets: ReadonlyMap<number, number>;
}

/**
 * What happened between two scrapes of one proxy. A counter that went down means the proxy restarted (its counters
 * began again at 0): then the newer totals are all that is known of the interval.
 */
function deltaOf(older: InboundSnapshot, newer: InboundSnapshot): Delta {
  const [a, b] = [older.totals, newer.totals];
  const restarted =
    b.responses < a.responses || [...a.latencyBuckets].some(([le, count]) => (b.latencyBuckets.get(le) ?? 0) < count);
  const base = restarted ? undefined : a;
  const latencyBuckets = new Map<number, number>();
  for (const [le, count] of b.latencyBuckets) latencyBuckets.set(le, count - (base?.latencyBuckets.get(le) ?? 0));
  return {
    seconds: (newer.atMs - older.atMs) / 1_000,
    responses: b.responses - (base?.responses ?? 0),
    successes: b.successes - (base?.successes ?? 0),
    mtlsResponses: b.mtlsResponses - (base?.mtlsResponses ?? 0),
    latencyBuckets,
  };
}

/**
 * The figures of a service from the scrape histories of its instances' proxies (oldest first): rates over the last
 * `windowMs` (from the oldest scrape within it to the newest), open connections from the newest scrape.
 */
export function serviceFigures(histories: readonly (readonly InboundSnapshot[])[], windowMs: number): ServiceFigures {
  let requestsPerSecond: number | undefined;
  let [responses, successes, mtlsResponses, openConnections, mtlsOpen, scraped] = [0, 0, 0, 0, 0, false];
  const buckets = new Map<number, number>();
  for (const history of histories) {
    const newest = history[history.length - 1];
    if (newest === undefined) continue;
    scraped = true;
    openConnections += newest.totals.openConnections;
    mtlsOpen += newest.totals.mtlsOpenConnections;
    const oldest = history.find((snapshot) => snapshot.atMs >= newest.atMs - windowMs && snapshot !== newest);
    if (oldest === undefined) continue;
    const delta = deltaOf(oldest, newest);
    if (delta.seconds <= 0) continue;
    requestsPerSecond = (requestsPerSecond ?? 0) + delta.responses / delta.seconds;
    responses += delta.responses;
    successes += delta.successes;
    mtlsResponses += delta.mtlsResponses;
    for (const [le, count] of delta.latencyBuckets) buckets.set(le, (buckets.get(le) ?? 0) + count);
  }
  const quantile = (q: number) => (responses > 0 ? histogramQuantile(q, buckets) : undefined);
  return {
    requestsPerSecond,
    successRate: responses > 0 ? successes / responses : undefined,
    p50Ms: quantile(0.5),
    p95Ms: quantile(0.95),
    p99Ms: quantile(0.99),
    openConnections: scraped ? openConnections : undefined,
    mtlsShare: responses > 0 ? mtlsResponses / responses : openConnections > 0 ? mtlsOpen / openConnections : undefined,
  };
}

/**
 * The q-quantile of a histogram given as cumulative counts by upper bound, as Prometheus's histogram_quantile
 * computes it: linear within the bucket that holds the rank; a rank in the +Inf bucket gives the highest finite bound.
 */
export function histogramQuantile(q: number, cumulative: ReadonlyMap<number, number>): number | undefined {
  const bounds = [...cumulative.keys()].sort((a, b) => a - b);
  const total = cumulative.get(Infinity) ?? cumulative.get(bounds[bounds.length - 1] ?? Infinity) ?? 0;
  if (total <= 0 || bounds.length === 0) return undefined;
  const rank = q * total;
  let [lowerBound, lowerCount] = [0, 0];
  for (const bound of bounds) {
    const count = cumulative.get(bound) ?? 0;
    if (count >= rank && count > lowerCount) {
      if (bound === Infinity) return lowerBound;
      return lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / (count - lowerCount);
    }
    [lowerBound, lowerCount] = [bound, count];
  }
  return lowerBound;
}
