import { describe, expect, it } from 'vitest';

describe('the X.509 rules, loaded on first need', () => {
  it('are refused with a clear error before loading, then the same module every time', async () => {
    // A module of its own per test file: nothing else in this file has loaded the rules.
    const rules = await import('./x509-rules.js');
    expect(() => rules.loadedX509Rules()).toThrow(/X\.509 rules are not loaded: await loadX509Rules\(\)/);
    const [first, second] = await Promise.all([rules.loadX509Rules(), rules.loadX509Rules()]);
    expect(first).toBe(second);
    expect(rules.loadedX509Rules()).toBe(first);
    expect(typeof first.verifyWorkloadLeaf).toBe('function');
    expect(typeof first.createWorkloadCsr).toBe('function');
  });
});
