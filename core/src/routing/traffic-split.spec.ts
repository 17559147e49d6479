import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RandomSource } from '../shared/random-source.port.js';
import { pickWeighted } from './traffic-split.js';

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

const fixed = (value: number): RandomSource => ({ next: () => value });

describe('pickWeighted', () => {
  it('splits traffic in proportion to the weights', () => {
    const backends = [
      { authority: 'v1', weight: 1 },
      { authority: 'v2', weight: 3 },
    ];
    const random = seeded(42);
    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const picked = pickWeighted(backends, random)?.authority ?? 'none';
      counts.set(picked, (counts.get(picked) ?? 0) + 1);
    }
    expect(counts.get('v1')).toBeGreaterThan(2_300);
    expect(counts.get('v1')).toBeLessThan(2_700);
    expect(counts.get('v2')).toBe(10_000 - (counts.get('v1') ?? 0));
  });

  it('never picks a zero weight, even at the edges of the random range', () => {
    const backends = [
      { authority: 'off', weight: 0 },
      { authority: 'a', weight: 2 },
      { authority: 'also-off', weight: 0 },
      { authority: 'b', weight: 2 },
      { authority: 'off-again', weight: 0 },
    ];
    expect(pickWeighted(backends, fixed(0))?.authority).toBe('a');
    expect(pickWeighted(backends, fixed(0.4999))?.authority).toBe('a');
    expect(pickWeighted(backends, fixed(0.5))?.authority).toBe('b');
    expect(pickWeighted(backends, fixed(1 - Number.EPSILON))?.authority).toBe('b');
  });

  it('gives undefined when there is nothing to pick', () => {
    expect(pickWeighted([], fixed(0.5))).toBeUndefined();
    expect(pickWeighted([{ weight: 0 }, { weight: 0 }], fixed(0.5))).toBeUndefined();
  });

  it('picks only positive weights, and something whenever one exists (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ weight: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1_000 }), fc.double({ min: 0, max: 1e6, noNaN: true })) })),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (choices, draw) => {
          const picked = pickWeighted(choices, fixed(draw));
          if (choices.some((choice) => choice.weight > 0)) {
            expect(picked).toBeDefined();
            expect(picked?.weight).toBeGreaterThan(0);
            expect(choices).toContain(picked);
          } else {
            expect(picked).toBeUndefined();
          }
        },
      ),
    );
  });
});
