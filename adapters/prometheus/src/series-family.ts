// SeriesFamily: one metric family whose label sets vary, each label set a series of plain numbers, under a series cap.
import { bucketIndex } from '@weft/core';
import { type ExpositionSample, type MetricFamilyType, renderExpositionFamily } from './exposition-text.js';

export type Labels = Readonly<Record<string, string>>;

/** The label value every variable label of a family's overflow series carries. */
export const OVERFLOW_LABEL_VALUE = 'overflow';

/** The value one series holds and how it is written out. */
export interface SeriesValue {
  /** The samples of this series, named after the family `name`, with `labels` (a histogram adds `le`). */
  samples(name: string, labels: Labels): ExpositionSample[];
}

/** A counter's or a gauge's value. */
export class ScalarValue implements SeriesValue {
  value = 0;

  samples(name: string, labels: Labels): ExpositionSample[] {
    return [{ name, labels, value: this.value }];
  }
}

/** A histogram: a count per bucket (not cumulative; cumulated when written), their sum and count. */
export class HistogramValue implements SeriesValue {
  /** One slot per bound, then +Inf. */
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bucket = bucketIndex(value, this.bounds);
    this.counts[bucket] = (this.counts[bucket] as number) + 1;
    this.sum += value;
    this.count += 1;
  }

  samples(name: string, labels: Labels): ExpositionSample[] {
    const samples: ExpositionSample[] = [];
    let cumulative = 0;
    for (let index = 0; index <= this.bounds.length; index += 1) {
      cumulative += this.counts[index] as number;
      const le = index < this.bounds.length ? String(this.bounds[index]) : '+Inf';
      samples.push({ name: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
    }
    samples.push({ name: `${name}_sum`, labels, value: this.sum }, { name: `${name}_count`, labels, value: this.count });
    return samples;
  }
}

/** Where one label set records in a family: its value and its labels. */
export interface FamilySeries<V extends SeriesValue> {
  readonly value: V;
  readonly labels: Labels;
  /** Whether this is the family's overflow series, whose every recording is counted as folded. */
  readonly overflowed: boolean;
}

/** Records one amount into a series' value (an increment, a decrement, an observation). */
export type SeriesRecorder<V extends SeriesValue> = (value: V, amount: number) => void;

export interface SeriesFamilySpec<V extends SeriesValue> {
  readonly name: string;
  readonly help: string;
  readonly type: MetricFamilyType;
  /** The label names every series of the family carries; the overflow series has exactly these, all `overflow`. */
  readonly overflowLabelNames: readonly string[];
  /** A new, empty value for a series. */
  readonly create: () => V;
}

/**
 * The traffic families are recorded on every request, several times, so a recording must cost a few additions:
 * prom-client's `inc(labels)` and `observe(labels)` validate and hash the label object on every call, which showed
 * as 5-8 % of the proxy's CPU at full load. Here each label set is resolved once to a series (callers keep it, see
 * LabelSeriesCache) and a recording adds to its numbers; the family writes its own text on a scrape, while the
 * registry of everything else (process metrics, build info, identity, overflow counts) stays prom-client's. Label
 * sets vary (optional `authority`, `status_code`, `grpc_status`, `errno`, and `dst_*` names that come from
 * discovery), which per-series values handle naturally; each series keeps the label order it was admitted with.
 *
 * Cardinality is bounded: after `maxSeries` distinct label sets, any new label set is recorded in one overflow series
 * (all its labels read `overflow`), so memory and scrape size stay bounded whatever the traffic, and `onOverflow`
 * reports each recording folded there. Series already admitted keep counting, so a gauge moved up and down by the
 * same label set stays balanced.
 */
export class SeriesFamily<V extends SeriesValue> {
  /** The admitted label sets by seriesKey, in admission order; the first label object of a set stands for all equal ones. */
  private readonly admitted = new Map<string, FamilySeries<V>>();
  private readonly overflowLabels: Labels;
  private overflow: FamilySeries<V> | undefined;

  constructor(
    private readonly spec: SeriesFamilySpec<V>,
    private readonly maxSeries: number,
    private readonly onOverflow: (family: string) => void,
  ) {
    this.overflowLabels = Object.fromEntries(spec.overflowLabelNames.map((name) => [name, OVERFLOW_LABEL_VALUE]));
  }

  get name(): string {
    return this.spec.name;
  }

  /**
   * The series `labels` records into: its own when it was admitted before or the family has room (it is then admitted),
   * else the overflow series. Admission is permanent and the family never shrinks, so the answer for a label set never
   * changes and a caller may keep it for later recordings; keeping it lets no family grow, as it admits nothing new.
   */
  seriesFor(labels: Labels): FamilySeries<V> {
    const key = seriesKey(labels);
    const admitted = this.admitted.get(key);
    if (admitted !== undefined) return admitted;
    if (this.admitted.size < this.maxSeries) {
      const series = { value: this.spec.create(), labels, overflowed: false };
      this.admitted.set(key, series);
      return series;
    }
    this.overflow ??= { value: this.spec.create(), labels: this.overflowLabels, overflowed: true };
    return this.overflow;
  }

  /** Records `amount` into `series` with `recorder`, counting the recording when it is folded into the overflow series. */
  record(series: FamilySeries<V>, amount: number, recorder: SeriesRecorder<V>): void {
    if (series.overflowed) this.onOverflow(this.spec.name);
    recorder(series.value, amount);
  }

  render(): string {
    const samples: ExpositionSample[] = [];
    for (const series of this.admitted.values()) samples.push(...series.value.samples(this.spec.name, series.labels));
    if (this.overflow !== undefined) samples.push(...this.overflow.value.samples(this.spec.name, this.overflow.labels));
    return renderExpositionFamily({ name: this.spec.name, help: this.spec.help, type: this.spec.type, samples });
  }
}

/** The same label set gives the same key whatever the order its labels were added in. */
function seriesKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
