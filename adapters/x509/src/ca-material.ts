// Trust anchors and issuers: creating them, and loading an issuer fit to sign (valid now, chaining to the anchors).
import { CLOCK_SKEW_ALLOWANCE_MS, dnsNameProblem, err, ok, type Result } from '@weft/core';
import { createPublicKey, type KeyObject, type webcrypto } from 'node:crypto';
import { CaMaterialError, type CaMaterialErrorCode } from './ca-material-error.js';
import { chainProblem, type TrustAnchorSet } from './certificate-chain.js';
import {
  describeKey,
  hasP256Key,
  isCertificateAuthority,
  iso,
  messageOf,
  parseCertificates,
  type ParsedCertificate,
  subjectAltNamesOf,
} from './parsed-certificate.js';
import { exportPrivateKeyPem, importSigningKey } from './pem.js';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  type Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  type PublicKey,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  type X509Certificate,
  X509CertificateGenerator,
} from './peculiar-x509.js';
import { randomSerialNumber } from './serial-number.js';
import { ECDSA_P256, ECDSA_SHA256 } from './workload-csr.js';

const DAY_MS = 24 * 60 * 60 * 1_000;
/** A trust anchor lasts 10 years unless told otherwise. */
export const DEFAULT_TRUST_ANCHOR_LIFETIME_MS = 3_650 * DAY_MS;
/** An issuer lasts 1 year unless told otherwise (never past its anchor). */
export const DEFAULT_ISSUER_LIFETIME_MS = 365 * DAY_MS;

/** A CA certificate and its private key, both PEM (the key PKCS#8). */
export interface CaMaterial {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

export interface TrustAnchorOptions {
  /** The mesh's trust domain, e.g. "cluster.local"; the anchor carries the SPIFFE ID `spiffe://<trustDomain>`. */
  readonly trustDomain: string;
  readonly lifetimeMs?: number;
  /** Epoch ms; the certificate is valid from `now` minus the 20 s skew allowance. */
  readonly now: number;
}

export interface IssuerOptions {
  /** The trust anchor that signs the issuer. */
  readonly anchor: CaMaterial;
  readonly lifetimeMs?: number;
  readonly now: number;
}

/**
 * A self-signed trust anchor (root): ECDSA P-256, CA=true with path length 1 (one issuer below it), key usage
 * keyCertSign + cRLSign (critical), subject `CN=root.identity.weft.<trustDomain>`, a random 16-byte serial.
 * @throws CaMaterialError if the trust domain is not a DNS name; RangeError if the lifetime is not positive.
 */
export async function createTrustAnchor(options: TrustAnchorOptions): Promise<CaMaterial> {
  const { trustDomain, now } = options;
  const problem = dnsNameProblem(trustDomain);
  if (problem !== undefined) {
    const reason = `is not a trust domain: ${problem} (write a DNS name such as "cluster.local")`;
    throw new CaMaterialError('malformed', trustDomain, reason);
  }
  const lifetimeMs = checkedLifetime(options.lifetimeMs ?? DEFAULT_TRUST_ANCHOR_LIFETIME_MS);
  const keys = await crypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
  const certificate = await X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: `CN=root.identity.weft.${trustDomain}`,
    notBefore: new Date(now - CLOCK_SKEW_ALLOWANCE_MS),
    notAfter: new Date(now + lifetimeMs),
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      ...(await caExtensions(keys.publicKey, keys.publicKey, 1)),
      new SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${trustDomain}` }]),
    ],
  });
  return material(certificate, keys.privateKey);
}

/**
 * An issuer (intermediate) signed by `anchor`: ECDSA P-256, CA=true with path length 0 (it signs leaves only), key
 * usage keyCertSign + cRLSign (critical), the anchor's SPIFFE trust domain ID, a random 16-byte serial. It never
 * outlives its anchor.
 * @throws CaMaterialError if the anchor's certificate or key is unusable; RangeError if the lifetime is not positive.
 */
export async function createIssuer(options: IssuerOptions): Promise<CaMaterial> {
  const { anchor, now } = options;
  const lifetimeMs = checkedLifetime(options.lifetimeMs ?? DEFAULT_ISSUER_LIFETIME_MS);
  const signer = await loadSigner(anchor, { certificate: 'trust anchor certificate', key: 'trust anchor key' });
  if (!signer.ok) throw signer.error;
  const { certificate: anchorCertificate, signingKey } = signer.value;
  const anchorUris = subjectAltNamesOf(anchorCertificate).uri;
  const trustDomainUri = anchorUris.find((uri) => uri.startsWith('spiffe://'));
  const trustDomain = trustDomainUri?.slice('spiffe://'.length);
  const keys = await crypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
  const certificate = await X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: trustDomain === undefined ? 'CN=issuer.identity.weft' : `CN=issuer.identity.weft.${trustDomain}`,
    issuer: anchorCertificate.x509.subjectName,
    notBefore: new Date(now - CLOCK_SKEW_ALLOWANCE_MS),
    notAfter: new Date(Math.min(now + lifetimeMs, anchorCertificate.notAfter)),
    publicKey: keys.publicKey,
    signingKey,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      ...(await caExtensions(keys.publicKey, anchorCertificate.x509.publicKey, 0)),
      ...(trustDomainUri === undefined
        ? []
        : [new SubjectAlternativeNameExtension([{ type: 'url', value: trustDomainUri }])]),
    ],
  });
  return material(certificate, keys.privateKey);
}

async function material(certificate: X509Certificate, privateKey: webcrypto.CryptoKey): Promise<CaMaterial> {
  return { certificatePem: `${certificate.toString('pem')}\n`, privateKeyPem: await exportPrivateKeyPem(privateKey) };
}

async function caExtensions(
  subjectKey: webcrypto.CryptoKey,
  issuerKey: webcrypto.CryptoKey | PublicKey,
  pathLength: number,
): Promise<Extension[]> {
  return [
    new BasicConstraintsExtension(true, pathLength, true),
    new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
    await SubjectKeyIdentifierExtension.create(subjectKey),
    await AuthorityKeyIdentifierExtension.create(issuerKey),
  ];
}

function checkedLifetime(lifetimeMs: number): number {
  if (!(lifetimeMs > 0 && lifetimeMs < Infinity)) {
    throw new RangeError(`lifetimeMs is ${lifetimeMs}; expected a positive number of milliseconds`);
  }
  return lifetimeMs;
}

/** A CA certificate (first in its PEM, any further ones being the chain above it) with the key that signs for it. */
export interface LoadedSigner {
  readonly certificate: ParsedCertificate;
  /** The certificates after the first in the certificate PEM: intermediates towards the anchor, if any. */
  readonly chain: readonly ParsedCertificate[];
  readonly signingKey: webcrypto.CryptoKey;
  /** The same key for node:crypto, which signs leaves faster than WebCrypto. */
  readonly keyObject: KeyObject;
}

/** The names under which errors report the certificate and the key (file paths when loaded from files). */
export interface MaterialSources {
  readonly certificate: string;
  readonly key: string;
}

/** Parses a CA certificate and key and checks they belong together and can sign (CA=true, keyCertSign, P-256). */
export async function loadSigner(
  material: CaMaterial,
  sources: MaterialSources,
): Promise<Result<LoadedSigner, CaMaterialError>> {
  const refuse = (code: CaMaterialErrorCode, source: string, reason: string) =>
    err(new CaMaterialError(code, source, reason));
  let certificates: ParsedCertificate[];
  try {
    certificates = parseCertificates(material.certificatePem);
  } catch (error) {
    return refuse('malformed', sources.certificate, `${messageOf(error)}; expected a PEM CA certificate`);
  }
  const [certificate, ...chain] = certificates as [ParsedCertificate, ...ParsedCertificate[]];
  if (!isCertificateAuthority(certificate)) {
    const subject = JSON.stringify(certificate.x509.subject);
    return refuse('not-a-ca', sources.certificate, `${subject} is not a CA certificate (CA=true with keyCertSign)`);
  }
  if (!hasP256Key(certificate)) {
    const key = describeKey(certificate);
    return refuse('unsupported-key', sources.certificate, `has a ${key} key; Weft CAs use ECDSA P-256`);
  }
  let imported;
  try {
    imported = await importSigningKey(material.privateKeyPem);
  } catch (error) {
    return refuse('malformed', sources.key, `${messageOf(error)}; expected the CA's private key in PEM`);
  }
  const keySpki = createPublicKey(imported.keyObject).export({ type: 'spki', format: 'der' });
  if (!keySpki.equals(certificate.node.publicKey.export({ type: 'spki', format: 'der' }))) {
    const reason = `is not the key of the certificate in ${sources.certificate}; give the pair that belongs together`;
    return refuse('key-mismatch', sources.key, reason);
  }
  return ok({ certificate, chain, signingKey: imported.signingKey, keyObject: imported.keyObject });
}

/**
 * An issuer fit to sign at `now`: loadSigner's checks, plus valid at `now` and chaining to `anchors` (through the
 * further certificates of its PEM, if any).
 */
export async function loadIssuer(
  material: CaMaterial,
  anchors: TrustAnchorSet,
  now: number,
  sources: MaterialSources = { certificate: 'issuer certificate', key: 'issuer key' },
): Promise<Result<LoadedSigner, CaMaterialError>> {
  const signer = await loadSigner(material, sources);
  if (!signer.ok) return signer;
  const { certificate, chain } = signer.value;
  const refuse = (code: CaMaterialErrorCode, reason: string) =>
    err(new CaMaterialError(code, sources.certificate, reason));
  if (now < certificate.notBefore) {
    return refuse('not-yet-valid', `is not valid before ${iso(certificate.notBefore)} (it is now ${iso(now)})`);
  }
  if (now > certificate.notAfter) {
    return refuse('expired', `expired at ${iso(certificate.notAfter)}; create a new issuer from the trust anchor`);
  }
  if (anchors.certificates.some((anchor) => Buffer.from(anchor.der).equals(certificate.der))) {
    const reason = 'is a trust anchor; sign with an issuer it certifies, and keep the anchor key offline';
    return refuse('anchor-as-issuer', reason);
  }
  const problem = chainProblem(certificate, chain, anchors.certificates, now);
  if (problem !== undefined) return refuse('untrusted', `does not chain to the trust anchors: ${problem}`);
  return signer;
}
