import { createIssuer, createTrustAnchor, createWorkloadCsr, X509CertificateAuthority } from '@weft/adapter-x509';
import type { WorkloadIdentity } from '@weft/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkIssuedX509Certificate } from './issued-certificate-check.js';
import { loadX509Rules } from './x509-rules.js';
import type { ProxyCredentials } from './proxy-credentials.js';

const NOW = Date.UTC(2030, 0, 15);
const web: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'web' };
const WEB_NAME = 'web.shop.serviceaccount.identity.weft.cluster.local';

describe('checkIssuedX509Certificate', () => {
  let good: ProxyCredentials;
  let foreignAnchorPem = '';
  let otherKeyPem = '';

  beforeAll(async () => {
    await loadX509Rules();
    const anchor = await createTrustAnchor({ trustDomain: 'cluster.local', now: NOW });
    const authority = new X509CertificateAuthority({ now: () => NOW }, { trustAnchorsPem: anchor.certificatePem });
    const loaded = await authority.loadIssuer(await createIssuer({ anchor, now: NOW }));
    if (!loaded.ok) throw loaded.error;
    const { csrDer, privateKeyPem } = await createWorkloadCsr(web);
    const issued = await authority.certify({ csr: csrDer, identity: web });
    if (!issued.ok) throw issued.error;
    good = {
      identityName: WEB_NAME,
      privateKeyPem,
      certificateChainPem: [issued.value.leafPem, ...issued.value.chainPem].join(''),
      trustAnchorsPem: anchor.certificatePem,
      notAfter: issued.value.notAfter,
    };
    foreignAnchorPem = (await createTrustAnchor({ trustDomain: 'cluster.local', now: NOW })).certificatePem;
    otherKeyPem = (await createWorkloadCsr(web)).privateKeyPem;
  });

  it('accepts a certificate for this identity, chained to the anchors, carrying the proxy key', () => {
    expect(checkIssuedX509Certificate(good, NOW)).toBeUndefined();
  });

  it.each([
    ['chained to other anchors than the configured ones', () => ({ ...good, trustAnchorsPem: foreignAnchorPem }), /does not chain to the trust anchors/],
    ['for another identity', () => ({ ...good, identityName: 'api.shop.serviceaccount.identity.weft.cluster.local' }), /"api\.shop\.serviceaccount\.identity\.weft\.cluster\.local" was expected/],
    ['carrying another key', () => ({ ...good, privateKeyPem: otherKeyPem }), /does not carry the public key of the proxy's private key/],
  ])('refuses one %s', (_what, credentials, expected) => {
    expect(checkIssuedX509Certificate(credentials(), NOW)).toMatch(expected);
  });
});
