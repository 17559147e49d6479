import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LatencyHistogram } from './latency-histogram.js';
import { parseOpenLoopReport, runOpenLoop } from './open-loop-generator.js';
import { InvalidToolOutputError } from './tool-output-error.js';

let server: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A loopback server that answers at once, except that request number `stallAt` waits `stallMs`. */
async function startServer(stallAt = -1, stallMs = 0): Promise<string> {
  let seen = 0;
  server = createServer((request, response) => {
    seen += 1;
    const answer = (): void => void response.end(request.url === '/missing' ? '' : 'hello from backend\n');
    if (request.url === '/missing') response.statusCode = 404;
    if (seen === stallAt) setTimeout(answer, stallMs);
    else answer();
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('runOpenLoop', () => {
  it('sends at the fixed rate for the measured window only, after the warm-up', async () => {
    const url = await startServer();
    const report = await runOpenLoop({ url: `${url}/`, rate: 200, durationMs: 500, warmupMs: 200, connections: 4 });
    expect(report.completed).toBe(100);
    expect(report.failures).toBe(0);
    expect(report.achievedRps).toBe(200);
  });

  it('times from the intended send time, so one stall shows in every request queued behind it', async () => {
    // One connection, 100 requests/s; request 10 stalls 300 ms, so about 30 later requests wait behind it.
    const url = await startServer(10, 300);
    const report = await runOpenLoop({ url: `${url}/`, rate: 100, durationMs: 1_000, warmupMs: 0, connections: 1 });
    const corrected = LatencyHistogram.fromData(report.corrected);
    const service = LatencyHistogram.fromData(report.service);
    if (!corrected.ok || !service.ok) throw new Error('the report has no histograms');
    expect(report.completed).toBe(100);
    // A closed-loop tool would see one slow request (the service time); users at a steady rate saw many.
    expect(corrected.value.percentileUs(80)).toBeGreaterThan(100_000);
    expect(service.value.percentileUs(80)).toBeLessThan(50_000);
    expect(service.value.maxUs).toBeGreaterThan(290_000);
  });

  it('counts non-2xx answers as failures, not as latency', async () => {
    const url = await startServer();
    const report = await runOpenLoop({ url: `${url}/missing`, rate: 100, durationMs: 300, warmupMs: 0, connections: 2 });
    expect(report.failures).toBe(30);
    expect(report.completed).toBe(0);
  });

  it('stops by itself and counts refused connections as failures when nothing listens', async () => {
    const url = await startServer();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
    const report = await runOpenLoop({ url: `${url}/`, rate: 100, durationMs: 200, warmupMs: 0, connections: 2 });
    expect(report.failures).toBe(20);
  });
});

describe('parseOpenLoopReport', () => {
  it('reads back what the generator prints', async () => {
    const url = await startServer();
    const report = await runOpenLoop({ url: `${url}/`, rate: 100, durationMs: 200, warmupMs: 0, connections: 1 });
    const parsed = parseOpenLoopReport(JSON.stringify(report));
    expect(parsed.ok && parsed.value.corrected.count).toBe(20);
    expect(parsed.ok && parsed.value.report.achievedRps).toBe(100);
  });

  it('rejects output that is not a report', () => {
    const parsed = parseOpenLoopReport('open-loop: --url must be a loopback http:// URL');
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error).toBeInstanceOf(InvalidToolOutputError);
    expect(parsed.error.input).toBe('open-loop: --url must be a loopback http:// URL');
    expect(parsed.error.message).toContain('not JSON');
  });
});
