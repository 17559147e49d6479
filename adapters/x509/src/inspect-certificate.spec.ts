import { describe, expect, it } from 'vitest';
import { CaMaterialError } from './ca-material-error.js';
import { inspectCertificate } from './inspect-certificate.js';
import { DAY, HOUR, issueLeaf, makeTestPki, NOW, WEB_NAME, WEB_URI } from './test-pki.spec-helper.js';

const pki = await makeTestPki();

describe('inspectCertificate', () => {
  it('describes a workload leaf and checks its chain through the bundled issuer', async () => {
    const { chain } = await issueLeaf(pki);
    const result = inspectCertificate(chain.join(''), { trustAnchorsPem: pki.anchor.certificatePem, now: NOW + HOUR });
    if (!result.ok) throw result.error;
    const [leaf, issuer] = result.value;
    expect(leaf).toMatchObject({
      subject: '',
      issuer: 'CN=issuer.identity.weft.cluster.local',
      dnsNames: [WEB_NAME],
      uris: [WEB_URI],
      otherNames: [],
      notBefore: NOW - 20_000,
      notAfter: NOW + DAY,
      validity: 'valid',
      remainingMs: DAY - HOUR,
      keyAlgorithm: 'ECDSA P-256',
      isCa: false,
      chain: { status: 'trusted', detail: 'chains to the trust anchors' },
    });
    expect(leaf?.serial).toMatch(/^[0-9a-f]{32}$/);
    expect(issuer).toMatchObject({ subject: 'CN=issuer.identity.weft.cluster.local', isCa: true, pathLength: 0, uris: ['spiffe://cluster.local'] });
  });

  it('says an anchor is one, and that an expired leaf has negative time left', async () => {
    const anchor = inspectCertificate(pki.anchor.certificatePem, { trustAnchorsPem: pki.anchor.certificatePem, now: NOW });
    expect(anchor.ok && anchor.value[0]?.chain).toEqual({ status: 'trusted', detail: 'is one of the trust anchors' });
    expect(anchor.ok && anchor.value[0]?.pathLength).toBe(1);
    const { chain } = await issueLeaf(pki);
    const late = inspectCertificate(chain[0] ?? '', { now: NOW + 2 * DAY });
    expect(late.ok && late.value[0]).toMatchObject({ validity: 'expired', remainingMs: -DAY, chain: { status: 'not-checked' } });
  });

  it('reports a certificate of another CA as untrusted, with the reason', async () => {
    const other = await makeTestPki();
    const { chain } = await issueLeaf(other);
    const result = inspectCertificate(chain.join(''), { trustAnchorsPem: pki.anchor.certificatePem, now: NOW });
    expect(result.ok && result.value[0]?.chain.status).toBe('untrusted');
    expect(result.ok && result.value[0]?.chain.detail).toContain('another CA');
  });

  it('names the file that holds no certificate', () => {
    const result = inspectCertificate('hello', { now: NOW, source: '/tmp/x.pem' });
    expect(!result.ok && result.error).toBeInstanceOf(CaMaterialError);
    expect(!result.ok && result.error.input).toBe('/tmp/x.pem');
  });
});
