import { describe, expect, it } from 'vitest';
import { sameValue } from './same-value.js';

describe('sameValue', () => {
  it('compares plain data deeply', () => {
    expect(sameValue({ a: [1, { b: 'x' }], c: 2n }, { c: 2n, a: [1, { b: 'x' }] })).toBe(true);
    expect(sameValue({ a: [1, { b: 'x' }] }, { a: [1, { b: 'y' }] })).toBe(false);
    expect(sameValue([1, 2], [1, 2, 3])).toBe(false);
    expect(sameValue([], {})).toBe(false);
    expect(sameValue(null, {})).toBe(false);
  });

  it('reads an absent optional field and one set to undefined alike', () => {
    expect(sameValue({ a: 1, timeoutMs: undefined }, { a: 1 })).toBe(true);
  });
});
