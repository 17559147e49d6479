// inspectCertificate: what a PEM file's certificates say (names, validity, key, CA flag), and whether they are trusted.
import { err, ok, type Result } from '@weft/core';
import { CaMaterialError } from './ca-material-error.js';
import { chainProblem } from './certificate-chain.js';
import { emptyNames } from './general-names.js';
import {
  basicConstraintsOf,
  describeKey,
  messageOf,
  parseCertificates,
  type ParsedCertificate,
  subjectAltNamesOf,
} from './parsed-certificate.js';

export type ChainStatus =
  | { readonly status: 'trusted'; readonly detail: string }
  | { readonly status: 'untrusted'; readonly detail: string }
  | { readonly status: 'not-checked'; readonly detail: string };

export interface CertificateInspection {
  /** "" for a workload leaf, whose names are all in its SANs. */
  readonly subject: string;
  readonly issuer: string;
  /** Hex. */
  readonly serial: string;
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
  /** SANs of other types, as "type:value". */
  readonly otherNames: readonly string[];
  /** Epoch milliseconds. */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly validity: 'valid' | 'expired' | 'not-yet-valid';
  /** notAfter - now: negative once expired. */
  readonly remainingMs: number;
  /** E.g. "ECDSA P-256", "RSA 2048". */
  readonly keyAlgorithm: string;
  readonly isCa: boolean;
  readonly pathLength?: number;
  readonly chain: ChainStatus;
}

export interface InspectOptions {
  /** The anchors to check the chain against; without them the chain is not checked. */
  readonly trustAnchorsPem?: string;
  readonly now: number;
  /** The name of the inspected material in error messages (a file path); "certificate" by default. */
  readonly source?: string;
  /** The name of the anchors in error messages; "trust anchors" by default. */
  readonly trustAnchorsSource?: string;
}

/**
 * Describes each certificate of `pem` (one certificate or a bundle), in order. The chain of each is checked against
 * the anchors, using the other certificates of the bundle as intermediates.
 */
export function inspectCertificate(
  pem: string,
  options: InspectOptions,
): Result<CertificateInspection[], CaMaterialError> {
  const certificates = parse(pem, options.source ?? 'certificate', 'certificate');
  if (!certificates.ok) return certificates;
  const { trustAnchorsPem } = options;
  const anchorsSource = options.trustAnchorsSource ?? 'trust anchors';
  const anchors = trustAnchorsPem === undefined ? undefined : parse(trustAnchorsPem, anchorsSource, 'trust anchor bundle');
  if (anchors !== undefined && !anchors.ok) return anchors;
  return ok(
    certificates.value.map((certificate) => {
      const others = certificates.value.filter((other) => other !== certificate);
      return describe(certificate, chainStatus(certificate, others, anchors?.value, options.now), options.now);
    }),
  );
}

function parse(pem: string, source: string, what: string): Result<ParsedCertificate[], CaMaterialError> {
  try {
    return ok(parseCertificates(pem));
  } catch (error) {
    return err(new CaMaterialError('malformed', source, `${messageOf(error)}; expected a PEM ${what}`));
  }
}

function describe(certificate: ParsedCertificate, chain: ChainStatus, now: number): CertificateInspection {
  const { x509, notBefore, notAfter } = certificate;
  const constraints = readOr(() => basicConstraintsOf(certificate), undefined);
  let names = emptyNames();
  try {
    names = subjectAltNamesOf(certificate);
  } catch (error) {
    names.other.push(`unreadable (${messageOf(error)})`);
  }
  return {
    subject: x509.subject,
    issuer: x509.issuer,
    serial: x509.serialNumber,
    dnsNames: names.dns,
    uris: names.uri,
    otherNames: [...names.ip.map((ip) => `IP:${ip}`), ...names.email.map((email) => `email:${email}`), ...names.other],
    notBefore,
    notAfter,
    validity: now < notBefore ? 'not-yet-valid' : now > notAfter ? 'expired' : 'valid',
    remainingMs: notAfter - now,
    keyAlgorithm: describeKey(certificate),
    isCa: constraints?.ca === true,
    ...(constraints?.pathLength === undefined ? {} : { pathLength: constraints.pathLength }),
    chain,
  };
}

function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

function chainStatus(
  certificate: ParsedCertificate,
  intermediates: readonly ParsedCertificate[],
  anchors: readonly ParsedCertificate[] | undefined,
  now: number,
): ChainStatus {
  if (anchors === undefined) return { status: 'not-checked', detail: 'no trust anchors given' };
  if (anchors.some((anchor) => Buffer.from(anchor.der).equals(certificate.der))) {
    return { status: 'trusted', detail: 'is one of the trust anchors' };
  }
  const problem = chainProblem(certificate, intermediates, anchors, now);
  return problem === undefined
    ? { status: 'trusted', detail: 'chains to the trust anchors' }
    : { status: 'untrusted', detail: problem };
}
