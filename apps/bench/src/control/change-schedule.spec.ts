import { describe, expect, it } from 'vitest';
import { changeWriteOffsetMs } from './change-schedule.js';

describe('changeWriteOffsetMs', () => {
  it('starts at 0 and keeps changes in order, never closer than spacing minus the spread', () => {
    const offsets = Array.from({ length: 22 }, (_, index) => changeWriteOffsetMs(index, 1_000, 1_000));
    expect(offsets[0]).toBe(0);
    const gaps = offsets.slice(1).map((offset, index) => offset - (offsets[index] as number));
    expect(Math.min(...gaps)).toBeGreaterThan(600);
    expect(Math.max(...gaps)).toBeLessThan(1_700);
  });

  it('meets a 1 s poll at every phase: 20 changes fall in each tenth of the second at least once', () => {
    const phases = Array.from({ length: 20 }, (_, index) => changeWriteOffsetMs(index, 1_000, 1_000) % 1_000);
    const tenths = new Set(phases.map((phase) => Math.floor(phase / 100)));
    expect(tenths.size).toBe(10);
  });

  it('writes exactly spacingMs apart without a spread', () => {
    expect([0, 1, 2].map((index) => changeWriteOffsetMs(index, 500, 0))).toEqual([0, 500, 1_000]);
  });
});
