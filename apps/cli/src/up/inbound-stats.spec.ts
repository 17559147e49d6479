import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { histogramQuantile, type InboundSnapshot, inboundTotals, serviceFigures } from './inbound-stats.js';
import { parsePrometheusText } from './prometheus-text.js';

/** A scrape of one proxy: inbound responses by tls and classification, latency buckets, open connections. */
function scrape(atMs: number, counts: { ok: number; failed?: number; plain?: number; buckets: Record<string, number>; open?: number; openMtls?: number }): InboundSnapshot {
  const lines = [
    `response_total{direction="inbound",tls="true",classification="success",status_code="200"} ${counts.ok}`,
    `response_total{direction="inbound",tls="true",classification="failure",status_code="500"} ${counts.failed ?? 0}`,
    `response_total{direction="inbound",tls="no_identity",no_tls_reason="no_tls_from_remote",classification="success"} ${counts.plain ?? 0}`,
    `response_total{direction="outbound",tls="true",classification="failure"} 1000`,
    ...Object.entries(counts.buckets).map(([le, count]) => `response_latency_ms_bucket{direction="inbound",tls="true",le="${le}"} ${count}`),
    `response_latency_ms_bucket{direction="outbound",tls="true",le="+Inf"} 1000`,
    `tcp_open_connections{direction="inbound",tls="true"} ${counts.openMtls ?? 0}`,
    `tcp_open_connections{direction="inbound",tls="no_identity"} ${(counts.open ?? 0) - (counts.openMtls ?? 0)}`,
    `tcp_open_connections{direction="outbound",tls="true"} 50`,
  ];
  return { atMs, totals: inboundTotals(parsePrometheusText(lines.join('\n'))) };
}

describe('histogramQuantile', () => {
  it('interpolates within the bucket that holds the rank, as Prometheus does', () => {
    const buckets = new Map([[10, 50], [20, 90], [50, 100], [Infinity, 100]]);
    expect(histogramQuantile(0.5, buckets)).toBe(10);
    expect(histogramQuantile(0.25, buckets)).toBe(5);
    expect(histogramQuantile(0.7, buckets)).toBe(15);
    expect(histogramQuantile(0.95, buckets)).toBe(35);
  });

  it('gives the highest finite bound for a rank in +Inf, and nothing for an empty histogram', () => {
    expect(histogramQuantile(0.99, new Map([[10, 1], [Infinity, 10]]))).toBe(10);
    expect(histogramQuantile(0.5, new Map([[10, 0], [Infinity, 0]]))).toBeUndefined();
  });

  it('never falls outside the bucket bounds (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 100 }), { minLength: 1, maxLength: 8 }), fc.double({ min: 0.01, max: 1, noNaN: true }), (perBucket, q) => {
        let cumulative = 0;
        const buckets = new Map<number, number>();
        perBucket.forEach((count, i) => buckets.set(2 ** i, (cumulative += count)));
        buckets.set(Infinity, cumulative);
        const value = histogramQuantile(q, buckets);
        if (cumulative === 0) {
          expect(value).toBeUndefined();
        } else {
          expect(value).toBeGreaterThanOrEqual(0);
          expect(value).toBeLessThanOrEqual(2 ** (perBucket.length - 1));
        }
      }),
    );
  });
});

describe('serviceFigures', () => {
  const buckets = (under5: number, under50: number) => ({ '5': under5, '50': under50, '+Inf': under50 });

  it('computes rates, success, latency and mTLS share over the window, summed over instances', () => {
    const a = [scrape(0, { ok: 100, buckets: buckets(100, 100) }), scrape(10_000, { ok: 180, failed: 20, buckets: buckets(150, 200), open: 3, openMtls: 3 })];
    const b = [scrape(0, { ok: 0, buckets: buckets(0, 0) }), scrape(10_000, { ok: 90, plain: 10, buckets: buckets(100, 100), open: 2 })];
    const figures = serviceFigures([a, b], 10_000);
    expect(figures.requestsPerSecond).toBeCloseTo(20);
    expect(figures.successRate).toBeCloseTo(180 / 200);
    expect(figures.mtlsShare).toBeCloseTo(190 / 200);
    expect(figures.openConnections).toBe(5);
    // 150 of the 200 in the window took up to 5 ms, 50 between 5 and 50 ms.
    expect(figures.p50Ms).toBeCloseTo(5 * (100 / 150));
    expect(figures.p99Ms).toBeCloseTo(5 + 45 * (48 / 50));
  });

  it('looks back only as far as the window', () => {
    const history = [scrape(0, { ok: 0, buckets: buckets(0, 0) }), scrape(5_000, { ok: 1000, buckets: buckets(1000, 1000) }), scrape(10_000, { ok: 1010, buckets: buckets(1010, 1010) })];
    expect(serviceFigures([history], 5_000).requestsPerSecond).toBeCloseTo(2);
  });

  it('reads a counter that went down as a proxy restart, counting what the new proxy saw', () => {
    const history = [scrape(0, { ok: 500, buckets: buckets(500, 500) }), scrape(10_000, { ok: 30, buckets: buckets(30, 30) })];
    const figures = serviceFigures([history], 10_000);
    expect(figures.requestsPerSecond).toBeCloseTo(3);
    expect(figures.successRate).toBe(1);
    expect(figures.p50Ms).toBeGreaterThan(0);
  });

  it('shows nothing before two scrapes, and the mTLS share of open connections when no request came', () => {
    expect(serviceFigures([[]], 10_000)).toEqual({
      requestsPerSecond: undefined,
      successRate: undefined,
      p50Ms: undefined,
      p95Ms: undefined,
      p99Ms: undefined,
      openConnections: undefined,
      mtlsShare: undefined,
    });
    const idle = [scrape(0, { ok: 7, buckets: buckets(7, 7), open: 4, openMtls: 3 }), scrape(10_000, { ok: 7, buckets: buckets(7, 7), open: 4, openMtls: 3 })];
    const figures = serviceFigures([idle], 10_000);
    expect(figures.requestsPerSecond).toBe(0);
    expect(figures.successRate).toBeUndefined();
    expect(figures.p50Ms).toBeUndefined();
    expect(figures.mtlsShare).toBe(0.75);
  });
});
