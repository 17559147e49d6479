import { CertifyRefusal, type CertifyRefusalCode, identityName, type WorkloadIdentity } from '@weft/core';
import { describeCertificateAuthorityContract } from '@weft/fixtures';
import { describe, expect, it } from 'vitest';
import { type CaMaterial, createIssuer, createTrustAnchor } from './ca-material.js';
import { CaMaterialError } from './ca-material-error.js';
import {
  BasicConstraintsExtension,
  Pkcs10CertificateRequestGenerator,
  SubjectAlternativeNameExtension,
  X509Certificate,
} from './peculiar-x509.js';
import {
  DAY,
  generateKeys,
  HOUR,
  makeCsr,
  makeTestPki,
  NOW,
  openssl,
  strayKeyPem,
  tempFiles,
  TestClock,
  web,
  WEB_NAME,
  WEB_URI,
} from './test-pki.spec-helper.js';
import { createWorkloadCsr } from './workload-csr.js';
import { verifyWorkloadLeaf } from './workload-leaf.js';
import { X509CertificateAuthority } from './x509-certificate-authority.js';

const pki = await makeTestPki();

describeCertificateAuthorityContract('X509CertificateAuthority', async () => {
  const clock = new TestClock(NOW);
  const authority = new X509CertificateAuthority(clock, { trustAnchorsPem: pki.anchor.certificatePem });
  await authority.loadIssuer(pki.issuer);
  return {
    port: authority,
    makeCsr: async ({ identity, keyAlgorithm = 'ECDSA', extraDnsNames = [], ipAddresses = [], tamper = false }) =>
      makeCsr({
        key: keyAlgorithm === 'ECDSA' ? 'P-256' : keyAlgorithm,
        names: [
          { type: 'dns', value: identityName(identity) },
          ...extraDnsNames.map((value) => ({ type: 'dns' as const, value })),
          ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
        ],
        tamper,
      }),
    setIssuerAvailable: async (on) => {
      if (!on) authority.unloadIssuer();
      else expect((await authority.loadIssuer(pki.issuer)).ok).toBe(true);
    },
    now: () => clock.now(),
    close: async () => undefined,
  };
});

function freshAuthority(anchor: CaMaterial = pki.anchor, options: { leafLifetimeMs?: number } = {}) {
  const clock = new TestClock(NOW);
  return { clock, authority: new X509CertificateAuthority(clock, { trustAnchorsPem: anchor.certificatePem, ...options }) };
}

async function certify(authority: X509CertificateAuthority, csr: Uint8Array, identity: WorkloadIdentity = web) {
  return authority.certify({ csr, identity });
}

async function refused(authority: X509CertificateAuthority, csr: Uint8Array, code: CertifyRefusalCode): Promise<CertifyRefusal> {
  const result = await certify(authority, csr);
  if (result.ok) throw new Error(`issued serial ${result.value.serial}`);
  expect(result.error).toBeInstanceOf(CertifyRefusal);
  expect(result.error.code).toBe(code);
  return result.error;
}

describe('X509CertificateAuthority: the leaves it signs', () => {
  it('are verified by openssl against the anchor, with the issuer as the untrusted intermediate', async () => {
    const issued = await certify(pki.authority, (await createWorkloadCsr(web)).csrDer);
    if (!issued.ok) throw issued.error;
    const files = await tempFiles({ 'anchor.pem': pki.anchor.certificatePem, 'issuer.pem': issued.value.chainPem.join(''), 'leaf.pem': issued.value.leafPem });
    try {
      const at = String(Math.floor(NOW / 1_000));
      for (const purpose of ['sslserver', 'sslclient']) {
        const args = ['verify', '-x509_strict', '-attime', at, '-purpose', purpose, '-CAfile', files.path('anchor.pem'), '-untrusted', files.path('issuer.pem'), files.path('leaf.pem')];
        const result = await openssl(args);
        expect(result.stdout + result.stderr).toContain(': OK');
        expect(result.code).toBe(0);
      }
    } finally {
      await files.remove();
    }
  });

  it('have the SPIFFE leaf shape in openssl x509 -text: SANs, CA:FALSE, key usage, extended key usage, P-256, 24 h', async () => {
    const issued = await certify(pki.authority, (await createWorkloadCsr(web)).csrDer);
    if (!issued.ok) throw issued.error;
    const files = await tempFiles({ 'leaf.pem': issued.value.leafPem });
    try {
      const { stdout, code } = await openssl(['x509', '-in', files.path('leaf.pem'), '-noout', '-text']);
      expect(code).toBe(0);
      expect(stdout).toMatch(/X509v3 Subject Alternative Name: critical\s*\n\s*DNS:web\.emojivoto\.serviceaccount\.identity\.weft\.cluster\.local, URI:spiffe:\/\/cluster\.local\/ns\/emojivoto\/sa\/web\n/);
      expect(stdout).toMatch(/X509v3 Basic Constraints: critical\s*\n\s*CA:FALSE\n/);
      expect(stdout).toMatch(/X509v3 Key Usage: critical\s*\n\s*Digital Signature\n/);
      expect(stdout).toMatch(/X509v3 Extended Key Usage:\s*\n\s*TLS Web Server Authentication, TLS Web Client Authentication\n/);
      expect(stdout).toContain('ASN1 OID: prime256v1');
      expect(stdout).toContain('Signature Algorithm: ecdsa-with-SHA256');
      expect(stdout).toContain('Not Before: Jan 15 11:59:40 2030 GMT');
      expect(stdout).toContain('Not After : Jan 16 12:00:00 2030 GMT');
      expect(stdout).toMatch(/Subject: *\n/);
    } finally {
      await files.remove();
    }
  });

  it('take nothing from the CSR but its key: no subject, no CA flag, no extra extension', async () => {
    const keys = await generateKeys('P-256');
    const csr = await Pkcs10CertificateRequestGenerator.create({
      name: 'CN=admin, O=system:masters',
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [new SubjectAlternativeNameExtension([{ type: 'dns', value: WEB_NAME }]), new BasicConstraintsExtension(true, 5, true)],
    });
    const issued = await certify(pki.authority, new Uint8Array(csr.rawData));
    if (!issued.ok) throw issued.error;
    const leaf = new X509Certificate(issued.value.leafPem);
    expect(leaf.subject).toBe('');
    expect(leaf.getExtension(BasicConstraintsExtension)?.ca).toBe(false);
    expect(leaf.extensions.map((extension) => extension.type).sort()).toEqual(
      ['2.5.29.14', '2.5.29.15', '2.5.29.17', '2.5.29.19', '2.5.29.35', '2.5.29.37'].sort(),
    );
  });

  it('also accept a CSR that names the SPIFFE URI beside the identity name', async () => {
    const csr = await makeCsr({ names: [{ type: 'dns', value: WEB_NAME }, { type: 'url', value: WEB_URI }] });
    expect((await certify(pki.authority, csr)).ok).toBe(true);
  });

  it('have random serials of 16 bytes', async () => {
    const serials = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const issued = await certify(pki.authority, (await createWorkloadCsr(web)).csrDer);
      if (!issued.ok) throw issued.error;
      expect(issued.value.serial).toMatch(/^[0-9a-f]{32}$/);
      serials.add(issued.value.serial);
    }
    expect(serials.size).toBe(20);
  });

  it('write dates from 2050 on as GeneralizedTime, which openssl and the leaf check read back', async () => {
    const at = Date.UTC(2049, 11, 31, 12, 0, 0);
    const anchor = await createTrustAnchor({ trustDomain: 'cluster.local', now: at - DAY });
    const issuer = await createIssuer({ anchor, now: at - DAY });
    const authority = new X509CertificateAuthority(new TestClock(at), { trustAnchorsPem: anchor.certificatePem });
    await authority.loadIssuer(issuer);
    const issued = await certify(authority, (await createWorkloadCsr(web)).csrDer);
    if (!issued.ok) throw issued.error;
    expect(issued.value.notAfter).toBe(Date.UTC(2050, 0, 1, 12, 0, 0));
    const chain = [issued.value.leafPem, ...issued.value.chainPem];
    expect(verifyWorkloadLeaf(chain, anchor.certificatePem, undefined, at + 23 * HOUR).ok).toBe(true);
    const files = await tempFiles({ 'ca.pem': anchor.certificatePem, 'issuer.pem': issuer.certificatePem, 'leaf.pem': issued.value.leafPem });
    try {
      expect((await openssl(['x509', '-in', files.path('leaf.pem'), '-noout', '-enddate'])).stdout.trim()).toBe('notAfter=Jan  1 12:00:00 2050 GMT');
      const attime = String(Math.floor((at + 23 * HOUR) / 1_000));
      const verified = await openssl(['verify', '-attime', attime, '-CAfile', files.path('ca.pem'), '-untrusted', files.path('issuer.pem'), files.path('leaf.pem')]);
      expect(verified.code).toBe(0);
    } finally {
      await files.remove();
    }
  });

  it('last the configured lifetime, and never outlive their issuer', async () => {
    const { authority } = freshAuthority(pki.anchor, { leafLifetimeMs: HOUR });
    await authority.loadIssuer(pki.issuer);
    const short = await certify(authority, (await createWorkloadCsr(web)).csrDer);
    expect(short.ok && short.value.notAfter).toBe(NOW + HOUR);
    const issuer = await createIssuer({ anchor: pki.anchor, now: NOW - DAY, lifetimeMs: DAY + 2 * HOUR });
    const { authority: late } = freshAuthority();
    await late.loadIssuer(issuer);
    const capped = await certify(late, (await createWorkloadCsr(web)).csrDer);
    expect(capped.ok && capped.value.notAfter).toBe(NOW + 2 * HOUR);
  });
});

describe('X509CertificateAuthority: bad CSRs', () => {
  it("refuses a CSR whose signature does not verify as 'bad-signature'", async () => {
    const refusal = await refused(pki.authority, await makeCsr({ tamper: true }), 'bad-signature');
    expect(refusal.message).toContain('signature');
  });

  it("refuses a CSR with extra SANs as 'san-mismatch', naming the extra one", async () => {
    const csr = await makeCsr({ names: [{ type: 'dns', value: WEB_NAME }, { type: 'dns', value: 'admin.example.com' }] });
    expect((await refused(pki.authority, csr, 'san-mismatch')).message).toContain('admin.example.com');
    const uri = await makeCsr({ names: [{ type: 'dns', value: WEB_NAME }, { type: 'url', value: 'spiffe://cluster.local/ns/kube-system/sa/admin' }] });
    expect((await refused(pki.authority, uri, 'san-mismatch')).message).toContain('spiffe://cluster.local/ns/kube-system/sa/admin');
  });

  it("refuses a CSR with an RSA key as 'unsupported-key'", async () => {
    const refusal = await refused(pki.authority, await makeCsr({ key: 'RSA' }), 'unsupported-key');
    expect(refusal.message).toContain('"RSA"');
  });

  it("refuses a CSR with a P-384 key as 'unsupported-key'", async () => {
    expect((await refused(pki.authority, await makeCsr({ key: 'P-384' }), 'unsupported-key')).message).toContain('ECDSA P-384');
  });

  it("refuses a 1 MB CSR as 'malformed-csr' without reading it", async () => {
    const big = new Uint8Array(1_048_576).fill(0x30);
    expect((await refused(pki.authority, big, 'malformed-csr')).message).toContain('1048576 bytes');
  });

  it("refuses garbage bytes as 'malformed-csr'", async () => {
    const garbage = Uint8Array.from({ length: 512 }, (_, i) => (i * 37 + 11) % 256);
    expect((await refused(pki.authority, garbage, 'malformed-csr')).message).toContain('not a DER PKCS#10 request');
  });

  it("refuses a CSR with an email SAN as 'forbidden-san'", async () => {
    const csr = await makeCsr({ names: [{ type: 'dns', value: WEB_NAME }, { type: 'email', value: 'root@example.com' }] });
    expect((await refused(pki.authority, csr, 'forbidden-san')).message).toContain('root@example.com');
  });

  it("refuses a CSR with a directory-name SAN as 'forbidden-san'", async () => {
    const csr = await makeCsr({ names: [{ type: 'dns', value: WEB_NAME }, { type: 'dn', value: 'CN=admin' }] });
    expect((await refused(pki.authority, csr, 'forbidden-san')).message).toContain('directoryName');
  });

  it("refuses a CSR with no SAN as 'san-mismatch'", async () => {
    await refused(pki.authority, await makeCsr({ names: [] }), 'san-mismatch');
  });
});

describe('X509CertificateAuthority: issuers', () => {
  it('refuses to load an expired issuer, naming the file, and keeps signing with the one it has', async () => {
    const { authority, clock } = freshAuthority();
    expect((await authority.loadIssuer(pki.issuer)).ok).toBe(true);
    const old = await createIssuer({ anchor: pki.anchor, now: NOW - 3 * DAY, lifetimeMs: DAY });
    const loaded = await authority.loadIssuer(old, { certificate: '/etc/weft/issuer.crt', key: '/etc/weft/issuer.key' });
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.error).toBeInstanceOf(CaMaterialError);
    expect(loaded.error.code).toBe('expired');
    expect(loaded.error.input).toBe('/etc/weft/issuer.crt');
    expect(loaded.error.message).toContain('expired at');
    expect(authority.currentIssuer()?.notAfter).toBe(new X509Certificate(pki.issuer.certificatePem).notAfter.getTime());
    clock.current = NOW + HOUR;
    expect((await certify(authority, (await createWorkloadCsr(web)).csrDer)).ok).toBe(true);
  });

  it("refuses 'issuer-unavailable' once the loaded issuer has expired", async () => {
    const issuer = await createIssuer({ anchor: pki.anchor, now: NOW - DAY, lifetimeMs: DAY + HOUR });
    const { authority, clock } = freshAuthority();
    expect((await authority.loadIssuer(issuer)).ok).toBe(true);
    clock.current = NOW + 2 * HOUR;
    const refusal = await refused(authority, (await createWorkloadCsr(web)).csrDer, 'issuer-unavailable');
    expect(refusal.message).toContain('expired');
    expect(refusal.retryable).toBe(true);
  });

  it('refuses to load an issuer from a foreign anchor', async () => {
    const foreignAnchor = await createTrustAnchor({ trustDomain: 'cluster.local', now: NOW - DAY });
    const foreign = await createIssuer({ anchor: foreignAnchor, now: NOW - DAY });
    const { authority } = freshAuthority();
    const loaded = await authority.loadIssuer(foreign, { certificate: 'issuer.crt', key: 'issuer.key' });
    expect(!loaded.ok && loaded.error.code).toBe('untrusted');
    expect(!loaded.ok && loaded.error.toString()).toMatch(/^invalid CA material "issuer\.crt": does not chain to the trust anchors/);
    await refused(authority, (await createWorkloadCsr(web)).csrDer, 'issuer-unavailable');
  });

  it('refuses a key that does not belong to the issuer certificate, naming the key file', async () => {
    const { authority } = freshAuthority();
    const loaded = await authority.loadIssuer({ certificatePem: pki.issuer.certificatePem, privateKeyPem: await strayKeyPem() }, { certificate: 'issuer.crt', key: 'issuer.key' });
    expect(!loaded.ok && [loaded.error.code, loaded.error.input]).toEqual(['key-mismatch', 'issuer.key']);
  });

  it('refuses the trust anchor itself as issuer, so that its key can stay offline', async () => {
    const { authority } = freshAuthority();
    const loaded = await authority.loadIssuer(pki.anchor);
    expect(!loaded.ok && loaded.error.code).toBe('anchor-as-issuer');
  });

  it('refuses a leaf certificate as issuer', async () => {
    const { authority } = freshAuthority();
    const { csrDer, privateKeyPem } = await createWorkloadCsr(web);
    const issued = await certify(pki.authority, csrDer);
    if (!issued.ok) throw issued.error;
    const loaded = await authority.loadIssuer({ certificatePem: issued.value.leafPem, privateKeyPem });
    expect(!loaded.ok && loaded.error.code).toBe('not-a-ca');
  });

  it('refuses unreadable trust anchors when built', () => {
    expect(() => new X509CertificateAuthority(new TestClock(NOW), { trustAnchorsPem: 'not a certificate' })).toThrow(CaMaterialError);
  });
});
