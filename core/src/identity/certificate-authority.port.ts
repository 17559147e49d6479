// CertificateAuthority port: signs a workload's leaf certificate for an identity that a TokenValidator has proven.
import type { Result } from '../shared/result.js';
import type { CertifyRefusal } from './certify-refusal.js';
import type { WorkloadIdentity } from './workload-identity.js';

export const CertificateAuthority = Symbol('CertificateAuthority');

export interface CertificationRequest {
  /** The DER-encoded PKCS#10 certificate signing request, made with the workload's own private key. */
  readonly csr: Uint8Array;
  /** The identity to certify, already proven by a TokenValidator; the CA does not check tokens. */
  readonly identity: WorkloadIdentity;
}

export interface IssuedCertificate {
  readonly leafPem: string;
  /** The issuer certificate(s) from the leaf's signer up towards the anchors; the leaf itself is not included. */
  readonly chainPem: readonly string[];
  /** Epoch milliseconds. */
  readonly notBefore: number;
  /** Epoch milliseconds. */
  readonly notAfter: number;
  readonly serial: string;
}

/**
 * What an adapter does on certify(), in this order:
 * 1. Parse the CSR; bytes over MAX_CSR_BYTES or that are not a CSR are refused as 'malformed-csr'.
 * 2. Verify the CSR's self-signature against the public key it carries, and read the facts of csr-rules.ts.
 * 3. Call admitCsr(facts, request.identity, request.identity) and refuse with its code when it fails
 *    (CertifyRefusal.fromCsrRefusal).
 * 4. Pick an issuer that is valid now and chains to trustAnchorsPem(); without one, refuse 'issuer-unavailable'.
 * 5. Sign a leaf built from a fixed template, never copying Subject or extensions from the CSR: the CSR's public
 *    key, validity leafValidity(clock.now()), the DNS SAN identityName() and the URI SAN spiffeUri() of the
 *    identity, a fresh unique serial. Return it with the issuer chain.
 */
export interface CertificateAuthority {
  certify(request: CertificationRequest): Promise<Result<IssuedCertificate, CertifyRefusal>>;
  /** The PEM bundle of trust anchors that every issued leaf chains to; workloads verify their peers with it. */
  trustAnchorsPem(): string;
}
