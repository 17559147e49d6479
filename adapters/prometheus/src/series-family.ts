// SeriesFamily: one metric family whose label sets vary, kept as prom-client metrics (one per label-name set) under a series cap.
import type { Counter, Gauge, Histogram } from 'prom-client';
import { type ExpositionSample, type MetricFamilyType, renderExpositionFamily } from './exposition-text.js';

export type Labels = Readonly<Record<string, string>>;

/** The label value every variable label of a family's overflow series carries. */
export const OVERFLOW_LABEL_VALUE = 'overflow';

export type FamilyMetric = Counter<string> | Gauge<string> | Histogram<string>;

/** Where one label set records in a family: the prom-client metric of its label names and the labels to pass it. */
export interface FamilySeries<M extends FamilyMetric> {
  readonly metric: M;
  readonly labels: Labels;
  /** Whether this is the family's overflow series, whose every recording is counted as folded. */
  readonly overflowed: boolean;
}

/** Records one value into a metric under labels (an increment, a decrement, an observation). */
export type SeriesRecorder<M extends FamilyMetric> = (metric: M, labels: Labels, value: number) => void;

export interface SeriesFamilySpec<M extends FamilyMetric> {
  readonly name: string;
  readonly help: string;
  readonly type: MetricFamilyType;
  /** The label names every series of the family carries; the overflow series has exactly these, all `overflow`. */
  readonly overflowLabelNames: readonly string[];
  /** Makes the prom-client metric for one label-name set; it must not be registered in any registry. */
  readonly create: (name: string, help: string, labelNames: readonly string[]) => M;
}

/**
 * prom-client fixes a metric's label names when it is made (other names throw), while our label sets vary: optional
 * `authority`, `status_code`, `grpc_status`, `errno`, and `dst_*` names that come from discovery. A registry refuses a
 * second metric of the same name, so one registered metric per label-name set is not possible. Instead a family keeps
 * one unregistered prom-client metric per distinct label-name set, made on first use, and renders their `get()` values
 * together under a single HELP and TYPE. prom-client still stores the values and fills the histogram buckets; only the
 * text is ours. A fixed superset of label names filled with "" was the alternative, but the `dst_*` names are not
 * known in advance, and "" would show every absent label on every series.
 *
 * Cardinality is bounded: after `maxSeries` distinct label sets, any new label set is recorded in one overflow series
 * (all its labels read `overflow`), so memory and scrape size stay bounded whatever the traffic, and `onOverflow`
 * reports each recording folded there. Series already admitted keep counting, so a gauge moved up and down by the
 * same label set stays balanced.
 */
export class SeriesFamily<M extends FamilyMetric> {
  private readonly metrics = new Map<string, M>();
  /** The admitted label sets by seriesKey; the first label object of a set stands for all equal ones. */
  private readonly admitted = new Map<string, FamilySeries<M>>();
  private readonly overflowLabels: Labels;
  private overflow: FamilySeries<M> | undefined;

  constructor(
    private readonly spec: SeriesFamilySpec<M>,
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
  seriesFor(labels: Labels): FamilySeries<M> {
    const key = seriesKey(labels);
    const admitted = this.admitted.get(key);
    if (admitted !== undefined) return admitted;
    if (this.admitted.size < this.maxSeries) {
      const series = { metric: this.metricFor(labels), labels, overflowed: false };
      this.admitted.set(key, series);
      return series;
    }
    // Made on the first overflow, not before: a family renders its metrics in the order they were made.
    this.overflow ??= { metric: this.metricFor(this.overflowLabels), labels: this.overflowLabels, overflowed: true };
    return this.overflow;
  }

  /** Records `value` into `series` with `recorder`, counting the recording when it is folded into the overflow series. */
  record(series: FamilySeries<M>, value: number, recorder: SeriesRecorder<M>): void {
    if (series.overflowed) this.onOverflow(this.spec.name);
    recorder(series.metric, series.labels, value);
  }

  async render(): Promise<string> {
    const samples: ExpositionSample[] = [];
    for (const metric of this.metrics.values()) {
      for (const { metricName, labels, value } of (await metric.get()).values as readonly PromValue[]) {
        samples.push({ name: metricName ?? this.spec.name, labels: definedLabels(labels), value });
      }
    }
    return renderExpositionFamily({ name: this.spec.name, help: this.spec.help, type: this.spec.type, samples });
  }

  private metricFor(labels: Labels): M {
    const labelNames = Object.keys(labels).sort();
    const key = labelNames.join(',');
    let metric = this.metrics.get(key);
    if (metric === undefined) {
      metric = this.spec.create(this.spec.name, this.spec.help, labelNames);
      this.metrics.set(key, metric);
    }
    return metric;
  }
}

/** What prom-client's `get()` yields per sample; histograms name theirs `_bucket`, `_sum` and `_count`. */
interface PromValue {
  readonly value: number;
  readonly labels: Partial<Record<string, string | number>>;
  readonly metricName?: string;
}

/** The labels that have a value, with a histogram bucket's `le` moved last, where readers expect it. */
function definedLabels(labels: PromValue['labels']): Record<string, string | number> {
  const defined: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(labels)) if (value !== undefined && name !== 'le') defined[name] = value;
  if (labels['le'] !== undefined) defined['le'] = labels['le'];
  return defined;
}

/** The same label set gives the same key whatever the order its labels were added in. */
function seriesKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
