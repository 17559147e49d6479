import { describe, expect, it } from 'vitest';
import { Readiness } from './readiness.js';

describe('Readiness', () => {
  it('is ready only once every condition is met', () => {
    const readiness = new Readiness(['listeners', 'identity']);
    expect(readiness.isReady()).toBe(false);
    readiness.markMet('listeners');
    expect(readiness.isReady()).toBe(false);
    expect(readiness.unmet()).toEqual(['identity']);
    readiness.markMet('identity');
    expect(readiness.isReady()).toBe(true);
    expect(readiness.unmet()).toEqual([]);
  });

  it('is ready at once when nothing is required', () => {
    expect(new Readiness().isReady()).toBe(true);
  });

  it('stops being ready when a met condition is lost or a new one is required', () => {
    const readiness = new Readiness(['listeners']);
    readiness.markMet('listeners');
    readiness.require('identity');
    expect(readiness.isReady()).toBe(false);
    readiness.markMet('identity');
    readiness.require('identity');
    expect(readiness.isReady()).toBe(true);
    readiness.markUnmet('listeners');
    expect(readiness.unmet()).toEqual(['listeners']);
  });

  it('stays not ready for good once shutting down', () => {
    const readiness = new Readiness(['listeners']);
    readiness.markMet('listeners');
    readiness.markShuttingDown();
    expect(readiness.isReady()).toBe(false);
    readiness.markMet('listeners');
    expect(readiness.isReady()).toBe(false);
    expect(readiness.unmet()).toEqual(['shutting down']);
  });

  it('refuses a condition it does not know, naming it and the known ones', () => {
    const readiness = new Readiness(['listeners']);
    expect(() => readiness.markMet('identiy')).toThrow(RangeError);
    expect(() => readiness.markMet('identiy')).toThrow(/"identiy".*known: listeners/);
    expect(readiness.isReady()).toBe(false);
  });

  it('tells watchers each time readiness changes, and no more after they close', () => {
    const readiness = new Readiness(['listeners', 'identity']);
    const seen: boolean[] = [];
    const subscription = readiness.watch((ready) => seen.push(ready));
    readiness.markMet('listeners');
    readiness.markMet('identity');
    readiness.markMet('identity');
    readiness.markShuttingDown();
    subscription.close();
    readiness.markShuttingDown();
    expect(seen).toEqual([true, false]);
  });
});
