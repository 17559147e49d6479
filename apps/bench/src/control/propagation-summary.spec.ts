import { InvalidToolOutputError } from '../tool-output-error.js';
import { describe, expect, it } from 'vitest';
import { parsePropagationReport, percentileWithMissed, type PropagationReport, summarizePropagation } from './propagation-summary.js';

const report = (delaysMs: (number | null)[][]): PropagationReport => ({
  subscribers: delaysMs[0]?.length ?? 0,
  warmupChanges: 1,
  spacingMs: 1_000,
  phaseSpreadMs: 1_000,
  changeTimeoutMs: 5_000,
  firstMessagesMs: 80,
  delaysMs,
  writeMs: delaysMs.map(() => 0.2),
});

describe('percentileWithMissed', () => {
  it('takes the nearest rank over the sorted delays', () => {
    const delays = Array.from({ length: 100 }, (_, index) => 100 - index); // 100 .. 1, unsorted
    expect(percentileWithMissed(delays, 0, 50)).toBe(50);
    expect(percentileWithMissed(delays, 0, 90)).toBe(90);
    expect(percentileWithMissed(delays, 0, 99)).toBe(99);
    expect(percentileWithMissed(delays, 0, 100)).toBe(100);
    expect(percentileWithMissed([7], 0, 1)).toBe(7);
  });

  it('ranks missed pairs after every delay: no figure once the rank falls on one', () => {
    const delays = Array.from({ length: 99 }, (_, index) => index + 1);
    expect(percentileWithMissed(delays, 1, 99)).toBe(99);
    expect(percentileWithMissed(delays, 1, 100)).toBeUndefined();
    expect(percentileWithMissed(delays.slice(0, 97), 3, 99)).toBeUndefined();
    expect(percentileWithMissed([], 0, 50)).toBeUndefined();
  });
});

describe('summarizePropagation', () => {
  it('pools every (change, subscriber) pair and tells the first subscriber from the spread', () => {
    const summary = summarizePropagation(
      report([
        [110, 120, 150],
        [105, 130, 135],
        [101, 102, 400],
      ]),
    );
    expect(summary).toMatchObject({ pairs: 9, missed: 0, p50Ms: 120, p90Ms: 400, p99Ms: 400, maxMs: 400 });
    expect(summary.firstMs).toBe(105); // median of 110, 105, 101
    expect(summary.firstMaxMs).toBe(110);
    expect(summary.spreadMs).toBe(40); // median of 40, 30, 299
    expect(summary.histogram.count).toBe(9);
    expect(summary.histogram.maxUs).toBe(400_000);
  });

  it('counts missed pairs and leaves changes with a missed pair out of the spread', () => {
    const summary = summarizePropagation(
      report([
        [110, null],
        [120, 125],
      ]),
    );
    expect(summary).toMatchObject({ pairs: 4, missed: 1, maxMs: undefined, spreadMs: 5, firstMs: 115 });
  });
});

describe('parsePropagationReport', () => {
  it('reads the helper line back', () => {
    const written = report([[110.25, null]]);
    const parsed = parsePropagationReport(JSON.stringify(written));
    expect(parsed.ok && parsed.value).toEqual(written);
  });

  it.each([
    ['not json', 'is not JSON'],
    ['{"subscribers":2}', '"warmupChanges" is not a number'],
    [JSON.stringify({ ...report([[1, 2]]), delaysMs: [[1]] }), '"delaysMs" is not one row per change'],
    [JSON.stringify({ ...report([[1, -2]]) }), '"delaysMs" is not one row per change'],
    [JSON.stringify({ ...report([[1, 2]]), writeMs: [] }), '"writeMs" is not one time per change'],
  ])('refuses %s', (text, reason) => {
    const parsed = parsePropagationReport(text);
    if (parsed.ok) throw new Error('parsed');
    expect(parsed.error).toBeInstanceOf(InvalidToolOutputError);
    expect(parsed.error.input).toBe(text);
    expect(parsed.error.message).toContain(reason);
    expect(parsed.error.message).toContain('endpoint-propagation-main.js');
  });
});
