// InMemoryCertificateAuthority: a CA without X.509 that applies the real CSR rules and issues JSON "certificates".
import {
  admitCsr,
  type CertificateAuthority,
  type CertificationRequest,
  CertifyRefusal,
  Clock,
  type CsrFacts,
  type CsrKeyAlgorithm,
  err,
  identityName,
  type IssuedCertificate,
  leafValidity,
  MAX_CSR_BYTES,
  ok,
  type Result,
  spiffeUri,
  type WorkloadIdentity,
} from '@weft/core';
import { inject, injectable } from 'inversify';

/*
 * The memory CSR encoding: the bytes of a CSR are the UTF-8 JSON of a CsrFacts object, with exactly its keys,
 * e.g. {"signatureValid":true,"keyAlgorithm":"ECDSA","namedCurve":"P-256","dnsNames":["web.ns.serviceaccount
 * .identity.weft.cluster.local"],"uris":[],"ipAddresses":[],"emailAddresses":[]}. A "tampered" CSR is one with
 * signatureValid false. Anything else is a malformed CSR.
 */

/** The memory CSR encoding of `facts`, for tests and flows that talk to an InMemoryCertificateAuthority. */
export function encodeMemoryCsr(facts: CsrFacts): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(facts));
}

/**
 * The memory CSR a well-behaved workload sends for `identity`: a valid signature, an ECDSA P-256 key, the identity
 * name as the only DNS SAN and its SPIFFE URI as the only URI SAN. `overrides` replace any of those facts.
 */
export function memoryCsrFor(identity: WorkloadIdentity, overrides: Partial<CsrFacts> = {}): Uint8Array {
  return encodeMemoryCsr({
    signatureValid: true,
    keyAlgorithm: 'ECDSA',
    namedCurve: 'P-256',
    dnsNames: [identityName(identity)],
    uris: [spiffeUri(identity)],
    ipAddresses: [],
    emailAddresses: [],
    ...overrides,
  });
}

/** The facts of a memory CSR, or why the bytes are not one. */
export function decodeMemoryCsr(csr: Uint8Array): Result<CsrFacts, string> {
  if (csr.byteLength > MAX_CSR_BYTES) return err(`is ${csr.byteLength} bytes; a CSR has at most ${MAX_CSR_BYTES}`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(csr));
  } catch {
    return err('is not the UTF-8 JSON of a memory CSR');
  }
  return isCsrFacts(value) ? ok(value) : err('is JSON but not a memory CSR (a CsrFacts object with exactly its keys)');
}

const PEM_LABEL = 'WEFT MEMORY CERTIFICATE';
const memoryPem = new RegExp(`^-----BEGIN ${PEM_LABEL}-----\\n([A-Za-z0-9+/=\\n]+)-----END ${PEM_LABEL}-----\\n?$`);

/** The JSON inside the PEM armour of every certificate an InMemoryCertificateAuthority hands out. */
export interface MemoryCertificate {
  readonly role: 'trust-anchor' | 'issuer' | 'leaf';
  readonly serial: string;
  readonly subject: string;
  /** The serial of the certificate that signed this one; a trust anchor signs itself. */
  readonly issuerSerial: string;
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
  readonly notBefore: number;
  readonly notAfter: number;
}

/** Reads back a certificate written by an InMemoryCertificateAuthority, or undefined if `pem` is not one. */
export function readMemoryCertificate(pem: string): MemoryCertificate | undefined {
  const match = memoryPem.exec(pem);
  if (match === null) return undefined;
  try {
    return JSON.parse(Buffer.from(match[1] ?? '', 'base64').toString('utf8')) as MemoryCertificate;
  } catch {
    return undefined;
  }
}

// Far enough: the last instant a JavaScript Date can hold.
const FOREVER_MS = 8_640_000_000_000_000;

@injectable()
export class InMemoryCertificateAuthority implements CertificateAuthority {
  private lastSerial = 0n;
  private readonly anchor: MemoryCertificate;
  private issuer: MemoryCertificate | undefined;

  constructor(@inject(Clock) private readonly clock: Clock) {
    this.anchor = this.sign('trust-anchor', 'Weft memory trust anchor', undefined);
    this.issuer = this.sign('issuer', 'Weft memory issuer', this.anchor);
  }

  /** Unloads the issuer (false), or loads a fresh one signed by the same anchor unless a valid one is loaded (true). */
  setIssuerAvailable(on: boolean): void {
    if (!on) this.issuer = undefined;
    else if (this.issuer === undefined || this.clock.now() >= this.issuer.notAfter) {
      this.issuer = this.sign('issuer', 'Weft memory issuer', this.anchor);
    }
  }

  /** Makes the current issuer expire at epoch ms `atMs`, after which certify() refuses 'issuer-unavailable'. */
  expireIssuerAt(atMs: number): void {
    if (this.issuer !== undefined) this.issuer = { ...this.issuer, notAfter: atMs };
  }

  async certify(request: CertificationRequest): Promise<Result<IssuedCertificate, CertifyRefusal>> {
    const facts = decodeMemoryCsr(request.csr);
    if (!facts.ok) return err(new CertifyRefusal('malformed-csr', `the CSR ${facts.error}`));
    const admitted = admitCsr(facts.value, request.identity, request.identity);
    if (!admitted.ok) return err(CertifyRefusal.fromCsrRefusal(admitted.error));
    const now = this.clock.now();
    const issuer = this.issuer;
    if (issuer === undefined) return err(new CertifyRefusal('issuer-unavailable', 'no issuer is loaded; load one'));
    if (now >= issuer.notAfter) {
      const at = new Date(issuer.notAfter).toISOString();
      return err(new CertifyRefusal('issuer-unavailable', `the issuer expired at ${at}; load a new one`));
    }
    const leaf = this.sign('leaf', identityName(request.identity), issuer, {
      dnsNames: [identityName(request.identity)],
      uris: [spiffeUri(request.identity)],
      ...leafValidity(now),
    });
    return ok({
      leafPem: armour(leaf),
      chainPem: [armour(issuer)],
      notBefore: leaf.notBefore,
      notAfter: leaf.notAfter,
      serial: leaf.serial,
    });
  }

  trustAnchorsPem(): string {
    return armour(this.anchor);
  }

  // Builds a certificate with the next serial; without `details` it is a CA certificate valid from now on.
  private sign(
    role: MemoryCertificate['role'],
    subject: string,
    signer: MemoryCertificate | undefined,
    details: Pick<MemoryCertificate, 'dnsNames' | 'uris' | 'notBefore' | 'notAfter'> = {
      dnsNames: [],
      uris: [],
      notBefore: this.clock.now(),
      notAfter: FOREVER_MS,
    },
  ): MemoryCertificate {
    this.lastSerial += 1n;
    const serial = this.lastSerial.toString(16).padStart(16, '0');
    return { role, serial, subject, issuerSerial: signer?.serial ?? serial, ...details };
  }
}

function armour(certificate: MemoryCertificate): string {
  const body = Buffer.from(JSON.stringify(certificate), 'utf8').toString('base64');
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${PEM_LABEL}-----\n${lines.join('\n')}\n-----END ${PEM_LABEL}-----\n`;
}

const keyAlgorithms: readonly CsrKeyAlgorithm[] = ['ECDSA', 'RSA', 'Ed25519', 'other'];
const listKeys = ['dnsNames', 'uris', 'ipAddresses', 'emailAddresses'] as const;
const allowedKeys = new Set<string>(['signatureValid', 'keyAlgorithm', 'namedCurve', ...listKeys]);

function isCsrFacts(value: unknown): value is CsrFacts {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return (
    Object.keys(record).every((key) => allowedKeys.has(key)) &&
    typeof record['signatureValid'] === 'boolean' &&
    keyAlgorithms.includes(record['keyAlgorithm'] as CsrKeyAlgorithm) &&
    (record['namedCurve'] === undefined || typeof record['namedCurve'] === 'string') &&
    listKeys.every((key) => isStringList(record[key]))
  );
}

function isStringList(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
