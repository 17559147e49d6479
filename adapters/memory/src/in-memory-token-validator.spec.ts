import { Clock, TokenValidator, type WorkloadIdentity } from '@weft/core';
import { describeTokenValidatorContract } from '@weft/fixtures';
import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { FixedClock } from './fixed-clock.js';
import { InMemoryTokenValidator } from './in-memory-token-validator.js';

const web: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'emojivoto', serviceAccount: 'web' };

describeTokenValidatorContract('InMemoryTokenValidator', () => {
  const validator = new InMemoryTokenValidator(new FixedClock(1_700_000_000_000));
  return {
    port: validator,
    issue: async (identity) => validator.issue(identity),
    revoke: async (token) => {
      validator.revoke(token);
    },
    close: async () => undefined,
  };
});

describe('InMemoryTokenValidator', () => {
  it('issues opaque tokens that do not reveal the identity', () => {
    const validator = new InMemoryTokenValidator(new FixedClock(0));
    const tokens = Array.from({ length: 20 }, () => validator.issue(web));
    expect(new Set(tokens).size).toBe(20);
    for (const token of tokens) {
      expect(token.length).toBeGreaterThanOrEqual(40);
      expect(token).not.toMatch(/web|emojivoto|cluster/);
    }
  });

  it("refuses a token as 'expired' from its expiry time on", async () => {
    const clock = new FixedClock(1_000);
    const validator = new InMemoryTokenValidator(clock);
    const token = validator.issue(web);
    expect(validator.expireAt(token, 5_000)).toBe(true);
    clock.set(4_999);
    expect(await validator.validate(token)).toEqual({ ok: true, value: web });
    clock.set(5_000);
    const result = await validator.validate(token);
    expect(result.ok || result.error.code).toBe('expired');
    expect(result.ok || result.error.message).toContain('1970-01-01T00:00:05.000Z');
    expect(result.ok || result.error.message).not.toContain(token);
  });

  it("refuses every token as 'unavailable' while its store is unavailable", async () => {
    const validator = new InMemoryTokenValidator(new FixedClock(0));
    const token = validator.issue(web);
    validator.setAvailable(false);
    const result = await validator.validate(token);
    expect(result.ok || result.error.code).toBe('unavailable');
    validator.setAvailable(true);
    expect(await validator.validate(token)).toEqual({ ok: true, value: web });
  });

  it('says when asked to revoke or expire a token it never issued', () => {
    const validator = new InMemoryTokenValidator(new FixedClock(0));
    expect(validator.revoke('nope')).toBe(false);
    expect(validator.expireAt('nope', 0)).toBe(false);
  });

  it('is built by inversify with the bound Clock', async () => {
    const clock = new FixedClock(10_000);
    const container = new Container();
    container.bind<Clock>(Clock).toConstantValue(clock);
    container.bind(InMemoryTokenValidator).toSelf().inSingletonScope();
    container.bind<TokenValidator>(TokenValidator).toService(InMemoryTokenValidator);
    const token = container.get(InMemoryTokenValidator).issue(web);
    container.get(InMemoryTokenValidator).expireAt(token, 20_000);
    clock.advance(10_000);
    const result = await container.get<TokenValidator>(TokenValidator).validate(token);
    expect(result.ok || result.error.code).toBe('expired');
  });
});
