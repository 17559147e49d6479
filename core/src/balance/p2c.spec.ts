import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RandomSource } from '../shared/random-source.port.js';
import { type BalancerEndpoint, pickP2c } from './p2c.js';
import { DEFAULT_PEAK_EWMA_DECAY_MS, PeakEwma } from './peak-ewma.js';

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

  interface SimulatedEndpoint extends BalancerEndpoint {
    readonly rttMs: number;
    readonly ewma: PeakEwma;
    picks: number;
  }

  /**
   * Endpoints with the given RTTs, warmed up with ten answers each, one decay time apart: PeakEwma ignores a lower
   * sample when no time has passed, so warming up at one instant would leave a 10 ms endpoint at the 30 ms default.
   */
  function warmedUp(rttsMs: readonly number[], clock: { now(): number; advance(ms: number): void }): SimulatedEndpoint[] {
    const endpoints = rttsMs.map((rttMs) => {
      const ewma = new PeakEwma(clock);
      return { rttMs, ewma, failing: false, load: () => ewma.load(), picks: 0 };
    });
    for (let i = 0; i < 10; i++) {
      clock.advance(DEFAULT_PEAK_EWMA_DECAY_MS);
      for (const endpoint of endpoints) endpoint.ewma.observe(endpoint.rttMs);
    }
    for (const endpoint of endpoints) expect(endpoint.ewma.rtt()).toBeCloseTo(endpoint.rttMs, 0);
    return endpoints;
  }

  /**
   * `requests` requests arriving one every `intervalMs`, each answered after its endpoint's RTT; requests overlap
   * when the interval is shorter than the RTT, so endpoints carry requests in flight. Returns the picks per endpoint.
   */
  function simulate(rttsMs: readonly number[], options: { seed: number; intervalMs: number; requests?: number }): number[] {
    let now = 0;
    const clock = { now: () => now, advance: (ms: number) => void (now += ms) };
    const endpoints = warmedUp(rttsMs, clock);
    const rng = seeded(options.seed);
    let inFlight: { endsAt: number; endpoint: SimulatedEndpoint }[] = [];
    const start = now;
    for (let i = 0; i < (options.requests ?? 1_000); i++) {
      const arrival = start + i * options.intervalMs;
      inFlight.sort((a, b) => a.endsAt - b.endsAt);
      const done = inFlight.filter((request) => request.endsAt <= arrival);
      inFlight = inFlight.filter((request) => request.endsAt > arrival);
      for (const request of done) {
        now = request.endsAt;
        request.endpoint.ewma.end(request.endpoint.rttMs);
      }
      now = arrival;
      const picked = pickP2c(endpoints, rng);
      if (picked === undefined) throw new Error('no endpoint picked');
      picked.picks += 1;
      picked.ewma.start();
      inFlight.push({ endsAt: now + picked.rttMs, endpoint: picked });
    }
    return endpoints.map((endpoint) => endpoint.picks);
  }

  it('warms endpoints up to their own RTTs when the clock moves between answers', () => {
    let now = 0;
    const [fast, slow] = warmedUp([10, 100], { now: () => now, advance: (ms) => void (now += ms) });
    expect(fast?.ewma.rtt()).toBeCloseTo(10, 0);
    expect(slow?.ewma.rtt()).toBeCloseTo(100, 0);
  });

  it('sends more than 95 % of requests to the faster of two endpoints when the other is 10x slower (property over seeds)', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const [toSlow = 0, toFast = 0] = simulate([100, 10], { seed, intervalMs: 1 });
        expect(toFast).toBeGreaterThan(950);
        expect(toSlow + toFast).toBe(1_000);
      }),
      { numRuns: 30 },
    );
  });

  it('among many endpoints, picks the fast one whenever it is a candidate, about twice its even share', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 2, max: 8 }), (seed, slowCount) => {
        const picks = simulate([...Array.from({ length: slowCount }, () => 100), 10], { seed, intervalMs: 1 });
        const evenShare = 1_000 / (slowCount + 1);
        expect(picks[slowCount]).toBeGreaterThan(1.5 * evenShare);
      }),
      { numRuns: 30 },
    );
  });

  it('prefers an idle endpoint to one with requests in flight, and lets a slower idle one win over a busy fast one', () => {
    let now = 0;
    const clock = { now: () => now, advance: (ms: number) => void (now += ms) };
    const [busy, idle] = warmedUp([50, 50], clock);
    if (busy === undefined || idle === undefined) throw new Error('two endpoints');
    busy.ewma.start();
    busy.ewma.start();
    const rng = seeded(7);
    for (let i = 0; i < 50; i++) expect(pickP2c([busy, idle], rng)).toBe(idle);

    const [fast, slow] = warmedUp([10, 100], clock);
    if (fast === undefined || slow === undefined) throw new Error('two endpoints');
    for (let i = 0; i < 8; i++) fast.ewma.start();
    expect(pickP2c([fast, slow], rng)).toBe(fast); // 10 ms x 9 = 90 < 100
    fast.ewma.start();
    fast.ewma.start();
    expect(pickP2c([fast, slow], rng)).toBe(slow); // 10 ms x 11 = 110 > 100
  });

  it('shifts part of the traffic to a 2x slower endpoint once the faster one has requests in flight (property over seeds)', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        // One request per ms: the 10 ms endpoint carries several at a time, so the 20 ms one wins about 1 in 5.
        const [toFast = 0, toSlow = 0] = simulate([10, 20], { seed, intervalMs: 1, requests: 2_000 });
        expect(toSlow).toBeGreaterThan(200);
        expect(toSlow).toBeLessThan(600);
        expect(toFast).toBeGreaterThan(toSlow * 2);
      }),
      { numRuns: 10 },
    );
  });

  it('gives a slow endpoint among three or more a small share while requests overlap (property over seeds)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 2, max: 6 }), (seed, fastCount) => {
        const picks = simulate([...Array.from({ length: fastCount }, () => 10), 100], { seed, intervalMs: 1, requests: 2_000 });
        const toSlow = picks[fastCount] ?? 0;
        const evenShare = 2_000 / (fastCount + 1);
        expect(toSlow).toBeLessThan(0.05 * 2_000);
        expect(toSlow).toBeLessThan(evenShare / 5);
        for (const toFast of picks.slice(0, fastCount)) expect(toFast).toBeGreaterThan(0.8 * evenShare);
      }),
      { numRuns: 20 },
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
