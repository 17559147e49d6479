import { Clock, RandomSource } from '@weft/core';
import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { systemModule } from './system.module.js';

describe('systemModule', () => {
  it('gives a clock that reads as wall-clock time and never goes back', () => {
    const container = new Container();
    container.load(systemModule());
    const clock = container.get<Clock>(Clock);
    const reading = clock.now();
    expect(Math.abs(reading - Date.now())).toBeLessThan(1_000);
    let previous = reading;
    for (let i = 0; i < 10_000; i++) {
      const next = clock.now();
      expect(next).toBeGreaterThanOrEqual(previous);
      previous = next;
    }
    expect(container.get<Clock>(Clock)).toBe(clock);
  });

  it('gives uniform random numbers in [0, 1) that do not repeat a sequence', () => {
    const container = new Container();
    container.load(systemModule());
    const random = container.get<RandomSource>(RandomSource);
    const draws = Array.from({ length: 5_000 }, () => random.next());
    expect(draws.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(draws).size).toBeGreaterThan(4_990);
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});
