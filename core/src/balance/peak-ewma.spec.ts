import { describe, expect, it } from 'vitest';
import { PeakEwma } from './peak-ewma.js';

function manualClock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('PeakEwma', () => {
  it('starts at the default RTT of 30 ms, and load is RTT x (requests in flight + 1)', () => {
    const ewma = new PeakEwma(manualClock());
    expect(ewma.rtt()).toBe(30);
    expect(ewma.load()).toBe(30);
    ewma.start();
    ewma.start();
    expect(ewma.pending()).toBe(2);
    expect(ewma.load()).toBe(90);
  });

  it('jumps to a slower RTT at once', () => {
    const ewma = new PeakEwma(manualClock(), { defaultRttMs: 10 });
    ewma.observe(250);
    expect(ewma.rtt()).toBe(250);
  });

  it('moves towards a faster RTT with weight 1 - exp(-elapsed / decay)', () => {
    const clock = manualClock(5_000);
    const ewma = new PeakEwma(clock, { defaultRttMs: 100 });
    clock.advance(10_000);
    ewma.observe(50);
    expect(ewma.rtt()).toBeCloseTo(100 * Math.exp(-1) + 50 * (1 - Math.exp(-1)), 9);
  });

  it('barely moves for a faster RTT right after an update', () => {
    const ewma = new PeakEwma(manualClock(), { defaultRttMs: 100 });
    ewma.observe(1);
    expect(ewma.rtt()).toBe(100);
  });

  it('decays towards zero while no answers come, so an idle slow endpoint is tried again', () => {
    const clock = manualClock();
    const ewma = new PeakEwma(clock);
    ewma.observe(200);
    clock.advance(10_000);
    expect(ewma.rtt()).toBeCloseTo(200 * Math.exp(-1), 9);
    clock.advance(10_000);
    expect(ewma.load()).toBeCloseTo(200 * Math.exp(-2), 9);
  });

  it('follows a shorter decay faster, and never uses a decay under 1 ms', () => {
    const clock = manualClock();
    const quick = new PeakEwma(clock, { decayMs: 1_000, defaultRttMs: 100 });
    const broken = new PeakEwma(clock, { decayMs: 0, defaultRttMs: 100 });
    clock.advance(1);
    expect(broken.rtt()).toBeCloseTo(100 * Math.exp(-1), 9);
    clock.advance(999);
    expect(quick.rtt()).toBeCloseTo(100 * Math.exp(-1), 9);
  });

  it('counts requests in flight and records the RTT a request ends with', () => {
    const ewma = new PeakEwma(manualClock());
    ewma.start();
    ewma.end(120);
    expect(ewma.pending()).toBe(0);
    expect(ewma.rtt()).toBe(120);
    ewma.start();
    ewma.end();
    ewma.end();
    expect(ewma.pending()).toBe(0);
    expect(ewma.rtt()).toBe(120);
  });

  it('ignores RTTs that are negative or not numbers', () => {
    const ewma = new PeakEwma(manualClock());
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) ewma.observe(bad);
    expect(ewma.rtt()).toBe(30);
  });
});
