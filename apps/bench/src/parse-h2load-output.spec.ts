import { describe, expect, it } from 'vitest';
import { fixtureText } from './fixture-text.js';
import { h2loadFailures, parseH2loadOutput } from './parse-h2load-output.js';
import { InvalidToolOutputError } from './tool-output-error.js';

describe('parseH2loadOutput', () => {
  it('reads rate, counts, status classes and request times of a real h2c run', () => {
    const result = parseH2loadOutput(fixtureText('h2load.txt'));
    expect(result.ok && result.value).toEqual({
      protocol: 'h2c',
      requestsPerSecond: 32123.5,
      total: 64247,
      succeeded: 64247,
      failed: 0,
      statusClasses: { '2xx': 64246, '3xx': 0, '4xx': 0, '5xx': 0 },
      requestTimeMs: { min: 0.054, max: 54.1, mean: 2.97 },
    });
    expect(result.ok && h2loadFailures(result.value)).toBe(0);
  });

  it('reads a run where nothing connected: no protocol, every request failed', () => {
    const result = parseH2loadOutput(fixtureText('h2load-refused.txt'));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.protocol).toBeUndefined();
    expect(result.value.requestsPerSecond).toBe(0);
    expect(h2loadFailures(result.value)).toBe(20);
  });

  it('rejects text that is not h2load output', () => {
    const result = parseH2loadOutput('h2load: unrecognized option\n');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidToolOutputError);
    expect(result.error.input).toBe('h2load: unrecognized option\n');
    expect(result.error.message).toContain('finished in');
  });
});
