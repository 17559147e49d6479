import { describe, expect, it } from 'vitest';
import { FixedClock } from './fixed-clock.js';
import { SeededRandom } from './seeded-random.js';

describe('FixedClock', () => {
  it('stands still until advanced', () => {
    const clock = new FixedClock(1_000);
    expect(clock.now()).toBe(1_000);
    clock.advance(250);
    expect(clock.now()).toBe(1_250);
    clock.set(5_000);
    expect(clock.now()).toBe(5_000);
  });

  it('refuses to go backwards', () => {
    const clock = new FixedClock(1_000);
    expect(() => clock.advance(-1)).toThrow(/-1 ms/);
    expect(() => clock.set(999)).toThrow(/999 is before the current time 1000/);
    expect(clock.now()).toBe(1_000);
  });
});

describe('SeededRandom', () => {
  it('repeats its sequence for a seed and stays within [0, 1)', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const draws = Array.from({ length: 1_000 }, () => a.next());
    expect(Array.from({ length: 1_000 }, () => b.next())).toEqual(draws);
    expect(draws.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(draws).size).toBeGreaterThan(990);
  });

  it('spreads draws evenly across ten buckets', () => {
    const random = new SeededRandom(7);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const bucket = Math.floor(random.next() * 10);
      buckets[bucket] = (buckets[bucket] ?? 0) + 1;
    }
    for (const count of buckets) expect(count).toBeGreaterThan(850);
  });
});
