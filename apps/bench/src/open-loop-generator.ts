// A fixed-rate HTTP/1.1 keep-alive load generator that times each response from its intended send time into histograms.
import { Agent, request } from 'node:http';
import { err, ok, type Result } from '@weft/core';
import { LatencyHistogram, type LatencyHistogramData } from './latency-histogram.js';
import { intendedSendTimeMs, requestsDueBy, scheduledRequestCount } from './open-loop-schedule.js';
import { InvalidToolOutputError } from './tool-output-error.js';

export interface OpenLoopSettings {
  readonly url: string;
  readonly rate: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly connections: number;
}

export interface OpenLoopReport {
  readonly settings: OpenLoopSettings;
  /** Counts for the measured window only (warm-up excluded). */
  readonly completed: number;
  /** Non-2xx answers, errors, timeouts, and requests not sent because too many were already waiting. */
  readonly failures: number;
  readonly achievedRps: number;
  /** From intended send time to the end of the response: what a user at a steady rate sees. */
  readonly corrected: LatencyHistogramData;
  /** From the moment a connection took the request to the end of the response: the service time a closed-loop tool reports. */
  readonly service: LatencyHistogramData;
  /** How late the generator itself sent each request (timer granularity, CPU contention); the same for every contender. */
  readonly sendLag: LatencyHistogramData;
}

const requestTimeoutMs = 10_000;

/** Sends `rate` requests/s for warm-up + duration over `connections` keep-alive sockets; stops by itself. */
export function runOpenLoop(settings: OpenLoopSettings): Promise<OpenLoopReport> {
  const { url, rate, durationMs, warmupMs, connections } = settings;
  const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const total = scheduledRequestCount(rate, warmupMs, durationMs);
  const maxWaiting = Math.max(connections * 64, rate);
  const corrected = new LatencyHistogram();
  const service = new LatencyHistogram();
  const sendLag = new LatencyHistogram();
  let failures = 0;
  let inFlight = 0;
  let index = 0;
  const start = performance.now() + 20;
  const measureFrom = start + warmupMs;

  let done = false;

  return new Promise((resolve) => {
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      agent.destroy();
      failures += inFlight;
      resolve({ settings, completed: corrected.count, failures, achievedRps: corrected.count / (durationMs / 1_000), corrected: corrected.toData(), service: service.toData(), sendLag: sendLag.toData() });
    };
    const deadline = setTimeout(finish, warmupMs + durationMs + requestTimeoutMs + 1_000);
    const settle = (intended: number, sentAt: number, status: number | undefined): void => {
      inFlight -= 1;
      const now = performance.now();
      if (intended >= measureFrom) {
        if (status !== undefined && status >= 200 && status < 300) {
          corrected.record((now - intended) * 1_000);
          service.record((now - sentAt) * 1_000);
        } else failures += 1;
      }
      if (index >= total && inFlight === 0) finish();
    };
    const fire = (intended: number): void => {
      if (inFlight >= maxWaiting) {
        if (intended >= measureFrom) failures += 1;
        return;
      }
      inFlight += 1;
      const calledAt = performance.now();
      if (intended >= measureFrom) sendLag.record((calledAt - intended) * 1_000);
      // Service time starts when a connection is free for the request, not while it queues in the agent.
      let sentAt = calledAt;
      const outgoing = request(url, { agent }, (response) => {
        response.resume();
        response.once('end', () => settle(intended, sentAt, response.statusCode));
        response.once('error', () => settle(intended, sentAt, undefined));
      });
      outgoing.once('socket', () => (sentAt = performance.now()));
      outgoing.setTimeout(requestTimeoutMs, () => outgoing.destroy(new Error('request timed out')));
      outgoing.once('error', () => settle(intended, sentAt, undefined));
      outgoing.end();
    };
    const tick = (): void => {
      if (done) return;
      const due = requestsDueBy(start, performance.now(), rate, total);
      for (; index < due; index += 1) fire(intendedSendTimeMs(start, index, rate));
      if (index < total) setTimeout(tick, Math.max(0, intendedSendTimeMs(start, index, rate) - performance.now()));
      else if (inFlight === 0) finish();
    };
    setTimeout(tick, 20);
  });
}

export interface OpenLoopReading {
  readonly report: OpenLoopReport;
  readonly corrected: LatencyHistogram;
  readonly service: LatencyHistogram;
  readonly sendLag: LatencyHistogram;
}

/** Reads the JSON report the generator process prints, checking its shape. */
export function parseOpenLoopReport(text: string): Result<OpenLoopReading, InvalidToolOutputError> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return err(new InvalidToolOutputError(text, 'is not JSON; expected the one-line report of open-loop-main.js'));
  }
  const report = data as Partial<OpenLoopReport> | null;
  if (report === null || typeof report !== 'object' || !Number.isFinite(report.completed) || !Number.isFinite(report.failures) || !Number.isFinite(report.achievedRps)) {
    return err(new InvalidToolOutputError(text, 'lacks completed, failures or achievedRps; expected the report of open-loop-main.js'));
  }
  const corrected = LatencyHistogram.fromData(report.corrected);
  if (!corrected.ok) return corrected;
  const service = LatencyHistogram.fromData(report.service);
  if (!service.ok) return service;
  const sendLag = LatencyHistogram.fromData(report.sendLag);
  if (!sendLag.ok) return sendLag;
  return ok({ report: report as OpenLoopReport, corrected: corrected.value, service: service.value, sendLag: sendLag.value });
}
