import { describe, expect, it } from 'vitest';
import { intendedSendTimeMs, requestsDueBy, scheduledRequestCount } from './open-loop-schedule.js';

describe('open-loop schedule', () => {
  it('spaces requests evenly at the rate, whatever the responses do', () => {
    expect(intendedSendTimeMs(100, 0, 1_000)).toBe(100);
    expect(intendedSendTimeMs(100, 250, 1_000)).toBe(350);
    expect(intendedSendTimeMs(0, 3, 200)).toBe(15);
  });

  it('counts every request whose time has come, catching up after a late timer', () => {
    expect(requestsDueBy(100, 99, 1_000, 50)).toBe(0);
    expect(requestsDueBy(100, 100, 1_000, 50)).toBe(1);
    // A timer that fires 7.5 ms late sends the 8 requests it owes at once.
    expect(requestsDueBy(100, 107.5, 1_000, 50)).toBe(8);
    expect(requestsDueBy(100, 10_000, 1_000, 50)).toBe(50);
  });

  it('schedules warm-up plus measured time at the rate', () => {
    expect(scheduledRequestCount(1_000, 2_000, 10_000)).toBe(12_000);
  });
});
