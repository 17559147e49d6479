import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram, latencyBucketHighestUs, latencyBucketIndex } from './latency-histogram.js';
import { InvalidToolOutputError } from './tool-output-error.js';

function exactPercentile(values: readonly number[], percent: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((percent / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

function histogramOf(values: readonly number[]): LatencyHistogram {
  const histogram = new LatencyHistogram();
  for (const value of values) histogram.record(value);
  return histogram;
}

describe('LatencyHistogram', () => {
  it('keeps values below 128 us exact', () => {
    const histogram = histogramOf([5, 17, 17, 90]);
    expect(histogram.percentileUs(50)).toBe(17);
    expect(histogram.percentileUs(75)).toBe(17);
    expect(histogram.percentileUs(100)).toBe(90);
  });

  it('gives every percentile within 1/64 of the exact value, never below it', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 60_000_000 }), { minLength: 1, maxLength: 300 }), fc.double({ min: 0, max: 100, noNaN: true }), (values, percent) => {
        const exact = exactPercentile(values, percent);
        const measured = histogramOf(values).percentileUs(percent);
        expect(measured).toBeGreaterThanOrEqual(exact);
        expect(measured - exact).toBeLessThanOrEqual(exact / 64);
      }),
    );
  });

  it('has contiguous buckets: each starts one past the end of the previous', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 30 }), (value) => {
        const index = latencyBucketIndex(value);
        expect(latencyBucketHighestUs(index)).toBeGreaterThanOrEqual(value);
        expect(latencyBucketIndex(latencyBucketHighestUs(index) + 1)).toBe(index + 1);
      }),
    );
  });

  it('pools runs: merging equals recording every value in one histogram', () => {
    const first = [120, 800, 1_500, 90_000];
    const second = [300, 310, 5_000_000];
    const merged = histogramOf(first);
    merged.merge(histogramOf(second));
    const together = histogramOf([...first, ...second]);
    expect(merged.toData()).toEqual(together.toData());
    expect(merged.count).toBe(7);
    expect(merged.maxUs).toBe(5_000_000);
  });

  it('is empty-safe: NaN percentiles, zero count', () => {
    const histogram = new LatencyHistogram();
    expect(histogram.count).toBe(0);
    expect(histogram.percentileUs(99)).toBeNaN();
    expect(histogram.maxUs).toBeNaN();
  });

  it('survives the trip through JSON between the generator process and the harness', () => {
    const histogram = histogramOf([1, 250, 250, 4_000, 77_777]);
    const back = LatencyHistogram.fromData(JSON.parse(JSON.stringify(histogram.toData())));
    expect(back.ok && back.value.toData()).toEqual(histogram.toData());
    expect(back.ok && back.value.percentileUs(50)).toBe(histogram.percentileUs(50));
  });

  it('refuses data whose bucket counts do not add up', () => {
    const data = { buckets: [[3, 2]], count: 5, minUs: 3, maxUs: 3, sumUs: 6 };
    const result = LatencyHistogram.fromData(data);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidToolOutputError);
    expect(result.error.input).toBe(JSON.stringify(data));
    expect(result.error.message).toContain('latency histogram');
  });
});
