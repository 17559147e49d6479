import { type Clock, type TokenRefusal, type TokenRefusalCode, unwrap, type WorkloadIdentity } from '@weft/core';
import { describeTokenValidatorContract } from '@weft/fixtures';
import { describe, expect, it } from 'vitest';
import { SignedTokenIssuer } from './signed-token-issuer.js';
import { SignedTokenValidator } from './signed-token-validator.js';
import { generateTokenSigningKey } from './token-signing-key.js';
import { encodeWorkloadToken, MAX_WORKLOAD_TOKEN_BYTES, type WorkloadTokenClaims } from './workload-token-format.js';

const HOUR = 3_600_000;
const start = Date.UTC(2026, 0, 1);
const web: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'web' };

class TestClock implements Clock {
  constructor(private time: number) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

describeTokenValidatorContract('SignedTokenValidator', () => {
  const key = generateTokenSigningKey();
  const clock = new TestClock(start);
  const issuer = new SignedTokenIssuer(key, clock);
  const validator = new SignedTokenValidator(key, clock);
  const ids = new Map<string, string>();
  return {
    port: validator,
    issue: async (identity) => {
      const issued = unwrap(issuer.issue(identity));
      ids.set(issued.token, issued.id);
      return issued.token;
    },
    revoke: async (token) => validator.revoke(ids.get(token) ?? ''),
    close: async () => undefined,
  };
});

describe('SignedTokenValidator', () => {
  const key = generateTokenSigningKey();

  function setup(options: ConstructorParameters<typeof SignedTokenValidator>[2] = {}) {
    const clock = new TestClock(start);
    return { clock, issuer: new SignedTokenIssuer(key, clock), validator: new SignedTokenValidator(key, clock, options) };
  }

  async function expectRefused(validator: SignedTokenValidator, token: string, code: TokenRefusalCode, message: RegExp): Promise<TokenRefusal> {
    const result = await validator.validate(token);
    if (result.ok) throw new Error(`accepted as ${JSON.stringify(result.value)}`);
    expect(result.error.code).toBe(code);
    expect(result.error.message).toMatch(message);
    if (token !== '') expect(result.error.message).not.toContain(token);
    return result.error;
  }

  // Signs claims of our choosing with `signingKey`, as a forger holding that key would.
  function forge(overrides: Partial<WorkloadTokenClaims>, signingKey = key): string {
    const now = Math.floor(start / 1_000);
    const claims: WorkloadTokenClaims = {
      iss: 'weft-control',
      sub: 'spiffe://cluster.local/ns/shop/sa/web',
      aud: 'identity.weft',
      iat: now,
      nbf: now,
      exp: now + 3_600,
      jti: 'forged',
      ...overrides,
    };
    return encodeWorkloadToken(claims, signingKey);
  }

  it('accepts a token until its 24 h are over, then refuses it as expired, naming the time', async () => {
    const { clock, issuer, validator } = setup();
    const { token, notAfter } = unwrap(issuer.issue(web));
    expect(notAfter).toBe(start + 24 * HOUR);
    clock.advance(24 * HOUR - 1);
    expect(await validator.validate(token)).toEqual({ ok: true, value: web });
    clock.advance(1);
    await expectRefused(validator, token, 'expired', /expired at 2026-01-02T00:00:00.000Z/);
  });

  it('refuses a token whose payload was changed to name another workload', async () => {
    const { issuer, validator } = setup();
    const [header, claims, signature] = unwrap(issuer.issue(web)).token.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(claims, 'base64url').toString()) as WorkloadTokenClaims;
    const changed = Buffer.from(JSON.stringify({ ...payload, sub: 'spiffe://cluster.local/ns/shop/sa/admin' })).toString('base64url');
    await expectRefused(validator, `${header}.${changed}.${signature}`, 'invalid', /signature does not verify/);
  });

  it('refuses a token signed with another key, naming both keys', async () => {
    const { validator } = setup();
    const other = generateTokenSigningKey();
    const token = unwrap(new SignedTokenIssuer(other, new TestClock(start)).issue(web)).token;
    const error = await expectRefused(validator, token, 'invalid', /signature does not verify/);
    expect(error.message).toContain(key.keyId);
    expect(error.message).toContain(other.keyId);
  });

  it('refuses a token for another audience', async () => {
    const { validator } = setup();
    await expectRefused(validator, forge({ aud: 'api.example' }), 'invalid', /audience "api.example", not "identity.weft"/);
  });

  it('refuses a token that is not valid yet, beyond the 20 s clock allowance', async () => {
    const { validator } = setup();
    const now = Math.floor(start / 1_000);
    expect((await validator.validate(forge({ nbf: now + 20 }))).ok).toBe(true);
    await expectRefused(validator, forge({ nbf: now + 21 }), 'invalid', /not valid before 2026-01-01T00:00:21.000Z/);
  });

  it('refuses a token whose subject is no workload identity, or of another trust domain when one is set', async () => {
    await expectRefused(setup().validator, forge({ sub: 'spiffe://cluster.local/ns/shop' }), 'invalid', /names no workload identity/);
    const { validator } = setup({ trustDomain: 'example.org' });
    await expectRefused(validator, forge({}), 'invalid', /trust domain "cluster.local", not this mesh's "example.org"/);
  });

  it('refuses tokens revoked by id, given at construction or later, and keeps others', async () => {
    const { issuer, validator } = setup();
    const first = unwrap(issuer.issue(web));
    const second = unwrap(issuer.issue(web));
    validator.revoke(first.id);
    await expectRefused(validator, first.token, 'revoked', new RegExp(`token ${first.id} was revoked`));
    expect((await validator.validate(second.token)).ok).toBe(true);
    const fresh = setup({ revokedIds: [second.id] }).validator;
    await expectRefused(fresh, second.token, 'revoked', /was revoked/);
  });

  it(`refuses a token over ${MAX_WORKLOAD_TOKEN_BYTES} bytes without looking further`, async () => {
    const { validator } = setup();
    const oversize = forge({ jti: 'x'.repeat(MAX_WORKLOAD_TOKEN_BYTES) });
    await expectRefused(validator, oversize, 'invalid', /is \d+ bytes long, over the 4096/);
  });

  it.each([
    ['an empty token', '', /no token was given/],
    ['garbage', 'hello, world', /not a Weft workload token/],
    ['two parts', 'abc.def', /not a Weft workload token/],
    ['four parts', 'a.b.c.d', /not a Weft workload token/],
    ['non-ASCII', 'é.é.é', /not a Weft workload token/],
    ['an unsigned "none" token', `${b64({ alg: 'none' })}.${b64({ sub: 'spiffe://cluster.local/ns/shop/sa/web' })}.AA`, /signature/],
  ])('refuses %s as invalid', async (_name, token, message) => {
    await expectRefused(setup().validator, token, 'invalid', message);
  });

  it('refuses a signed token whose claims have the wrong types', async () => {
    const { validator } = setup();
    await expectRefused(validator, forge({ exp: 'tomorrow' as unknown as number }), 'invalid', /claims are not those/);
  });

  it('refuses a token spelled with a non-canonical base64url ending', async () => {
    const { issuer, validator } = setup();
    const token = unwrap(issuer.issue(web)).token;
    // The signature is 64 bytes: its last base64url character carries 2 unused bits, which a forger could flip.
    const last = token.at(-1) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[alphabet.indexOf(last) ^ 1] as string;
    await expectRefused(validator, `${token.slice(0, -1)}${twin}`, 'invalid', /not a Weft workload token|signature/);
  });
});

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
