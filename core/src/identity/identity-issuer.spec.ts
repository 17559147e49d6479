import { describe, expect, it } from 'vitest';
import { err, ok, type Result } from '../shared/result.js';
import type { Clock } from '../time/clock.port.js';
import type { CertificateAuthority, CertificationRequest, IssuedCertificate } from './certificate-authority.port.js';
import { CertifyRateLimiter } from './certify-rate-limiter.js';
import { CertifyRefusal } from './certify-refusal.js';
import { IdentityIssuer } from './identity-issuer.js';
import { TokenRefusal } from './token-refusal.js';
import type { TokenValidator } from './token-validator.port.js';
import { identityName, type WorkloadIdentity } from './workload-identity.js';

const web: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'web' };
const books: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'books' };
const csr = new Uint8Array([1, 2, 3]);

/** Tokens are "<sa>-token"; anything else is invalid. */
const tokens: TokenValidator = {
  validate: async (token) => {
    for (const identity of [web, books]) if (token === `${identity.serviceAccount}-token`) return ok(identity);
    return err(new TokenRefusal('invalid', 'unknown token', token));
  },
};

/** Signs everything it is asked to, recording who for. */
class RecordingAuthority implements CertificateAuthority {
  readonly signed: string[] = [];

  async certify(request: CertificationRequest): Promise<Result<IssuedCertificate, CertifyRefusal>> {
    this.signed.push(identityName(request.identity));
    return ok({ leafPem: 'leaf', chainPem: [], notBefore: 0, notAfter: 1, serial: String(this.signed.length) });
  }

  trustAnchorsPem(): string {
    return '';
  }
}

class SteppedClock implements Clock {
  constructor(public time = 1_000_000) {}
  now(): number {
    return this.time;
  }
}

function issuerWithLimit(burst: number) {
  const authority = new RecordingAuthority();
  const clock = new SteppedClock();
  const limiter = new CertifyRateLimiter({ burst, refillIntervalMs: 10_000 });
  const issuer = new IdentityIssuer(tokens, authority, { trustDomain: 'cluster.local', rateLimit: { clock, limiter } });
  return { issuer, authority, clock };
}

describe('IdentityIssuer', () => {
  it('signs the CSR when the token proves the requested identity', async () => {
    const authority = new RecordingAuthority();
    const issuer = new IdentityIssuer(tokens, authority, { trustDomain: 'cluster.local' });
    const result = await issuer.certify({ identityName: identityName(web), token: 'web-token', csr });
    expect(result.ok).toBe(true);
    expect(authority.signed).toEqual([identityName(web)]);
  });

  it('refuses an identity the token does not prove, naming both, and signs nothing', async () => {
    const authority = new RecordingAuthority();
    const issuer = new IdentityIssuer(tokens, authority, { trustDomain: 'cluster.local' });
    const result = await issuer.certify({ identityName: identityName(web), token: 'books-token', csr });
    if (result.ok) throw new Error('certified');
    expect(result.error).toBeInstanceOf(CertifyRefusal);
    expect(result.error.message).toContain(`the token proves ${identityName(books)}, not the requested ${identityName(web)}`);
    expect(authority.signed).toEqual([]);
  });

  it('rate-limits an identity once its token has proven it, and lets it in again after the refill', async () => {
    const { issuer, authority, clock } = issuerWithLimit(2);
    const ask = () => issuer.certify({ identityName: identityName(web), token: 'web-token', csr });
    expect((await ask()).ok).toBe(true);
    expect((await ask()).ok).toBe(true);
    const third = await ask();
    if (third.ok) throw new Error('certified');
    expect(third.error).toBeInstanceOf(CertifyRefusal);
    expect((third.error as CertifyRefusal).code).toBe('rate-limited');
    expect(third.error.message).toMatch(/web\.shop\.serviceaccount\.identity\.weft\.cluster\.local asked for certificates too often; retry in 10 s/);
    clock.time += 10_000;
    expect((await ask()).ok).toBe(true);
    expect(authority.signed).toHaveLength(3);
  });

  it('does not charge an identity for requests whose token does not prove it, so no one can lock it out', async () => {
    const { issuer } = issuerWithLimit(1);
    for (let i = 0; i < 20; i += 1) {
      const forged = await issuer.certify({ identityName: identityName(web), token: 'books-token', csr });
      expect(forged.ok).toBe(false);
      const garbage = await issuer.certify({ identityName: identityName(web), token: 'not-a-token', csr });
      expect(garbage.ok).toBe(false);
    }
    expect((await issuer.certify({ identityName: identityName(web), token: 'web-token', csr })).ok).toBe(true);
  });
});
