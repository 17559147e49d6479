import { Clock, TokenValidator, unwrap, type WorkloadIdentity } from '@weft/core';
import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { SignedTokenIssuer } from './signed-token-issuer.js';
import { SignedTokenValidator } from './signed-token-validator.js';
import { generateTokenSigningKey } from './token-signing-key.js';
import { tokenModule } from './token.module.js';

const web: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'web' };

describe('tokenModule', () => {
  it('binds TokenValidator to a validator that accepts what the bound issuer issues, on the bound clock', async () => {
    let now = Date.UTC(2026, 0, 1);
    const container = new Container();
    container.bind<Clock>(Clock).toConstantValue({ now: () => now });
    container.load(tokenModule({ key: generateTokenSigningKey(), tokenLifetimeMs: 60_000, trustDomain: 'cluster.local' }));
    const validator = container.get<TokenValidator>(TokenValidator);
    expect(validator).toBe(container.get(SignedTokenValidator));
    const issued = unwrap(container.get(SignedTokenIssuer).issue(web));
    expect(await validator.validate(issued.token)).toEqual({ ok: true, value: web });
    now += 60_000;
    const expired = await validator.validate(issued.token);
    expect(expired.ok || expired.error.code).toBe('expired');
  });

  it('refuses the identities of other trust domains and the ids it was told are revoked', async () => {
    const key = generateTokenSigningKey();
    const clock: Clock = { now: () => Date.UTC(2026, 0, 1) };
    const revoked = unwrap(new SignedTokenIssuer(key, clock).issue(web));
    const container = new Container();
    container.bind<Clock>(Clock).toConstantValue(clock);
    container.load(tokenModule({ key, trustDomain: 'cluster.local', revokedIds: [revoked.id] }));
    const validator = container.get<TokenValidator>(TokenValidator);
    const refused = await validator.validate(revoked.token);
    expect(refused.ok || refused.error.code).toBe('revoked');
    const foreign = unwrap(container.get(SignedTokenIssuer).issue({ ...web, trustDomain: 'example.org' }));
    const result = await validator.validate(foreign.token);
    expect(result.ok || result.error.message).toMatch(/trust domain "example.org", not this mesh's "cluster.local"/);
  });
});
