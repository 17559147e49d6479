import {
  fixedTimeModule,
  InMemoryCertificateAuthority,
  InMemoryDiscoverEndpoints,
  InMemoryTokenValidator,
  memoryCsrFor,
  memoryModule,
} from '@weft/adapter-memory';
import {
  CertifyRefusal,
  DiscoverEndpoints,
  IdentityIssuer,
  identityName,
  InvalidIdentityError,
  TokenRefusal,
  type WorkloadIdentity,
} from '@weft/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { createControlContainer } from './control-container.js';

const web: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'web' };
const books: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'books' };

describe('weft-control container with the memory orchestrator', () => {
  let container: ReturnType<typeof createControlContainer>;

  beforeEach(() => {
    container = createControlContainer([fixedTimeModule({ startTimeMs: Date.UTC(2026, 0, 1) }), memoryModule()]);
  });

  it('resolves every port to the one in-memory instance', () => {
    expect(container.get(DiscoverEndpoints)).toBe(container.get(InMemoryDiscoverEndpoints));
    expect(container.get(IdentityIssuer)).toBe(container.get(IdentityIssuer));
  });

  it('issues a 24 h leaf to a workload whose token proves the identity it asks for', async () => {
    const token = container.get(InMemoryTokenValidator).issue(web);
    const result = await container.get(IdentityIssuer).certify({ identityName: identityName(web), token, csr: memoryCsrFor(web) });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.notAfter - Date.UTC(2026, 0, 1)).toBe(24 * 3_600_000);
    expect(result.value.leafPem).toContain('BEGIN WEFT MEMORY CERTIFICATE');
  });

  it("refuses a workload that asks for another workload's identity", async () => {
    const token = container.get(InMemoryTokenValidator).issue(web);
    const result = await container.get(IdentityIssuer).certify({ identityName: identityName(books), token, csr: memoryCsrFor(books) });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(CertifyRefusal);
    expect((result.error as CertifyRefusal).code).toBe('identity-not-proven');
    expect(result.error.message).toContain(identityName(web));
    expect(result.error.message).not.toContain(token);
  });

  it('refuses an unknown token without echoing it', async () => {
    const result = await container
      .get(IdentityIssuer)
      .certify({ identityName: identityName(web), token: 'not-a-real-token', csr: memoryCsrFor(web) });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(TokenRefusal);
    expect(result.error.message).not.toContain('not-a-real-token');
  });

  it('refuses an identity of another trust domain before looking at the token', async () => {
    const token = container.get(InMemoryTokenValidator).issue(web);
    const result = await container
      .get(IdentityIssuer)
      .certify({ identityName: 'web.shop.serviceaccount.identity.weft.example.org', token, csr: memoryCsrFor(web) });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidIdentityError);
    expect(result.error.message).toContain('web.shop.serviceaccount.identity.weft.example.org');
  });

  it('passes a CSR refusal of the authority through with its code', async () => {
    const token = container.get(InMemoryTokenValidator).issue(web);
    container.get(InMemoryCertificateAuthority).setIssuerAvailable(false);
    const result = await container.get(IdentityIssuer).certify({ identityName: identityName(web), token, csr: memoryCsrFor(web) });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect((result.error as CertifyRefusal).code).toBe('issuer-unavailable');
  });
});
