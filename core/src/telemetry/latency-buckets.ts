// The latency histogram buckets of the proxy's metrics, the same bounds Linkerd uses so dashboards carry over.
/** Upper bounds in milliseconds of `response_latency_ms` and `route_response_latency_ms`; +Inf is implied. */
export const RESPONSE_LATENCY_BUCKETS_MS: readonly number[] = Object.freeze([
  1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1_000, 2_000, 3_000, 4_000, 5_000, 10_000, 20_000,
  30_000, 40_000, 50_000,
]);

/** The index of the first bucket whose bound holds the value; `bounds.length` stands for +Inf. */
export function bucketIndex(valueMs: number, bounds: readonly number[] = RESPONSE_LATENCY_BUCKETS_MS): number {
  let low = 0;
  let high = bounds.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (valueMs <= (bounds[mid] as number)) high = mid;
    else low = mid + 1;
  }
  return low;
}
