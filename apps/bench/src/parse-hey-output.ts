// Reads the text hey prints (summary, latency distribution, status codes, errors) into numbers.
import { err, ok, type Result } from '@weft/core';
import { captureFirst, InvalidToolOutputError } from './tool-output-error.js';

export interface HeyResult {
  readonly totalSeconds: number;
  /** hey's own figure, which counts failed requests too; see heySuccessRate. */
  readonly requestsPerSecond: number;
  readonly fastestMs: number;
  readonly slowestMs: number;
  /** Percentile ("10" ... "99") to milliseconds; hey prints them to 0.1 ms. */
  readonly latencyPercentilesMs: Readonly<Record<string, number>>;
  /** HTTP status code to count of responses. */
  readonly statusCounts: Readonly<Record<string, number>>;
  /** Requests that got no HTTP response (connection refused, reset, timeout). */
  readonly errors: number;
}

/** Parses hey 0.1.x output. */
export function parseHeyOutput(text: string): Result<HeyResult, InvalidToolOutputError> {
  const total = captureFirst(text, /^\s*Total:\s+([\d.]+) secs/m);
  const rps = captureFirst(text, /^\s*Requests\/sec:\s+([\d.]+)/m);
  if (total === undefined || rps === undefined) {
    return err(new InvalidToolOutputError(text, 'lacks the "Total:" and "Requests/sec:" summary lines; expected the output of `hey -z 10s -q 100 -c 10 URL`'));
  }
  return ok({
    totalSeconds: Number(total),
    requestsPerSecond: Number(rps),
    fastestMs: secondsToMs(captureFirst(text, /^\s*Fastest:\s+([\d.]+) secs/m)),
    slowestMs: secondsToMs(captureFirst(text, /^\s*Slowest:\s+([\d.]+) secs/m)),
    latencyPercentilesMs: readPercentiles(text),
    statusCounts: readCounts(section(text, 'Status code distribution:'), /^\s*\[(\d{3})\]\s+(\d+) responses/gm),
    errors: Object.values(readCounts(section(text, 'Error distribution:'), /^\s*\[(\d+)\]\s+(.+)$/gm, true)).reduce(
      (sum, count) => sum + count,
      0,
    ),
  });
}

/** Responses with a 2xx status. */
export function heySuccesses(result: HeyResult): number {
  return Object.entries(result.statusCounts)
    .filter(([status]) => status.startsWith('2'))
    .reduce((sum, [, count]) => sum + count, 0);
}

/** Requests that failed: no response, or a status other than 2xx. */
export function heyFailures(result: HeyResult): number {
  const responses = Object.values(result.statusCounts).reduce((sum, count) => sum + count, 0);
  return result.errors + responses - heySuccesses(result);
}

/** hey prints seconds with four decimals; rounding keeps 0.0059 s at 5.9 ms rather than 5.8999999999999995. */
function secondsToMs(seconds: string | undefined): number {
  return seconds === undefined ? Number.NaN : Math.round(Number(seconds) * 1e9) / 1e6;
}

/** The lines after `heading` up to the next blank line. */
function section(text: string, heading: string): string {
  const start = text.indexOf(heading);
  if (start < 0) return '';
  const body = text.slice(start + heading.length).replace(/^\n/, '');
  const end = body.search(/\n\s*\n/);
  return end < 0 ? body : body.slice(0, end);
}

function readPercentiles(text: string): Record<string, number> {
  const percentiles: Record<string, number> = {};
  for (const match of section(text, 'Latency distribution:').matchAll(/^\s*(\d+(?:\.\d+)?)% in ([\d.]+) secs/gm)) {
    percentiles[match[1] as string] = secondsToMs(match[2]);
  }
  return percentiles;
}

/** For status lines the key is the code and the value the count; for error lines (`countFirst`) the key is the message. */
function readCounts(body: string, pattern: RegExp, countFirst = false): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const match of body.matchAll(pattern)) {
    const [key, count] = countFirst ? [match[2] as string, match[1]] : [match[1] as string, match[2]];
    counts[key] = (counts[key] ?? 0) + Number(count);
  }
  return counts;
}
