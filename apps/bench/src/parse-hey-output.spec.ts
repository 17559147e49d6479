import { describe, expect, it } from 'vitest';
import { fixtureText } from './fixture-text.js';
import { heyFailures, heySuccesses, parseHeyOutput } from './parse-hey-output.js';
import { InvalidToolOutputError } from './tool-output-error.js';

describe('parseHeyOutput', () => {
  it('reads the summary, percentiles and status codes of a real fixed-rate run', () => {
    const result = parseHeyOutput(fixtureText('hey.txt'));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.totalSeconds).toBe(2.0158);
    expect(result.value.requestsPerSecond).toBe(989.2035);
    expect(result.value.slowestMs).toBe(7.1);
    expect(result.value.latencyPercentilesMs).toEqual({ '10': 0.3, '25': 0.4, '50': 0.5, '75': 0.8, '90': 1.5, '95': 3.2, '99': 5.9 });
    expect(result.value.statusCounts).toEqual({ '200': 1994 });
    expect(heySuccesses(result.value)).toBe(1994);
    expect(heyFailures(result.value)).toBe(0);
  });

  it("counts refused connections as failures although hey's own Requests/sec is high", () => {
    const result = parseHeyOutput(fixtureText('hey-refused.txt'));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.requestsPerSecond).toBeGreaterThan(1000);
    expect(result.value.errors).toBe(20);
    expect(heySuccesses(result.value)).toBe(0);
    expect(heyFailures(result.value)).toBe(20);
  });

  it('counts non-2xx statuses as failures', () => {
    const result = parseHeyOutput(fixtureText('hey-non2xx.txt'));
    expect(result.ok && result.value.statusCounts).toEqual({ '503': 50 });
    expect(result.ok && heyFailures(result.value)).toBe(50);
  });

  it('rejects text without a summary', () => {
    const result = parseHeyOutput('flag provided but not defined: -x\n');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidToolOutputError);
    expect(result.error.input).toBe('flag provided but not defined: -x\n');
    expect(result.error.message).toContain('Requests/sec');
  });
});
