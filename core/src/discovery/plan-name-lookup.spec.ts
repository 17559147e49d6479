import { describe, expect, it } from 'vitest';
import { planNameLookup } from './plan-name-lookup.js';
import { NameResolutionError } from './resolve-name.port.js';

/** Stands in for the platform's test of IP text. */
const isIpAddress = (host: string): boolean => /^(\d{1,3}\.){3}\d{1,3}$/.test(host) || host.includes(':');

describe('planNameLookup', () => {
  it('answers an IP address with itself, for the fixed TTL', () => {
    expect(planNameLookup('10.0.0.7', 60_000, isIpAddress)).toEqual({ kind: 'answered', result: { ok: true, value: { addresses: ['10.0.0.7'], ttlMs: 60_000 } } });
    expect(planNameLookup('::1', 5_000, isIpAddress)).toEqual({ kind: 'answered', result: { ok: true, value: { addresses: ['::1'], ttlMs: 5_000 } } });
  });

  it('answers localhost and the names under it with both loopback addresses, whatever their case or trailing dot', () => {
    for (const host of ['localhost', 'LocalHost.', 'app.localhost']) {
      expect(planNameLookup(host, 1_000, isIpAddress)).toEqual({ kind: 'answered', result: { ok: true, value: { addresses: ['127.0.0.1', '::1'], ttlMs: 1_000 } } });
    }
  });

  it('asks to look up other names, lowercased and without the trailing dot', () => {
    expect(planNameLookup('API.Example.com.', 1_000, isIpAddress)).toEqual({ kind: 'lookup', name: 'api.example.com' });
  });

  it('refuses a host that is not a DNS name as invalid, naming the host', () => {
    const plan = planNameLookup('bad_host!', 1_000, isIpAddress);
    if (plan.kind !== 'answered' || plan.result.ok) throw new Error('expected a failure');
    expect(plan.result.error).toBeInstanceOf(NameResolutionError);
    expect(plan.result.error.code).toBe('invalid');
    expect(plan.result.error.input).toBe('bad_host!');
    expect(plan.result.error.message).toContain('"bad_host!"');
  });
});
