import { createPrivateKey } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { Pkcs10CertificateRequest } from './peculiar-x509.js';
import { toPem } from './pem.js';
import { issueLeaf, makeTestPki, openssl, tempFiles, web, WEB_NAME } from './test-pki.spec-helper.js';
import { createWorkloadCsr } from './workload-csr.js';

describe('createWorkloadCsr', () => {
  it('makes a CSR that openssl verifies, with a P-256 key and the identity name as its only SAN', async () => {
    const { csrDer } = await createWorkloadCsr(web);
    const files = await tempFiles({ 'csr.pem': toPem(csrDer, 'CERTIFICATE REQUEST') });
    try {
      const result = await openssl(['req', '-in', files.path('csr.pem'), '-verify', '-noout', '-text']);
      expect(result.code).toBe(0);
      expect(result.stdout + result.stderr).toMatch(/verify OK/i);
      expect(result.stdout).toContain('ASN1 OID: prime256v1');
      expect(result.stdout).toContain('ecdsa-with-SHA256');
      const sans = /X509v3 Subject Alternative Name:\s*\n\s*(.+)\n/.exec(result.stdout)?.[1]?.trim();
      expect(sans).toBe(`DNS:${WEB_NAME}`);
    } finally {
      await files.remove();
    }
  });

  it('carries an empty subject and no other extension', async () => {
    const csr = new Pkcs10CertificateRequest((await createWorkloadCsr(web)).csrDer);
    expect(csr.subject).toBe('');
    expect(csr.extensions.map((extension) => extension.type)).toEqual(['2.5.29.17']);
  });

  it('gives a PKCS#8 PEM key that node:tls takes together with the certificate the CA issues for the CSR', async () => {
    const pki = await makeTestPki();
    const { chain, keyPem } = await issueLeaf(pki);
    expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const key = createPrivateKey(keyPem);
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(() => createSecureContext({ key: keyPem, cert: chain.join('') })).not.toThrow();
  });

  it('makes a new key every time', async () => {
    const [a, b] = await Promise.all([createWorkloadCsr(web), createWorkloadCsr(web)]);
    expect(a.privateKeyPem).not.toBe(b.privateKeyPem);
  });
});
