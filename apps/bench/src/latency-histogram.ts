// LatencyHistogram: an HdrHistogram-style log-linear histogram of microseconds (relative error under 1/64), mergeable across runs.
import { err, ok, type Result } from '@weft/core';
import { InvalidToolOutputError } from './tool-output-error.js';

/** Values below this many microseconds get a bucket each; above it, each power of two is cut into `subBuckets`. */
const linearLimit = 128;
const subBuckets = 64;
const largestUs = 2 ** 31 - 1;

/** The serialised form the open-loop generator prints and the harness reads back. */
export interface LatencyHistogramData {
  /** [bucket index, count] pairs, only for buckets that are not empty. */
  readonly buckets: readonly (readonly [number, number])[];
  readonly count: number;
  readonly minUs: number;
  readonly maxUs: number;
  readonly sumUs: number;
}

/** The bucket of a value: exact below 128 us, then 64 buckets per power of two. */
export function latencyBucketIndex(valueUs: number): number {
  const value = Math.min(largestUs, Math.max(0, Math.floor(valueUs)));
  if (value < linearLimit) return value;
  const shift = 31 - Math.clz32(value) - 6;
  return linearLimit + (shift - 1) * subBuckets + ((value >>> shift) - subBuckets);
}

/** The largest value that lands in a bucket (what HdrHistogram calls the highest equivalent value). */
export function latencyBucketHighestUs(index: number): number {
  if (index < linearLimit) return index;
  const shift = Math.floor((index - linearLimit) / subBuckets) + 1;
  const sub = ((index - linearLimit) % subBuckets) + subBuckets;
  return (sub + 1) * 2 ** shift - 1;
}

export class LatencyHistogram {
  private readonly counts = new Map<number, number>();
  private total = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = 0;
  private sum = 0;

  record(valueUs: number): void {
    const value = Math.min(largestUs, Math.max(0, valueUs));
    const index = latencyBucketIndex(value);
    this.counts.set(index, (this.counts.get(index) ?? 0) + 1);
    this.total += 1;
    this.min = Math.min(this.min, value);
    this.max = Math.max(this.max, value);
    this.sum += value;
  }

  /** Adds every value of `other` (pooled percentiles over several runs). */
  merge(other: LatencyHistogram): void {
    for (const [index, count] of other.counts) this.counts.set(index, (this.counts.get(index) ?? 0) + count);
    this.total += other.total;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    this.sum += other.sum;
  }

  get count(): number {
    return this.total;
  }

  get maxUs(): number {
    return this.total === 0 ? Number.NaN : this.max;
  }

  get meanUs(): number {
    return this.total === 0 ? Number.NaN : this.sum / this.total;
  }

  /** The value at or below which `percent` of the values lie, never above the largest value seen; NaN when empty. */
  percentileUs(percent: number): number {
    if (this.total === 0) return Number.NaN;
    if (percent >= 100) return this.max;
    const rank = Math.max(1, Math.ceil((Math.max(0, percent) / 100) * this.total));
    let seen = 0;
    for (const index of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(index) as number;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, latencyBucketHighestUs(index)));
    }
    return this.max;
  }

  toData(): LatencyHistogramData {
    return {
      buckets: [...this.counts.entries()].sort(([a], [b]) => a - b),
      count: this.total,
      minUs: this.total === 0 ? 0 : this.min,
      maxUs: this.max,
      sumUs: this.sum,
    };
  }

  /** Rebuilds a histogram from `toData()`, checking the shape since it crossed a process boundary. */
  static fromData(data: unknown): Result<LatencyHistogram, InvalidToolOutputError> {
    if (!isHistogramData(data)) {
      return err(new InvalidToolOutputError(JSON.stringify(data) ?? String(data), 'is not a latency histogram; expected {buckets, count, minUs, maxUs, sumUs}'));
    }
    const histogram = new LatencyHistogram();
    for (const [index, count] of data.buckets) histogram.counts.set(index, count);
    histogram.total = data.count;
    histogram.min = data.count === 0 ? Number.POSITIVE_INFINITY : data.minUs;
    histogram.max = data.maxUs;
    histogram.sum = data.sumUs;
    return ok(histogram);
  }
}

function isHistogramData(data: unknown): data is LatencyHistogramData {
  if (typeof data !== 'object' || data === null) return false;
  const candidate = data as Record<string, unknown>;
  const numbers = ['count', 'minUs', 'maxUs', 'sumUs'].every((key) => Number.isFinite(candidate[key]));
  const buckets = candidate['buckets'];
  if (!numbers || !Array.isArray(buckets)) return false;
  const pairs = buckets.every(
    (pair: unknown) => Array.isArray(pair) && pair.length === 2 && pair.every((n: unknown) => Number.isInteger(n) && (n as number) >= 0),
  );
  return pairs && buckets.reduce((sum: number, pair: readonly number[]) => sum + (pair[1] as number), 0) === candidate['count'];
}
