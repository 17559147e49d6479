import { describe, expect, it } from 'vitest';
import { fixtureText } from './fixture-text.js';
import { parseWrkOutput, wrkFailures } from './parse-wrk-output.js';
import { InvalidToolOutputError } from './tool-output-error.js';

describe('parseWrkOutput', () => {
  it('reads requests, rate, latency and the --latency percentiles of a real run', () => {
    const result = parseWrkOutput(fixtureText('wrk-latency.txt'));
    expect(result.ok && result.value).toEqual({
      requests: 167175,
      seconds: 3.1,
      requestsPerSecond: 53952.53,
      latencyAvgMs: 0.63325,
      latencyMaxMs: 5.71,
      latencyPercentilesMs: { '50': 0.632, '75': 0.667, '90': 0.707, '99': 1.74 },
      non2xx: 0,
      socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 },
    });
  });

  it('has no percentiles without --latency', () => {
    const result = parseWrkOutput(fixtureText('wrk-plain.txt'));
    expect(result.ok && result.value.latencyPercentilesMs).toEqual({});
    expect(result.ok && result.value.requestsPerSecond).toBe(55321.67);
  });

  it('counts non-2xx answers as failures, so an error page never passes for throughput', () => {
    const result = parseWrkOutput(fixtureText('wrk-non2xx.txt'));
    expect(result.ok && result.value.non2xx).toBe(7459);
    expect(result.ok && wrkFailures(result.value)).toBe(7459);
  });

  it('counts socket errors as failures', () => {
    const result = parseWrkOutput(fixtureText('wrk-socket-errors.txt'));
    expect(result.ok && result.value.socketErrors).toEqual({ connect: 0, read: 763, write: 0, timeout: 0 });
    expect(result.ok && wrkFailures(result.value)).toBe(763);
  });

  it("reports wrk's own message when it could not connect", () => {
    const text = fixtureText('wrk-refused.txt');
    const result = parseWrkOutput(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidToolOutputError);
    expect(result.error.input).toBe(text);
    expect(result.error.message).toContain('Connection refused');
  });

  it('rejects text that is not wrk output, naming what it expected', () => {
    const result = parseWrkOutput('Segmentation fault\n');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.input).toBe('Segmentation fault\n');
    expect(result.error.message).toContain('Requests/sec');
  });
});
