import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodeUnitSet } from './code-unit-set.js';

const UNIVERSE = 64;
const range = fc.tuple(fc.integer({ min: 0, max: UNIVERSE - 1 }), fc.integer({ min: 0, max: UNIVERSE - 1 })).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);
const ranges = fc.array(range, { maxLength: 5 });

/** The members below UNIVERSE, by brute force. */
function members(set: CodeUnitSet): number[] {
  return Array.from({ length: UNIVERSE }, (_, code) => code).filter((code) => set.has(code));
}

function expected(list: readonly (readonly [number, number])[]): number[] {
  return Array.from({ length: UNIVERSE }, (_, code) => code).filter((code) => list.some(([low, high]) => low <= code && code <= high));
}

describe('CodeUnitSet', () => {
  it('holds exactly the code units of its ranges, merged or not (property)', () => {
    fc.assert(
      fc.property(ranges, (list) => {
        expect(members(CodeUnitSet.of(...list))).toEqual(expected(list));
      }),
    );
  });

  it('agrees with brute force on union, complement, intersects, includesAll and equals (property)', () => {
    fc.assert(
      fc.property(ranges, ranges, (first, second) => {
        const a = CodeUnitSet.of(...first);
        const b = CodeUnitSet.of(...second);
        const inA = new Set(expected(first));
        const inB = new Set(expected(second));
        expect(members(a.union(b))).toEqual(expected([...first, ...second]));
        expect(members(a.complement())).toEqual(Array.from({ length: UNIVERSE }, (_, c) => c).filter((c) => !inA.has(c)));
        expect(a.complement().has(0xffff)).toBe(!a.has(0xffff));
        expect(a.intersects(b)).toBe([...inA].some((code) => inB.has(code)));
        expect(a.includesAll(b)).toBe([...inB].every((code) => inA.has(code)));
        expect(a.equals(b)).toBe(inA.size === inB.size && [...inA].every((code) => inB.has(code)));
      }),
    );
  });

  it('has an empty set and a set of every code unit', () => {
    expect(CodeUnitSet.EMPTY.isEmpty).toBe(true);
    expect(CodeUnitSet.ALL.has(0) && CodeUnitSet.ALL.has(0xffff)).toBe(true);
    expect(CodeUnitSet.ALL.complement().isEmpty).toBe(true);
  });
});
