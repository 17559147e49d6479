// CSR admission: the rules a certificate signing request must pass before the CA signs a workload's leaf.
import { InvalidInputError } from '../shared/invalid-input-error.js';
import { err, ok, type Result } from '../shared/result.js';
import { identityName, sameIdentity, spiffeUri, type WorkloadIdentity } from './workload-identity.js';

/** The largest CSR a CA reads; a P-256 CSR with two SANs takes about 400 bytes. Larger ones are malformed. */
export const MAX_CSR_BYTES = 4_096;

/** Why a CSR was refused, in the order admitCsr checks them. */
export const CSR_REFUSAL_CODES = [
  'bad-signature',
  'unsupported-key',
  'identity-not-proven',
  'san-mismatch',
  'forbidden-san',
] as const;

export type CsrRefusalCode = (typeof CSR_REFUSAL_CODES)[number];

export type CsrKeyAlgorithm = 'ECDSA' | 'RSA' | 'Ed25519' | 'other';

/** What an adapter reads out of a CSR, whatever its encoding; admitCsr decides on these facts alone. */
export interface CsrFacts {
  /** The CSR's self-signature verifies with the public key it carries (proof of possession of the private key). */
  readonly signatureValid: boolean;
  readonly keyAlgorithm: CsrKeyAlgorithm;
  /** The curve of an ECDSA key, e.g. "P-256". */
  readonly namedCurve?: string;
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly emailAddresses: readonly string[];
}

/** A refused CSR: `code` says which rule failed, `input` is the offending value, the message says what to do. */
export class CsrRefusal extends InvalidInputError {
  readonly kind = 'CSR';

  constructor(
    readonly code: CsrRefusalCode,
    input: string,
    reason: string,
  ) {
    super(input, reason);
  }
}

/**
 * Admits a CSR for `requested` when: its signature is valid, its key is ECDSA P-256, `requested` is the identity
 * the workload's token proves (`proven`), it carries exactly the requested identity name and/or exactly its SPIFFE
 * URI and nothing else, and it has no IP or email SANs. The first rule that fails, in that order, is reported.
 */
export function admitCsr(
  facts: CsrFacts,
  requested: WorkloadIdentity,
  proven: WorkloadIdentity,
): Result<void, CsrRefusal> {
  const refusal =
    signatureRefusal(facts, requested) ??
    keyRefusal(facts) ??
    proofRefusal(requested, proven) ??
    sanRefusal(facts, requested) ??
    forbiddenSanRefusal(facts);
  return refusal === undefined ? ok(undefined) : err(refusal);
}

function signatureRefusal(facts: CsrFacts, requested: WorkloadIdentity): CsrRefusal | undefined {
  if (facts.signatureValid) return undefined;
  return new CsrRefusal(
    'bad-signature',
    identityName(requested),
    "the CSR's signature does not verify with the public key it carries, so it proves no possession of the " +
      'private key; sign the CSR with the key it carries',
  );
}

function keyRefusal(facts: CsrFacts): CsrRefusal | undefined {
  if (facts.keyAlgorithm === 'ECDSA' && facts.namedCurve === 'P-256') return undefined;
  const curve = facts.namedCurve ?? 'on an unnamed curve';
  const key = facts.keyAlgorithm === 'ECDSA' ? `ECDSA ${curve}` : facts.keyAlgorithm;
  return new CsrRefusal(
    'unsupported-key',
    key,
    'is not a supported key; workload keys are ECDSA on curve P-256, generate one of those',
  );
}

function proofRefusal(requested: WorkloadIdentity, proven: WorkloadIdentity): CsrRefusal | undefined {
  if (sameIdentity(requested, proven)) return undefined;
  return new CsrRefusal(
    'identity-not-proven',
    identityName(requested),
    `is not the identity the workload's token proves (${identityName(proven)}); ` +
      "request a certificate for the workload's own service account",
  );
}

// The CSR names the identity with the DNS-like name, the SPIFFE URI or both, each once, and nothing else.
function sanRefusal(facts: CsrFacts, requested: WorkloadIdentity): CsrRefusal | undefined {
  const name = identityName(requested);
  const uri = spiffeUri(requested);
  const refusal = onlyOnce(facts.dnsNames, name, 'DNS') ?? onlyOnce(facts.uris, uri, 'URI');
  if (refusal !== undefined) return refusal;
  if (facts.dnsNames.length > 0 || facts.uris.length > 0) return undefined;
  return new CsrRefusal(
    'san-mismatch',
    name,
    `is requested but the CSR carries no DNS or URI SAN; add the DNS SAN "${name}" and/or the URI SAN "${uri}"`,
  );
}

function onlyOnce(values: readonly string[], expected: string, type: 'DNS' | 'URI'): CsrRefusal | undefined {
  const other = values.find((value) => value !== expected);
  if (other !== undefined) {
    return new CsrRefusal(
      'san-mismatch',
      other,
      `is not the requested identity; the only ${type} SAN allowed is "${expected}", remove the others`,
    );
  }
  if (values.length <= 1) return undefined;
  return new CsrRefusal(
    'san-mismatch',
    expected,
    `appears ${values.length} times as a ${type} SAN; put it in the CSR once`,
  );
}

function forbiddenSanRefusal(facts: CsrFacts): CsrRefusal | undefined {
  const [ip] = facts.ipAddresses;
  const [email] = facts.emailAddresses;
  const [value, type] = ip !== undefined ? [ip, 'an IP address'] : [email, 'an email address'];
  if (value === undefined) return undefined;
  return new CsrRefusal(
    'forbidden-san',
    value,
    `is ${type} SAN; workload certificates carry only the identity name and SPIFFE URI, remove it`,
  );
}
