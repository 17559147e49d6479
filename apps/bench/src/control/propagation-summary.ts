// The endpoint-propagation helper's report (one JSON line), read back with checks, and its percentiles over every (change, subscriber) pair.
import { err, ok, type Result } from '@weft/core';
import { LatencyHistogram } from '../latency-histogram.js';
import { median } from '../statistics.js';
import { InvalidToolOutputError } from '../tool-output-error.js';

/** What endpoint-propagation-main.js prints. */
export interface PropagationReport {
  readonly subscribers: number;
  readonly warmupChanges: number;
  readonly spacingMs: number;
  readonly phaseSpreadMs: number;
  readonly changeTimeoutMs: number;
  /** From opening the first subscription to the last subscriber's first message. */
  readonly firstMessagesMs: number;
  /** Per measured change, each subscriber's delay from the write to holding it, in ms; null when it did not within changeTimeoutMs. */
  readonly delaysMs: readonly (readonly (number | null)[])[];
  /** Per measured change, how long writing the temporary file and renaming it over mesh.yaml took, in ms. */
  readonly writeMs: readonly number[];
}

export interface PropagationSummary {
  /** (change, subscriber) pairs measured, missed ones included. */
  readonly pairs: number;
  /** Pairs where the change never reached the subscriber within the time limit. */
  readonly missed: number;
  /** Nearest-rank percentiles over all pairs, a missed pair counting as slower than any; undefined when the rank falls on a missed one. */
  readonly p50Ms: number | undefined;
  readonly p90Ms: number | undefined;
  readonly p99Ms: number | undefined;
  readonly maxMs: number | undefined;
  /** Median over changes of the first subscriber's delay: the watch debounce, read, parse, diff and one send. */
  readonly firstMs: number | undefined;
  /** The slowest change's first subscriber: a change late for everyone was late in the control plane (a restarted debounce, a busy core). */
  readonly firstMaxMs: number | undefined;
  /** Median over changes of last minus first subscriber: the fan-out to every stream and the client side's delivery. */
  readonly spreadMs: number | undefined;
  /** Every delay that arrived, for percentiles pooled over runs. */
  readonly histogram: LatencyHistogram;
}

/**
 * The value at nearest rank ceil(percent/100 * n) among the `arrived` delays plus `missed` pairs that never arrived
 * (ranked last); undefined when that rank is a missed pair or there are no pairs.
 */
export function percentileWithMissed(arrived: readonly number[], missed: number, percent: number): number | undefined {
  const total = arrived.length + missed;
  if (total === 0) return undefined;
  const sorted = [...arrived].sort((a, b) => a - b);
  const rank = Math.min(total, Math.max(1, Math.ceil((percent / 100) * total)));
  return rank <= sorted.length ? sorted[rank - 1] : undefined;
}

/** The figures of one run. */
export function summarizePropagation(report: PropagationReport): PropagationSummary {
  const all = report.delaysMs.flat();
  const arrived = all.filter((delay): delay is number => delay !== null);
  const missed = all.length - arrived.length;
  const histogram = new LatencyHistogram();
  for (const delay of arrived) histogram.record(delay * 1_000);
  const complete = report.delaysMs.filter((change) => change.length > 0 && change.every((delay) => delay !== null)) as number[][];
  const firsts = report.delaysMs.flatMap((change) => {
    const got = change.filter((delay): delay is number => delay !== null);
    return got.length === 0 ? [] : [Math.min(...got)];
  });
  return {
    pairs: all.length,
    missed,
    p50Ms: percentileWithMissed(arrived, missed, 50),
    p90Ms: percentileWithMissed(arrived, missed, 90),
    p99Ms: percentileWithMissed(arrived, missed, 99),
    maxMs: percentileWithMissed(arrived, missed, 100),
    firstMs: median(firsts),
    firstMaxMs: firsts.length === 0 ? undefined : Math.max(...firsts),
    spreadMs: median(complete.map((change) => Math.max(...change) - Math.min(...change))),
    histogram,
  };
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** Reads the helper's JSON line, checking its shape since it crossed a process boundary. */
export function parsePropagationReport(text: string): Result<PropagationReport, InvalidToolOutputError> {
  const fail = (reason: string) => err(new InvalidToolOutputError(text, `${reason}; expected the one-line report of endpoint-propagation-main.js`));
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return fail('is not JSON');
  }
  if (typeof data !== 'object' || data === null) return fail('is not an object');
  const report = data as Record<string, unknown>;
  const bad = ['subscribers', 'warmupChanges', 'spacingMs', 'phaseSpreadMs', 'changeTimeoutMs', 'firstMessagesMs'].find((key) => !isCount(report[key]));
  if (bad !== undefined) return fail(`"${bad}" is not a number of 0 or more`);
  const { delaysMs, writeMs, subscribers } = report;
  const rowOk = (row: unknown): boolean => Array.isArray(row) && row.length === subscribers && row.every((delay) => delay === null || isCount(delay));
  if (!Array.isArray(delaysMs) || !delaysMs.every(rowOk)) return fail('"delaysMs" is not one row per change of a delay (or null) per subscriber');
  if (!Array.isArray(writeMs) || writeMs.length !== delaysMs.length || !writeMs.every(isCount)) return fail('"writeMs" is not one time per change');
  return ok(report as unknown as PropagationReport);
}
