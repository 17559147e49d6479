// Reads the text wrk prints (requests, Requests/sec, latency, non-2xx and socket errors) into numbers.
import { err, ok, type Result } from '@weft/core';
import { captureFirst, InvalidToolOutputError, parseToolDurationMs } from './tool-output-error.js';

export interface WrkSocketErrors {
  readonly connect: number;
  readonly read: number;
  readonly write: number;
  readonly timeout: number;
}

export interface WrkResult {
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly latencyAvgMs: number;
  readonly latencyMaxMs: number;
  /** Only with `wrk --latency`: percentile ("50", "75", "90", "99") to milliseconds. */
  readonly latencyPercentilesMs: Readonly<Record<string, number>>;
  readonly non2xx: number;
  readonly socketErrors: WrkSocketErrors;
}

/** Parses wrk 4.x output; a run that could not connect at all is an error naming wrk's own message. */
export function parseWrkOutput(text: string): Result<WrkResult, InvalidToolOutputError> {
  const unable = captureFirst(text, /^(unable to connect[^\n]*)/m);
  if (unable !== undefined) return err(new InvalidToolOutputError(text, `wrk could not connect: ${unable}`));
  const totals = /^\s*(\d+) requests in ([\d.]+\w+), /m.exec(text);
  const rps = captureFirst(text, /^Requests\/sec:\s+([\d.]+)/m);
  const latency = /^\s+Latency\s+(\S+)\s+\S+\s+(\S+)/m.exec(text);
  if (!totals || rps === undefined || !latency) {
    return err(
      new InvalidToolOutputError(
        text,
        'lacks the "N requests in T" / "Requests/sec:" / "Latency" lines; expected the output of `wrk -t1 -c50 -d10s URL`',
      ),
    );
  }
  const seconds = parseToolDurationMs(totals[2] as string);
  const avg = parseToolDurationMs(latency[1] as string);
  const max = parseToolDurationMs(latency[2] as string);
  if (seconds === undefined || avg === undefined || max === undefined) {
    return err(new InvalidToolOutputError(text, 'has a duration wrk does not print (expected e.g. "633.25us", "1.74ms", "3.10s")'));
  }
  return ok({
    requests: Number(totals[1]),
    seconds: seconds / 1_000,
    requestsPerSecond: Number(rps),
    latencyAvgMs: avg,
    latencyMaxMs: max,
    latencyPercentilesMs: readPercentiles(text),
    non2xx: Number(captureFirst(text, /Non-2xx or 3xx responses:\s+(\d+)/) ?? 0),
    socketErrors: readSocketErrors(text),
  });
}

/** Requests that did not get a 2xx/3xx answer, or broke on the socket. */
export function wrkFailures(result: WrkResult): number {
  const { connect, read, write, timeout } = result.socketErrors;
  return result.non2xx + connect + read + write + timeout;
}

function readPercentiles(text: string): Record<string, number> {
  const section = text.split(/^\s*Latency Distribution\s*$/m)[1] ?? '';
  const percentiles: Record<string, number> = {};
  for (const match of section.matchAll(/^\s+(\d+(?:\.\d+)?)%\s+(\S+)\s*$/gm)) {
    const ms = parseToolDurationMs(match[2] as string);
    if (ms !== undefined) percentiles[match[1] as string] = ms;
  }
  return percentiles;
}

function readSocketErrors(text: string): WrkSocketErrors {
  const match = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  if (!match) return { connect: 0, read: 0, write: 0, timeout: 0 };
  return { connect: Number(match[1]), read: Number(match[2]), write: Number(match[3]), timeout: Number(match[4]) };
}
