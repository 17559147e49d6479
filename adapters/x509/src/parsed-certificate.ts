// ParsedCertificate: one X.509 certificate read fast from its DER, with node:crypto for its key and signatures.
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { childrenOf, readTlv, type Tlv } from './der.js';
import { addGeneralNames, emptyNames, type SubjectAltNames } from './general-names.js';
import { X509Certificate } from './peculiar-x509.js';
import { pemBlocks, toPem } from './pem.js';

/** A certificate as DER bytes, as PEM text (one certificate or a bundle), or a list of those. */
export type CertificateInput = string | Uint8Array | readonly (string | Uint8Array)[];

/** The largest certificate read; a Weft certificate takes under 1 KiB, so this only stops absurd input early. */
export const MAX_CERTIFICATE_BYTES = 16 * 1_024;

export interface CertificateExtension {
  /** Dotted, e.g. "2.5.29.17". */
  readonly oid: string;
  readonly critical: boolean;
  /** The DER inside the extension's OCTET STRING. */
  readonly value: Uint8Array;
}

export interface ParsedCertificate {
  readonly der: Uint8Array;
  readonly node: NodeX509Certificate;
  /** Epoch milliseconds. */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly extensions: readonly CertificateExtension[];
  /** Normalised PEM (made on first use). */
  readonly pem: string;
  /** The @peculiar/x509 view, for subject, issuer and serial as text (made on first use). */
  readonly x509: X509Certificate;
}

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extendedKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** Key usage bits, as 1 << (their bit number in the KeyUsage BIT STRING). */
export const KEY_USAGE = { digitalSignature: 1, keyCertSign: 1 << 5, cRLSign: 1 << 6 } as const;

/**
 * Parses one DER certificate. Peers' leaves are parsed on every handshake, so the facts the checks need are read
 * from the DER directly; the @peculiar/x509 view, several times slower, is made only when names are wanted as text.
 * @throws Error if the bytes are not one certificate.
 */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  if (der.byteLength > MAX_CERTIFICATE_BYTES) {
    throw new Error(`a certificate of ${der.byteLength} bytes is over the ${MAX_CERTIFICATE_BYTES} bytes read`);
  }
  const node = new NodeX509Certificate(der);
  const { notBefore, notAfter, extensions } = readTbs(der);
  let pem: string | undefined;
  let x509: X509Certificate | undefined;
  return {
    der,
    node,
    notBefore,
    notAfter,
    extensions,
    get pem() {
      return (pem ??= toPem(der, 'CERTIFICATE'));
    },
    get x509() {
      return (x509 ??= new X509Certificate(der));
    },
  };
}

/** Every certificate in `input`, in order. @throws Error naming the problem if any is unreadable or none is there. */
export function parseCertificates(input: CertificateInput): ParsedCertificate[] {
  const items = typeof input === 'string' || input instanceof Uint8Array ? [input] : input;
  const ders = items.flatMap((item) => (typeof item === 'string' ? certificateBlocks(item) : [item]));
  if (ders.length === 0) throw new Error('holds no certificate');
  return ders.map((der, index) => {
    try {
      return parseCertificate(der);
    } catch (error) {
      throw new Error(`certificate ${index + 1} is not a readable X.509 certificate (${messageOf(error)})`);
    }
  });
}

function certificateBlocks(text: string): Uint8Array[] {
  const blocks = pemBlocks(text, 'CERTIFICATE');
  if (blocks.length === 0 && text.trim() !== '') throw new Error('is text without a "BEGIN CERTIFICATE" block');
  return blocks;
}

// Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version, serial, signature, issuer, validity, subject,
// subjectPublicKeyInfo, [1] issuerUID, [2] subjectUID, [3] extensions }, signatureAlgorithm, signature }.
function readTbs(der: Uint8Array): Pick<ParsedCertificate, 'notBefore' | 'notAfter' | 'extensions'> {
  const [tbs] = childrenOf(der, readTlv(der, 0));
  if (tbs === undefined) throw new Error('no tbsCertificate');
  const fields = childrenOf(der, tbs);
  const first = fields[0]?.tag === 0xa0 ? 1 : 0;
  const validity = fields[first + 3];
  if (validity === undefined) throw new Error('no validity');
  const [notBefore, notAfter] = childrenOf(der, validity);
  if (notBefore === undefined || notAfter === undefined) throw new Error('incomplete validity');
  const wrapper = fields.find((field) => field.tag === 0xa3);
  const list = wrapper === undefined ? undefined : childrenOf(der, wrapper)[0];
  return {
    notBefore: readTime(der, notBefore),
    notAfter: readTime(der, notAfter),
    extensions: list === undefined ? [] : childrenOf(der, list).map((extension) => readExtension(der, extension)),
  };
}

function readExtension(der: Uint8Array, extension: Tlv): CertificateExtension {
  const [type, second, third] = childrenOf(der, extension);
  const value = third ?? second;
  if (type === undefined || type.tag !== 0x06 || value === undefined || value.tag !== 0x04) {
    throw new Error('a malformed extension');
  }
  const critical = third !== undefined && second?.tag === 0x01 && der[second.start] !== 0;
  return { oid: dottedOid(der.subarray(type.start, type.end)), critical, value: der.subarray(value.start, value.end) };
}

function dottedOid(bytes: Uint8Array): string {
  const arcs: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  const [first = 0, ...rest] = arcs;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...rest].join('.');
}

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

// UTCTime YYMMDDHHMMSSZ (years 1950-2049) or GeneralizedTime YYYYMMDDHHMMSSZ.
function readTime(der: Uint8Array, time: Tlv): number {
  const text = Buffer.from(der.subarray(time.start, time.end)).toString('latin1');
  const pattern = time.tag === 0x17 ? UTC_TIME : time.tag === 0x18 ? GENERALIZED_TIME : undefined;
  const match = pattern?.exec(text);
  if (match === null || match === undefined) throw new Error(`an unreadable time ${JSON.stringify(text)}`);
  const [year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0] = match.slice(1).map(Number);
  const fullYear = time.tag === 0x17 ? (year < 50 ? 2000 + year : 1900 + year) : year;
  return Date.UTC(fullYear, month - 1, day, hour, minute, second);
}

/** The one extension of a type, or undefined; a second one of the same type is a malformed certificate. */
export function extensionOf(certificate: ParsedCertificate, oid: string): CertificateExtension | undefined {
  const found = certificate.extensions.filter((extension) => extension.oid === oid);
  if (found.length > 1) throw new Error(`the extension ${oid} appears ${found.length} times`);
  return found[0];
}

export interface BasicConstraints {
  readonly ca: boolean;
  readonly pathLength?: number;
}

/** The basic constraints, or undefined when absent (which means not a CA). */
export function basicConstraintsOf(certificate: ParsedCertificate): BasicConstraints | undefined {
  const extension = extensionOf(certificate, OID.basicConstraints);
  if (extension === undefined) return undefined;
  const { value } = extension;
  const fields = childrenOf(value, readTlv(value, 0));
  const ca = fields[0]?.tag === 0x01 && value[fields[0].start] !== 0;
  const length = fields.find((field) => field.tag === 0x02);
  if (length === undefined) return { ca };
  let pathLength = 0;
  for (const byte of value.subarray(length.start, length.end)) pathLength = pathLength * 256 + byte;
  return { ca, pathLength };
}

export interface KeyUsage {
  readonly critical: boolean;
  /** KEY_USAGE bits. */
  readonly flags: number;
}

export function keyUsageOf(certificate: ParsedCertificate): KeyUsage | undefined {
  const extension = extensionOf(certificate, OID.keyUsage);
  if (extension === undefined) return undefined;
  const bits = readTlv(extension.value, 0);
  let flags = 0;
  // Bit n of the BIT STRING (after its unused-bits byte) is bit 7 - (n % 8) of byte n / 8.
  extension.value.subarray(bits.start + 1, bits.end).forEach((byte, index) => {
    for (let bit = 0; bit < 8; bit++) if (byte & (0x80 >> bit)) flags |= 1 << (index * 8 + bit);
  });
  return { critical: extension.critical, flags };
}

/** The extended key usage OIDs, dotted; empty when the extension is absent. */
export function extendedKeyUsageOf(certificate: ParsedCertificate): string[] {
  const extension = extensionOf(certificate, OID.extendedKeyUsage);
  if (extension === undefined) return [];
  const { value } = extension;
  return childrenOf(value, readTlv(value, 0)).map((oid) => dottedOid(value.subarray(oid.start, oid.end)));
}

/** The subject alternative names. @throws Error if the extension is malformed or there twice. */
export function subjectAltNamesOf(certificate: ParsedCertificate): SubjectAltNames {
  const names = emptyNames();
  const extension = extensionOf(certificate, OID.subjectAltName);
  if (extension !== undefined) addGeneralNames(names, extension.value, readTlv(extension.value, 0));
  return names;
}

/** The subject key identifier, or undefined when the certificate has none. */
export function subjectKeyIdentifierOf(certificate: ParsedCertificate): Uint8Array | undefined {
  const extension = extensionOf(certificate, OID.subjectKeyIdentifier);
  if (extension === undefined) return undefined;
  const id = readTlv(extension.value, 0);
  return extension.value.subarray(id.start, id.end);
}

/** True when the certificate may sign other certificates: CA=true, and keyCertSign if it states its key usage. */
export function isCertificateAuthority(certificate: ParsedCertificate): boolean {
  try {
    const usage = keyUsageOf(certificate);
    const canSign = usage === undefined || (usage.flags & KEY_USAGE.keyCertSign) !== 0;
    return basicConstraintsOf(certificate)?.ca === true && canSign;
  } catch {
    return false;
  }
}

/** True when `now` (epoch ms) is within the certificate's validity, bounds included. */
export function validAt(certificate: ParsedCertificate, now: number): boolean {
  return certificate.notBefore <= now && now <= certificate.notAfter;
}

/** The key of a certificate in words, e.g. "ECDSA P-256", "RSA 2048", "Ed25519". */
export function describeKey(certificate: ParsedCertificate): string {
  const key = certificate.node.publicKey;
  const details = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case 'ec':
      return `ECDSA ${curveName(details?.namedCurve)}`;
    case 'rsa':
    case 'rsa-pss':
      return `RSA ${details?.modulusLength ?? ''}`.trim();
    case 'ed25519':
      return 'Ed25519';
    default:
      return key.asymmetricKeyType ?? 'unknown';
  }
}

/** True for an ECDSA key on P-256, the only key Weft workloads and issuers use. */
export function hasP256Key(certificate: ParsedCertificate): boolean {
  const key = certificate.node.publicKey;
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

/** "P-256" for OpenSSL's "prime256v1", and so on. */
function curveName(curve: string | undefined): string {
  const names: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
  return curve === undefined ? 'on an unnamed curve' : (names[curve] ?? curve);
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An instant in ISO 8601, for messages. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
