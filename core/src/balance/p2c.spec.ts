import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RandomSource } from '../shared/random-source.port.js';
import { type BalancerEndpoint, pickP2c } from './p2c.js';
import { PeakEwma } from './peak-ewma.js';

/** mulberry32: a small seeded generator, so the counts below are the same on every run. */
function seeded(seed: number): RandomSource {
  let state = seed >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    },
  };
}

interface TestEndpoint extends BalancerEndpoint {
  readonly name: string;
}

const endpoint = (name: string, load: number, failing = false): TestEndpoint => ({ name, load: () => load, failing });

describe('pickP2c', () => {
  const random = seeded(1);

  it('gives undefined without endpoints or when all are failing', () => {
    expect(pickP2c([], random)).toBeUndefined();
    expect(pickP2c([endpoint('a', 1, true), endpoint('b', 1, true)], random)).toBeUndefined();
  });

  it('gives the only healthy endpoint, whatever its load', () => {
    expect(pickP2c([endpoint('a', 1, true), endpoint('b', 1e9), endpoint('c', 1, true)], random)?.name).toBe('b');
  });

  it('compares two distinct candidates and takes the less loaded one', () => {
    const asked: string[] = [];
    const spy = (name: string, load: number): TestEndpoint => ({ name, failing: false, load: () => (asked.push(name), load) });
    const endpoints = [spy('a', 1), spy('b', 5), spy('c', 3)];
    // Both draws are 0.5: the first candidate is b (index 1), the second is the middle of {a, c}, i.e. c.
    expect(pickP2c(endpoints, { next: () => 0.5 })?.name).toBe('c');
    expect(new Set(asked)).toEqual(new Set(['b', 'c']));
    // Draws at the very edges still give two different candidates.
    expect(pickP2c([endpoint('x', 2), endpoint('y', 1)], { next: () => 0 })?.name).toBe('y');
    expect(pickP2c([endpoint('x', 1), endpoint('y', 2)], { next: () => 1 - Number.EPSILON })?.name).toBe('x');
  });

  it('never picks a failing endpoint while a healthy one exists (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ load: fc.double({ min: 0, max: 1e6, noNaN: true }), failing: fc.boolean() }), { minLength: 1, maxLength: 12 }),
        fc.integer(),
        (specs, seed) => {
          const endpoints = specs.map((spec, index) => endpoint(`e${index}`, spec.load, spec.failing));
          const rng = seeded(seed);
          for (let i = 0; i < 20; i++) {
            const picked = pickP2c(endpoints, rng);
            if (endpoints.some((e) => !e.failing)) {
              expect(picked).toBeDefined();
              expect(picked?.failing).toBe(false);
            } else {
              expect(picked).toBeUndefined();
            }
          }
        },
      ),
    );
  });

  /** 1000 sequential requests over one endpoint with 10 ms RTT and `slowCount` with 100 ms; returns picks of the fast one. */
  function picksOfFast(seed: number, slowCount: number): number {
    let t = 0;
    const clock = { now: () => t };
    const make = (rttMs: number) => {
      const ewma = new PeakEwma(clock);
      for (let i = 0; i < 5; i++) ewma.observe(rttMs);
      return { rttMs, ewma, failing: false, load: () => ewma.load() };
    };
    const fast = make(10);
    const pool = [...Array.from({ length: slowCount }, () => make(100)), fast];
    const rng = seeded(seed);
    let toFast = 0;
    for (let i = 0; i < 1_000; i++) {
      const picked = pickP2c(pool, rng);
      if (picked === undefined) throw new Error('no endpoint picked');
      picked.ewma.start();
      picked.ewma.end(picked.rttMs);
      t += 1;
      if (picked === fast) toFast += 1;
    }
    return toFast;
  }

  it('sends more than 90 % of requests to the faster of two endpoints when the other is 10x slower (property over seeds)', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        expect(picksOfFast(seed, 1)).toBeGreaterThan(900);
      }),
      { numRuns: 30 },
    );
  });

  it('among many endpoints, picks the fast one whenever it is a candidate, about twice its even share', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 2, max: 8 }), (seed, slowCount) => {
        const evenShare = 1_000 / (slowCount + 1);
        expect(picksOfFast(seed, slowCount)).toBeGreaterThan(1.5 * evenShare);
      }),
      { numRuns: 30 },
    );
  });

  it('spreads requests evenly over endpoints with equal loads', () => {
    const endpoints = ['a', 'b', 'c', 'd', 'e'].map((name) => endpoint(name, 7));
    const rng = seeded(2024);
    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const name = pickP2c(endpoints, rng)?.name ?? 'none';
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(1_800);
      expect(count).toBeLessThan(2_200);
    }
  });
});
