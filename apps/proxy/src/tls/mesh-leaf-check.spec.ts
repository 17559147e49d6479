import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshCertificates, meshIdentityName } from './mesh-certificates.spec-helper.js';
import { MeshLeafRefusal, verifyClientLeaf, verifyServerLeaf } from './mesh-leaf-check.js';

/** The certificates of a PEM chain, leaf first. */
function pemBlocks(chainPem: string): string[] {
  return chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

describe('mesh leaf checks', () => {
  let certs: MeshCertificates;
  let now: number;

  beforeAll(async () => {
    certs = await MeshCertificates.mint();
    now = Date.now() + 1_000; // after every certificate the tests mint has become valid
  }, 60_000);
  afterAll(() => certs.remove());

  it('accepts the server chain that names the expected identity', async () => {
    const web = await certs.leaf('web');
    const result = verifyServerLeaf(pemBlocks(web.certificateChainPem), await certs.credentials('client'), meshIdentityName('web'), now);
    expect(result).toEqual({ ok: true, value: { identityName: meshIdentityName('web') } });
  });

  it('refuses a server chain that names another identity, saying which', async () => {
    const web = await certs.leaf('web');
    const result = verifyServerLeaf(pemBlocks(web.certificateChainPem), await certs.credentials('client'), meshIdentityName('other'), now);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(MeshLeafRefusal);
    expect(result.error.refusal).toBe('identity-mismatch');
    expect(result.error.code).toBe('WEFT_PEER_CERTIFICATE_REFUSED');
    expect(result.error.message).toContain(meshIdentityName('web'));
  });

  it('reads the identity of a client leaf from this proxy\'s own issuer', async () => {
    const client = await certs.leaf('client');
    const leaf = pemBlocks(client.certificateChainPem)[0];
    expect(verifyClientLeaf(leaf, true, await certs.credentials('web'), now)).toEqual({ ok: true, value: { identityName: meshIdentityName('client') } });
  });

  it('accepts a client leaf from another issuer only when the handshake validated its chain', async () => {
    const client = await certs.leaf('client', 'second-issuer');
    const leaf = pemBlocks(client.certificateChainPem)[0];
    const web = await certs.credentials('web');

    expect(verifyClientLeaf(leaf, true, web, now)).toEqual({ ok: true, value: { identityName: meshIdentityName('client') } });
    const unverified = verifyClientLeaf(leaf, false, web, now);
    expect(unverified.ok).toBe(false);
  });

  it.each([
    ['ca-as-leaf', 'ca-certificate'],
    ['two-uri-sans', 'uri-san'],
    ['rsa-key', 'unsupported-key'],
    ['expired', 'expired'],
  ] as const)('refuses a %s client leaf (%s) even when the handshake accepted its chain', async (fault, refusal) => {
    const client = await certs.leaf('client', fault);
    const leaf = pemBlocks(client.certificateChainPem)[0];
    const result = verifyClientLeaf(leaf, true, await certs.credentials('web'), now);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.refusal).toBe(refusal);
  });

  it('refuses a client that presented no certificate', async () => {
    const result = verifyClientLeaf(undefined, true, await certs.credentials('web'), now);
    expect(result.ok).toBe(false);
  });

  it('keeps the certificates the spec helper mints honest: the good leaf is what openssl made', async () => {
    const web = await certs.leaf('web');
    expect(new X509Certificate(web.certificateChainPem).subjectAltName).toBe(
      `URI:spiffe://cluster.local/ns/shop/sa/web, DNS:${meshIdentityName('web')}`,
    );
  });
});
