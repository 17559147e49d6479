// The outcome of every run of every scenario and contender, and the medians and pooled figures read from them.
import type { ScenarioId } from './bench-options.js';
import { LatencyHistogram, type LatencyHistogramData } from './latency-histogram.js';
import { median } from './statistics.js';

export type Metrics = Readonly<Record<string, number | undefined>>;

export type RunOutcome =
  | {
      readonly ok: true;
      readonly metrics: Metrics;
      /** Anything a reader must know about this run (failed requests, wrong protocol); shown under the table. */
      readonly notes: readonly string[];
      /** Latency of each request of the run, for pooled percentiles across runs. */
      readonly histogram?: LatencyHistogramData;
    }
  | { readonly ok: false; readonly error: string };

/** Scenario -> contender name -> one outcome per run, in run order. */
export type BenchResults = Partial<Record<ScenarioId, Readonly<Record<string, readonly RunOutcome[]>>>>;

export function outcomesOf(results: BenchResults, scenario: ScenarioId, contender: string): readonly RunOutcome[] {
  return results[scenario]?.[contender] ?? [];
}

/** The metric in each run, undefined for a failed run or a metric the run lacks. */
export function metricPerRun(results: BenchResults, scenario: ScenarioId, contender: string, metric: string): (number | undefined)[] {
  return outcomesOf(results, scenario, contender).map((outcome) => (outcome.ok ? outcome.metrics[metric] : undefined));
}

/** The median of the metric over the runs that have it. */
export function medianMetric(results: BenchResults, scenario: ScenarioId, contender: string, metric: string): number | undefined {
  return median(metricPerRun(results, scenario, contender, metric).filter((value): value is number => value !== undefined));
}

/** All runs' histograms merged: percentiles over every request rather than a median of per-run percentiles. */
export function pooledHistogram(results: BenchResults, scenario: ScenarioId, contender: string): LatencyHistogram | undefined {
  const pooled = new LatencyHistogram();
  for (const outcome of outcomesOf(results, scenario, contender)) {
    if (!outcome.ok || outcome.histogram === undefined) continue;
    const histogram = LatencyHistogram.fromData(outcome.histogram);
    if (histogram.ok) pooled.merge(histogram.value);
  }
  return pooled.count === 0 ? undefined : pooled;
}

/** Every note and error of a contender's runs, prefixed with the run number. */
export function runRemarks(results: BenchResults, scenario: ScenarioId, contender: string): string[] {
  return outcomesOf(results, scenario, contender).flatMap((outcome, index) =>
    outcome.ok ? outcome.notes.map((note) => `run ${index + 1}: ${note}`) : [`run ${index + 1} failed: ${outcome.error}`],
  );
}
