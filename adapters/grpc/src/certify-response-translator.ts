// Translates an IssuedCertificate to the wire CertifyResponse (DER) and back (PEM, with the leaf's own dates and serial).
import { X509Certificate } from 'node:crypto';
import type { identity } from '@weft/contracts';
import { CertifyRefusal, err, type IssuedCertificate, ok, type Result } from '@weft/core';
import { derToPem, pemToDer } from './certificate-der.js';

/** The wire response: the leaf and each issuer certificate as DER, and the leaf's notAfter. */
export function certifyResponseToWire(issued: IssuedCertificate): identity.CertifyResponse {
  return {
    leafCertificate: Buffer.from(pemToDer(issued.leafPem)),
    intermediateCertificates: issued.chainPem.map((pem) => Buffer.from(pemToDer(pem))),
    validUntil: new Date(issued.notAfter),
  };
}

/**
 * The issued certificate in a wire response. The leaf must be a DER X.509 certificate: notBefore, notAfter and the
 * serial are read from it (the certificate, not valid_until, is what peers will check). A response without one is
 * refused as 'issuer-unavailable', which the caller retries: the control plane's issuer gave nothing usable.
 */
export function issuedCertificateFromWire(response: identity.CertifyResponse): Result<IssuedCertificate, CertifyRefusal> {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(response.leafCertificate);
  } catch {
    const bytes = response.leafCertificate.byteLength;
    return err(
      new CertifyRefusal(
        'issuer-unavailable',
        `the control plane answered with a leaf of ${bytes} bytes that is not a DER X.509 certificate; retry later`,
      ),
    );
  }
  return ok({
    leafPem: derToPem(response.leafCertificate),
    chainPem: response.intermediateCertificates.map((der) => derToPem(der)),
    notBefore: leaf.validFromDate.getTime(),
    notAfter: leaf.validToDate.getTime(),
    serial: leaf.serialNumber.toLowerCase(),
  });
}
