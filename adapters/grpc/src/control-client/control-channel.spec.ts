import { describe, expect, it } from 'vitest';
import { ControlChannel, DEFAULT_LAST_KNOWN_TTL_MS, InvalidControlChannelOptionError } from './control-channel.js';
import { DEFAULT_CONTROL_BACKOFF } from './control-backoff.js';

describe('ControlChannel', () => {
  it('keeps last known state for 10 minutes and backs off from 250 ms to 10 s unless told otherwise', () => {
    const channel = new ControlChannel({ address: '127.0.0.1:8086' });
    expect(channel.settings.lastKnownTtlMs).toBe(DEFAULT_LAST_KNOWN_TTL_MS);
    expect(DEFAULT_LAST_KNOWN_TTL_MS).toBe(600_000);
    expect(channel.settings.backoff).toEqual(DEFAULT_CONTROL_BACKOFF);
    expect(channel.destination()).toBe(channel.destination());
    channel.close();
  });

  it.each([
    [{ lastKnownTtlMs: 0 }, '0', /lastKnownTtlMs/],
    [{ lastKnownTtlMs: Number.POSITIVE_INFINITY }, 'Infinity', /lastKnownTtlMs/],
    [{ backoff: { initialMs: 500, maxMs: 100 } }, '{"initialMs":500,"maxMs":100}', /maxMs 100/],
  ])('refuses %j with a typed error naming the option', (options, input, words) => {
    let thrown: unknown;
    try {
      new ControlChannel({ address: '127.0.0.1:8086', ...options });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidControlChannelOptionError);
    expect((thrown as InvalidControlChannelOptionError).input).toBe(input);
    expect((thrown as InvalidControlChannelOptionError).message).toMatch(words);
  });
});
