import { describe, expect, it } from 'vitest';
import { propagationOutcome, propagationScenariosSkipped } from './propagation-bench.js';
import type { PropagationReport } from './propagation-summary.js';

const report = (delaysMs: (number | null)[][]): PropagationReport => ({
  subscribers: 2,
  warmupChanges: 1,
  spacingMs: 1_000,
  phaseSpreadMs: 1_000,
  changeTimeoutMs: 5_000,
  firstMessagesMs: 80,
  delaysMs,
  writeMs: delaysMs.map((_, index) => 0.1 * (index + 1)),
});

describe('propagationOutcome', () => {
  it('gives the percentiles, the counts and the pooled histogram, with no note when every edit was applied and heard', () => {
    const outcome = propagationOutcome(report([[110, 120], [130, 140]]), 3, 0.42);
    if (!outcome.ok) throw new Error(outcome.error);
    expect(outcome.metrics).toMatchObject({ p50Ms: 120, p99Ms: 140, maxMs: 140, pairs: 4, missed: 0, changes: 2, appliedEdits: 3, controlCpuSeconds: 0.42 });
    expect(outcome.metrics['writeMaxMs']).toBeCloseTo(0.2);
    expect(outcome.histogram?.count).toBe(4);
    expect(outcome.notes).toEqual([]);
  });

  it('says when changes did not arrive, and when the control plane applied another number of edits than were written', () => {
    const outcome = propagationOutcome(report([[110, null], [130, 140]]), 2, undefined);
    if (!outcome.ok) throw new Error(outcome.error);
    expect(outcome.notes).toEqual([
      '1 of 4 (change, subscriber) pairs never got the change within 5000 ms; the percentiles rank them last',
      'the control plane counted 2 applied edits of the mesh file for the 3 written',
    ]);
  });
});

describe('propagationScenariosSkipped', () => {
  it('skips the scenario, saying why, when weft is not among the contenders', () => {
    expect(propagationScenariosSkipped({ contenders: ['direct'], scenarios: ['endpoint-propagation'] })).toMatch(/endpoint-propagation not run: .*weft is not among --contenders/);
    expect(propagationScenariosSkipped({ contenders: ['weft'], scenarios: ['endpoint-propagation'] })).toBeUndefined();
    expect(propagationScenariosSkipped({ contenders: ['direct'], scenarios: ['h1-max'] })).toBeUndefined();
  });
});
