import { describe, expect, it } from 'vitest';
import { createIssuer, createTrustAnchor } from './ca-material.js';
import { LeafRefusal, type LeafRefusalCode } from './leaf-refusal.js';
import { pemBlocks } from './pem.js';
import { KeyUsageFlags } from './peculiar-x509.js';
import {
  DAY,
  HOUR,
  issueLeaf,
  makeLeaf,
  makeTestPki,
  NOW,
  type TestPki,
  voting,
  WEB_NAME,
  WEB_URI,
} from './test-pki.spec-helper.js';
import { verifyWorkloadLeaf } from './workload-leaf.js';

const pki: TestPki = await makeTestPki();
const anchors = pki.anchor.certificatePem;

function refused(result: ReturnType<typeof verifyWorkloadLeaf>, code: LeafRefusalCode, input?: string): LeafRefusal {
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error(`accepted ${result.value.identityName}`);
  expect(result.error).toBeInstanceOf(LeafRefusal);
  expect(result.error.code).toBe(code);
  if (input !== undefined) expect(result.error.input).toBe(input);
  expect(result.error.message).toContain(JSON.stringify(result.error.input));
  return result.error;
}

describe('verifyWorkloadLeaf', () => {
  it('accepts a leaf the CA issued and says whose it is', async () => {
    const { chain } = await issueLeaf(pki);
    const result = verifyWorkloadLeaf(chain, anchors, { identityName: WEB_NAME }, NOW);
    expect(result).toEqual({
      ok: true,
      value: {
        identity: { trustDomain: 'cluster.local', namespace: 'emojivoto', serviceAccount: 'web' },
        identityName: WEB_NAME,
        spiffeUri: WEB_URI,
        notAfter: NOW + DAY,
      },
    });
  });

  it('takes the chain as one PEM bundle or as DER certificates, as node:tls hands them out', async () => {
    const { chain } = await issueLeaf(pki);
    const ders = chain.flatMap((pem) => pemBlocks(pem, 'CERTIFICATE'));
    expect(verifyWorkloadLeaf(chain.join(''), anchors, undefined, NOW).ok).toBe(true);
    expect(verifyWorkloadLeaf(ders, anchors, undefined, NOW).ok).toBe(true);
  });

  it('accepts any workload of the anchors when no identity is expected', async () => {
    const { chain } = await issueLeaf(pki, voting);
    const result = verifyWorkloadLeaf(chain, anchors, undefined, NOW);
    expect(result.ok && result.value.identityName).toBe('voting.emojivoto.serviceaccount.identity.weft.cluster.local');
  });

  it('refuses a wrong identity, naming the one found', async () => {
    const { chain } = await issueLeaf(pki, voting);
    const refusal = refused(
      verifyWorkloadLeaf(chain, anchors, { identityName: WEB_NAME }, NOW),
      'identity-mismatch',
      'voting.emojivoto.serviceaccount.identity.weft.cluster.local',
    );
    expect(refusal.message).toContain(WEB_NAME);
  });

  it('refuses an expired leaf', async () => {
    const leaf = await makeLeaf(pki.issuer, { notBefore: NOW - 2 * HOUR, notAfter: NOW - 1_000 });
    const refusal = refused(verifyWorkloadLeaf([leaf, pki.issuer.certificatePem], anchors, undefined, NOW), 'expired');
    expect(refusal.input).toBe(new Date(NOW - 1_000).toISOString());
  });

  it('refuses a leaf that is not valid yet', async () => {
    const leaf = await makeLeaf(pki.issuer, { notBefore: NOW + HOUR, notAfter: NOW + 2 * HOUR });
    refused(verifyWorkloadLeaf([leaf, pki.issuer.certificatePem], anchors, undefined, NOW), 'not-yet-valid');
  });

  it('refuses a leaf of a foreign CA, even one for the same trust domain that sends its issuer along', async () => {
    const foreign = await makeTestPki();
    const { chain } = await issueLeaf(foreign);
    const refusal = refused(verifyWorkloadLeaf(chain, anchors, undefined, NOW), 'untrusted');
    expect(refusal.message).toContain('another CA');
  });

  it('refuses a leaf whose issuer is missing from the chain', async () => {
    const { chain } = await issueLeaf(pki);
    refused(verifyWorkloadLeaf(chain.slice(0, 1), anchors, undefined, NOW), 'untrusted');
  });

  it('refuses a leaf whose issuer has expired', async () => {
    const anchor = await createTrustAnchor({ trustDomain: 'cluster.local', now: NOW - 2 * DAY });
    const issuer = await createIssuer({ anchor, now: NOW - 2 * DAY, lifetimeMs: DAY });
    const leaf = await makeLeaf(issuer);
    const refusal = refused(verifyWorkloadLeaf([leaf, issuer.certificatePem], anchor.certificatePem, undefined, NOW), 'untrusted');
    expect(refusal.message).toContain('expired');
  });

  it('refuses a CA certificate used as a leaf', async () => {
    refused(verifyWorkloadLeaf([pki.issuer.certificatePem], anchors, undefined, NOW), 'ca-certificate', 'CA=true');
    const caLeaf = await makeLeaf(pki.issuer, { ca: true });
    refused(verifyWorkloadLeaf([caLeaf, pki.issuer.certificatePem], anchors, undefined, NOW), 'ca-certificate');
  });

  it('refuses two URI SANs, naming both', async () => {
    const leaf = await makeLeaf(pki.issuer, {
      names: [
        { type: 'dns', value: WEB_NAME },
        { type: 'url', value: WEB_URI },
        { type: 'url', value: 'spiffe://cluster.local/ns/emojivoto/sa/admin' },
      ],
    });
    const refusal = refused(verifyWorkloadLeaf([leaf, pki.issuer.certificatePem], anchors, undefined, NOW), 'uri-san');
    expect(refusal.input).toBe(`${WEB_URI}, spiffe://cluster.local/ns/emojivoto/sa/admin`);
  });

  it('refuses a leaf without a URI SAN or with a URI that is not a workload SPIFFE ID', async () => {
    const none = await makeLeaf(pki.issuer, { names: [{ type: 'dns', value: WEB_NAME }] });
    refused(verifyWorkloadLeaf([none, pki.issuer.certificatePem], anchors, undefined, NOW), 'uri-san');
    const https = await makeLeaf(pki.issuer, { names: [{ type: 'dns', value: WEB_NAME }, { type: 'url', value: 'https://web.example' }] });
    refused(verifyWorkloadLeaf([https, pki.issuer.certificatePem], anchors, undefined, NOW), 'uri-san', 'https://web.example');
  });

  it('refuses a DNS SAN that is not the identity name of the SPIFFE ID', async () => {
    const leaf = await makeLeaf(pki.issuer, { names: [{ type: 'dns', value: 'evil.example.com' }, { type: 'url', value: WEB_URI }] });
    refused(verifyWorkloadLeaf([leaf, pki.issuer.certificatePem], anchors, undefined, NOW), 'dns-san', 'evil.example.com');
  });

  it('refuses an IP SAN beside the identity', async () => {
    const leaf = await makeLeaf(pki.issuer, {
      names: [{ type: 'dns', value: WEB_NAME }, { type: 'url', value: WEB_URI }, { type: 'ip', value: '10.0.0.7' }],
    });
    refused(verifyWorkloadLeaf([leaf, pki.issuer.certificatePem], anchors, undefined, NOW), 'forbidden-san', 'IP:10.0.0.7');
  });

  it.each(['RSA', 'P-384'] as const)('refuses a leaf with an %s key', async (key) => {
    const leaf = await makeLeaf(pki.issuer, { key });
    const refusal = refused(verifyWorkloadLeaf([leaf, pki.issuer.certificatePem], anchors, undefined, NOW), 'unsupported-key');
    expect(refusal.input).toBe(key === 'RSA' ? 'RSA 2048' : 'ECDSA P-384');
  });

  it('refuses a key usage that is not critical, lacks digitalSignature, or allows signing certificates', async () => {
    const variants = [
      { keyUsageCritical: false },
      { keyUsage: KeyUsageFlags.keyEncipherment },
      { keyUsage: KeyUsageFlags.digitalSignature | KeyUsageFlags.keyCertSign },
      { keyUsage: KeyUsageFlags.digitalSignature | KeyUsageFlags.cRLSign },
    ];
    for (const spec of variants) {
      const leaf = await makeLeaf(pki.issuer, spec);
      refused(verifyWorkloadLeaf([leaf, pki.issuer.certificatePem], anchors, undefined, NOW), 'key-usage');
    }
  });

  it('refuses a leaf that may only serve or only connect', async () => {
    const leaf = await makeLeaf(pki.issuer, { extendedKeyUsage: ['1.3.6.1.5.5.7.3.1'] });
    refused(verifyWorkloadLeaf([leaf, pki.issuer.certificatePem], anchors, undefined, NOW), 'extended-key-usage', '1.3.6.1.5.5.7.3.1');
  });

  it.each([
    ['no certificate', []],
    ['text', 'hello'],
    ['garbage DER', new Uint8Array([0x30, 0x03, 0x01, 0x02, 0x03])],
    ['a broken PEM', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'],
  ])('refuses %s as malformed', (_, input) => {
    refused(verifyWorkloadLeaf(input as string, anchors, undefined, NOW), 'malformed');
  });
});
