import { type Clock, InvalidIdentityError, unwrap, type WorkloadIdentity } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_WORKLOAD_TOKEN_LIFETIME_MS, SignedTokenIssuer } from './signed-token-issuer.js';
import { generateTokenSigningKey } from './token-signing-key.js';

const start = Date.UTC(2026, 0, 1, 12, 0, 0, 750);
const clock: Clock = { now: () => start };
const web: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'web' };

function claimsOf(token: string): Record<string, unknown> {
  const [header, claims] = token.split('.') as [string, string];
  expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toMatchObject({ alg: 'EdDSA', typ: 'JWT' });
  return JSON.parse(Buffer.from(claims, 'base64url').toString()) as Record<string, unknown>;
}

describe('SignedTokenIssuer', () => {
  const key = generateTokenSigningKey();

  it('issues a signed JWT naming the workload, the audience identity.weft, its times and a random id', () => {
    const issued = unwrap(new SignedTokenIssuer(key, clock).issue(web));
    const seconds = Math.floor(start / 1_000);
    expect(claimsOf(issued.token)).toEqual({
      iss: 'weft-control',
      sub: 'spiffe://cluster.local/ns/shop/sa/web',
      aud: 'identity.weft',
      iat: seconds,
      nbf: seconds,
      exp: seconds + 24 * 3_600,
      jti: issued.id,
    });
    expect(DEFAULT_WORKLOAD_TOKEN_LIFETIME_MS).toBe(24 * 3_600_000);
    expect(issued).toMatchObject({ identity: web, notBefore: seconds * 1_000, notAfter: (seconds + 86_400) * 1_000 });
    expect(issued.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(issued.token.split('.')[0]).toBe(Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'JWT', kid: key.keyId })).toString('base64url'));
  });

  it('gives every token its own id', () => {
    const issuer = new SignedTokenIssuer(key, clock);
    const ids = Array.from({ length: 50 }, () => unwrap(issuer.issue(web)).id);
    expect(new Set(ids).size).toBe(50);
  });

  it('takes another lifetime, counted in whole seconds', () => {
    const issued = unwrap(new SignedTokenIssuer(key, clock, { lifetimeMs: 90_500 }).issue(web));
    expect(issued.notAfter - issued.notBefore).toBe(90_000);
  });

  it('refuses to issue for an identity that is not one, naming the bad part', () => {
    const result = new SignedTokenIssuer(key, clock).issue({ ...web, namespace: 'Shop_1' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidIdentityError);
    expect(result.error.input).toBe('Shop_1');
    expect(result.error.message).toContain('Shop_1');
  });

  it.each([0, 999, Number.NaN, Number.POSITIVE_INFINITY])('refuses a lifetime of %d ms', (lifetimeMs) => {
    expect(() => new SignedTokenIssuer(key, clock, { lifetimeMs })).toThrow(RangeError);
  });
});
