import {
  CertificateAuthority,
  Clock,
  type CsrFacts,
  identityName,
  type IssuedCertificate,
  spiffeUri,
  type WorkloadIdentity,
} from '@weft/core';
import { describeCertificateAuthorityContract } from '@weft/fixtures';
import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { FixedClock } from './fixed-clock.js';
import {
  decodeMemoryCsr,
  encodeMemoryCsr,
  InMemoryCertificateAuthority,
  memoryCsrFor,
  readMemoryCertificate,
} from './in-memory-certificate-authority.js';

const DAY = 86_400_000;
const start = 1_700_000_000_000;
const web: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'emojivoto', serviceAccount: 'web' };

describeCertificateAuthorityContract('InMemoryCertificateAuthority', () => {
  const clock = new FixedClock(start);
  const ca = new InMemoryCertificateAuthority(clock);
  return {
    port: ca,
    makeCsr: async ({ identity, keyAlgorithm = 'ECDSA', extraDnsNames = [], ipAddresses = [], tamper = false }) =>
      memoryCsrFor(identity, {
        signatureValid: !tamper,
        keyAlgorithm,
        dnsNames: [identityName(identity), ...extraDnsNames],
        ipAddresses,
      }),
    setIssuerAvailable: async (on) => ca.setIssuerAvailable(on),
    now: () => clock.now(),
    close: async () => undefined,
  };
});

async function issue(ca: InMemoryCertificateAuthority, identity = web): Promise<IssuedCertificate> {
  const result = await ca.certify({ csr: memoryCsrFor(identity), identity });
  if (!result.ok) throw result.error;
  return result.value;
}

describe('InMemoryCertificateAuthority', () => {
  it('issues a leaf naming the identity by DNS name and SPIFFE URI, chained via its issuer to the anchor', async () => {
    const ca = new InMemoryCertificateAuthority(new FixedClock(start));
    const issued = await issue(ca);
    expect(issued.leafPem).toMatch(/^-----BEGIN WEFT MEMORY CERTIFICATE-----\n/);
    const leaf = readMemoryCertificate(issued.leafPem);
    const issuer = readMemoryCertificate(issued.chainPem[0] ?? '');
    const anchor = readMemoryCertificate(ca.trustAnchorsPem());
    expect(leaf).toEqual({
      role: 'leaf',
      serial: issued.serial,
      subject: identityName(web),
      issuerSerial: issuer?.serial,
      dnsNames: [identityName(web)],
      uris: [spiffeUri(web)],
      notBefore: start - 20_000,
      notAfter: start + DAY,
    });
    expect(issuer?.role).toBe('issuer');
    expect(issuer?.issuerSerial).toBe(anchor?.serial);
    expect(anchor?.role).toBe('trust-anchor');
  });

  it('builds the leaf from the identity, not from the SANs of the CSR', async () => {
    const ca = new InMemoryCertificateAuthority(new FixedClock(start));
    const result = await ca.certify({ csr: memoryCsrFor(web, { uris: [] }), identity: web });
    expect(result.ok && readMemoryCertificate(result.value.leafPem)?.uris).toEqual([spiffeUri(web)]);
  });

  it('hands out increasing serials', async () => {
    const ca = new InMemoryCertificateAuthority(new FixedClock(start));
    const serials = [];
    for (let i = 0; i < 20; i++) serials.push((await issue(ca)).serial);
    expect([...serials].sort()).toEqual(serials);
    expect(new Set(serials).size).toBe(20);
  });

  it("refuses as 'issuer-unavailable' once its issuer expired, until a fresh one is loaded", async () => {
    const clock = new FixedClock(start);
    const ca = new InMemoryCertificateAuthority(clock);
    ca.expireIssuerAt(start + 365 * DAY);
    clock.advance(365 * DAY);
    const result = await ca.certify({ csr: memoryCsrFor(web), identity: web });
    expect(result.ok || result.error.code).toBe('issuer-unavailable');
    expect(result.ok || result.error.message).toContain('expired');
    ca.setIssuerAvailable(true);
    expect((await issue(ca)).notBefore).toBe(start + 365 * DAY - 20_000);
  });

  it('keeps its trust anchor when the issuer is replaced', async () => {
    const ca = new InMemoryCertificateAuthority(new FixedClock(start));
    const anchors = ca.trustAnchorsPem();
    const first = await issue(ca);
    ca.setIssuerAvailable(false);
    ca.setIssuerAvailable(true);
    const second = await issue(ca);
    expect(ca.trustAnchorsPem()).toBe(anchors);
    expect(second.chainPem).not.toEqual(first.chainPem);
  });

  it('is built by inversify with the bound Clock', async () => {
    const container = new Container();
    container.bind<Clock>(Clock).toConstantValue(new FixedClock(start));
    container.bind(InMemoryCertificateAuthority).toSelf().inSingletonScope();
    container.bind<CertificateAuthority>(CertificateAuthority).toService(InMemoryCertificateAuthority);
    const port = container.get<CertificateAuthority>(CertificateAuthority);
    const result = await port.certify({ csr: memoryCsrFor(web), identity: web });
    expect(result.ok && result.value.notAfter).toBe(start + DAY);
  });
});

// The JSON object inside a memory CSR, read without decodeMemoryCsr.
function jsonOf(csr: Uint8Array): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(csr)) as Record<string, unknown>;
}

describe('the memory CSR encoding', () => {
  const goodKey = { signatureValid: true, keyAlgorithm: 'ECDSA', namedCurve: 'P-256' } as const;
  const webSans = { dnsNames: [identityName(web)], uris: [spiffeUri(web)], ipAddresses: [], emailAddresses: [] };
  const webFacts: CsrFacts = { ...goodKey, ...webSans };
  const unusual: CsrFacts = {
    signatureValid: false,
    keyAlgorithm: 'other',
    dnsNames: ['a.example'],
    uris: [],
    ipAddresses: ['10.0.0.7'],
    emailAddresses: ['ops@example.com'],
  };

  it('has memoryCsrFor write the facts of a good CSR for the identity, which the overrides replace', () => {
    expect(jsonOf(memoryCsrFor(web))).toEqual(webFacts);
    const overridden = memoryCsrFor(web, { keyAlgorithm: 'RSA', uris: [] });
    expect(jsonOf(overridden)).toEqual({ ...webFacts, keyAlgorithm: 'RSA', uris: [] });
  });

  it.each<[string, CsrFacts]>([
    ['a good CSR', webFacts],
    ['one without a curve', unusual],
  ])('round-trips the CsrFacts of %s through UTF-8 JSON', (_, facts) => {
    expect(new TextDecoder().decode(encodeMemoryCsr(facts))).toBe(JSON.stringify(facts));
    expect(decodeMemoryCsr(encodeMemoryCsr(facts))).toEqual({ ok: true, value: facts });
  });

  it.each<[string, unknown]>([
    ['a list', []],
    ['null', null],
    ['a missing list', { ...webFacts, uris: undefined }],
    ['a number in a list', { ...webFacts, dnsNames: [7] }],
    ['an unknown key algorithm', { ...webFacts, keyAlgorithm: 'DSA' }],
    ['a string for signatureValid', { ...webFacts, signatureValid: 'yes' }],
    ['an extra key', { ...webFacts, commonName: 'web' }],
  ])('refuses JSON holding %s', (_, value) => {
    const bytes = new TextEncoder().encode(JSON.stringify(value));
    expect(decodeMemoryCsr(bytes)).toEqual({ ok: false, error: expect.stringContaining('not a memory CSR') });
  });

  it('refuses bytes that are not UTF-8 JSON, and CSRs over 4 KiB', () => {
    expect(decodeMemoryCsr(new Uint8Array([0xff, 0xfe, 0x7b]))).toEqual({
      ok: false,
      error: expect.stringContaining('not the UTF-8 JSON'),
    });
    const big = memoryCsrFor(web, { dnsNames: Array.from({ length: 200 }, () => identityName(web)) });
    expect(decodeMemoryCsr(big)).toEqual({ ok: false, error: expect.stringContaining('at most 4096') });
  });
});
