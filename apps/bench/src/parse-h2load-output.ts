// Reads the text h2load prints (req/s, request counts, status classes, request times) into numbers.
import { err, ok, type Result } from '@weft/core';
import { captureFirst, InvalidToolOutputError, parseToolDurationMs } from './tool-output-error.js';

export interface H2loadResult {
  /** The negotiated protocol h2load reports, e.g. "h2c"; undefined when no connection was made. */
  readonly protocol: string | undefined;
  readonly requestsPerSecond: number;
  readonly total: number;
  readonly succeeded: number;
  /** h2load's "failed" count, which includes the errored and timed-out requests. */
  readonly failed: number;
  readonly statusClasses: { readonly '2xx': number; readonly '3xx': number; readonly '4xx': number; readonly '5xx': number };
  readonly requestTimeMs: { readonly min: number; readonly max: number; readonly mean: number };
}

/** Parses h2load (nghttp2 1.x) output. */
export function parseH2loadOutput(text: string): Result<H2loadResult, InvalidToolOutputError> {
  const rps = captureFirst(text, /^finished in \S+, ([\d.]+) req\/s/m);
  const counts = /^requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed/m.exec(text);
  const statuses = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m.exec(text);
  const times = /^time for request:\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(text);
  if (rps === undefined || !counts || !statuses || !times) {
    return err(
      new InvalidToolOutputError(
        text,
        'lacks the "finished in", "requests:", "status codes:" or "time for request:" lines; expected the output of `h2load -c 10 -m 10 -D 10 URL`',
      ),
    );
  }
  const [min, max, mean] = [times[1], times[2], times[3]].map((value) => parseToolDurationMs(value as string));
  if (min === undefined || max === undefined || mean === undefined) {
    return err(new InvalidToolOutputError(text, 'has a request time h2load does not print (expected e.g. "54us", "2.97ms")'));
  }
  return ok({
    protocol: captureFirst(text, /^Application protocol: (\S+)/m),
    requestsPerSecond: Number(rps),
    total: Number(counts[1]),
    succeeded: Number(counts[2]),
    failed: Number(counts[3]),
    statusClasses: { '2xx': Number(statuses[1]), '3xx': Number(statuses[2]), '4xx': Number(statuses[3]), '5xx': Number(statuses[4]) },
    requestTimeMs: { min, max, mean },
  });
}

/** Requests that failed outright or got a status other than 2xx. */
export function h2loadFailures(result: H2loadResult): number {
  const classes = result.statusClasses;
  return result.failed + classes['3xx'] + classes['4xx'] + classes['5xx'];
}
