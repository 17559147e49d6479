import { createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createIssuer,
  createTrustAnchor,
  DEFAULT_ISSUER_LIFETIME_MS,
  DEFAULT_TRUST_ANCHOR_LIFETIME_MS,
} from './ca-material.js';
import { CaMaterialError } from './ca-material-error.js';
import { X509Certificate } from './peculiar-x509.js';
import { DAY, NOW, openssl, strayKeyPem, tempFiles } from './test-pki.spec-helper.js';

const anchor = await createTrustAnchor({ trustDomain: 'example.org', now: NOW });
const issuer = await createIssuer({ anchor, now: NOW });

describe('createTrustAnchor and createIssuer', () => {
  it('make an anchor and an issuer that openssl verifies as a chain', async () => {
    const files = await tempFiles({ 'ca.crt': anchor.certificatePem, 'issuer.crt': issuer.certificatePem });
    try {
      const at = String(Math.floor(NOW / 1_000) + 60);
      const result = await openssl(['verify', '-x509_strict', '-attime', at, '-CAfile', files.path('ca.crt'), files.path('issuer.crt')]);
      expect(result.stdout).toContain(': OK');
      expect(result.code).toBe(0);
    } finally {
      await files.remove();
    }
  });

  it('give CA certificates: CA=true with a path length, keyCertSign and cRLSign critical, P-256, SPIFFE trust domain', async () => {
    const files = await tempFiles({ 'ca.crt': anchor.certificatePem, 'issuer.crt': issuer.certificatePem });
    try {
      const [root, intermediate] = await Promise.all(
        ['ca.crt', 'issuer.crt'].map(async (name) => (await openssl(['x509', '-in', files.path(name), '-noout', '-text'])).stdout),
      );
      expect(root).toMatch(/Basic Constraints: critical\s*\n\s*CA:TRUE, pathlen:1\n/);
      expect(intermediate).toMatch(/Basic Constraints: critical\s*\n\s*CA:TRUE, pathlen:0\n/);
      for (const text of [root, intermediate]) {
        expect(text).toMatch(/X509v3 Key Usage: critical\s*\n\s*Certificate Sign, CRL Sign\n/);
        expect(text).toContain('ASN1 OID: prime256v1');
        expect(text).toContain('URI:spiffe://example.org');
      }
      expect(root).toContain('Subject: CN = root.identity.weft.example.org');
      expect(intermediate).toContain('Issuer: CN = root.identity.weft.example.org');
      expect(intermediate).toContain('Subject: CN = issuer.identity.weft.example.org');
    } finally {
      await files.remove();
    }
  });

  it('last 10 years (anchor) and 1 year (issuer) by default, back-dated by 20 s, with 16-byte random serials', () => {
    const root = new X509Certificate(anchor.certificatePem);
    const intermediate = new X509Certificate(issuer.certificatePem);
    expect(root.notBefore.getTime()).toBe(NOW - 20_000);
    expect(root.notAfter.getTime() - NOW).toBe(DEFAULT_TRUST_ANCHOR_LIFETIME_MS);
    expect(DEFAULT_TRUST_ANCHOR_LIFETIME_MS).toBe(3_650 * DAY);
    expect(intermediate.notAfter.getTime() - NOW).toBe(DEFAULT_ISSUER_LIFETIME_MS);
    expect(DEFAULT_ISSUER_LIFETIME_MS).toBe(365 * DAY);
    for (const serial of [root.serialNumber, intermediate.serialNumber]) expect(serial).toMatch(/^[0-9a-f]{32}$/);
    expect(root.serialNumber).not.toBe(intermediate.serialNumber);
  });

  it('give PKCS#8 PEM keys', () => {
    for (const pem of [anchor.privateKeyPem, issuer.privateKeyPem]) {
      expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(createPrivateKey(pem).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    }
  });

  it('never let an issuer outlive its anchor', async () => {
    const shortAnchor = await createTrustAnchor({ trustDomain: 'example.org', now: NOW, lifetimeMs: 30 * DAY });
    const capped = await createIssuer({ anchor: shortAnchor, now: NOW });
    expect(new X509Certificate(capped.certificatePem).notAfter.getTime()).toBe(NOW + 30 * DAY);
  });

  it('refuse a trust domain that is not a DNS name, naming it', async () => {
    const made = createTrustAnchor({ trustDomain: 'Bad Domain', now: NOW });
    await expect(made).rejects.toBeInstanceOf(CaMaterialError);
    await expect(made).rejects.toMatchObject({ input: 'Bad Domain', code: 'malformed' });
  });

  it('refuse an anchor key that does not belong to the anchor certificate', async () => {
    const made = createIssuer({ anchor: { certificatePem: anchor.certificatePem, privateKeyPem: await strayKeyPem() }, now: NOW });
    await expect(made).rejects.toMatchObject({ code: 'key-mismatch', input: 'trust anchor key' });
  });

  it.each([0, -1, Number.NaN])('refuse a lifetime of %d ms', async (lifetimeMs) => {
    await expect(createTrustAnchor({ trustDomain: 'example.org', now: NOW, lifetimeMs })).rejects.toThrow(RangeError);
  });
});
