// verifyWorkloadLeaf: the X.509-SVID checks a proxy makes on its peer's leaf after each TLS handshake.
import {
  err,
  identityName,
  ok,
  parseSpiffeUri,
  type Result,
  spiffeUri,
  type WorkloadIdentity,
} from '@weft/core';
import { chainProblem, type TrustAnchorSet, trustAnchorSet } from './certificate-chain.js';
import { LeafRefusal } from './leaf-refusal.js';
import {
  basicConstraintsOf,
  type CertificateInput,
  describeKey,
  extendedKeyUsageOf,
  hasP256Key,
  iso,
  KEY_USAGE,
  keyUsageOf,
  messageOf,
  OID,
  parseCertificates,
  type ParsedCertificate,
  subjectAltNamesOf,
} from './parsed-certificate.js';

/** The identity a leaf proves. */
export interface VerifiedWorkloadLeaf {
  readonly identity: WorkloadIdentity;
  /** The DNS-like name, e.g. `web.shop.serviceaccount.identity.weft.cluster.local`. */
  readonly identityName: string;
  readonly spiffeUri: string;
  /** Epoch milliseconds. */
  readonly notAfter: number;
}

/** What the peer must be; left out, any workload of the trust anchors is accepted. */
export interface ExpectedWorkload {
  readonly identityName: string;
}

/**
 * Checks a peer's certificate chain (leaf first, then the intermediates it sent; PEM text, DER bytes or a list of
 * either) the way SPIFFE's X.509-SVID rules ask, on top of what TLS already did:
 * CA=false; an ECDSA P-256 key; key usage present, critical, with digitalSignature and without keyCertSign or
 * cRLSign; extended key usage with serverAuth and clientAuth; exactly one URI SAN, a workload SPIFFE ID; exactly one
 * DNS SAN, the identity name of that SPIFFE ID; no other SAN; valid at `now` (epoch ms); signed through CA
 * certificates valid at `now` by one of `trustAnchors`; and, when given, the `expected` identity.
 *
 * Synchronous (node:crypto verifies the signatures), so it fits in node:tls's `checkServerIdentity` too.
 */
export function verifyWorkloadLeaf(
  chain: CertificateInput,
  trustAnchors: string | TrustAnchorSet,
  expected: ExpectedWorkload | undefined,
  now: number,
): Result<VerifiedWorkloadLeaf, LeafRefusal> {
  let leaf: ParsedCertificate;
  let intermediates: ParsedCertificate[];
  let anchors: TrustAnchorSet;
  try {
    [leaf, ...intermediates] = parseCertificates(chain) as [ParsedCertificate, ...ParsedCertificate[]];
  } catch (error) {
    const reason = `${messageOf(error)}; expected an X.509 certificate chain, leaf first`;
    return err(new LeafRefusal('malformed', 'peer certificate', reason));
  }
  try {
    anchors = trustAnchorSet(trustAnchors);
  } catch (error) {
    const reason = `${messageOf(error)}; configure a PEM bundle of trust anchors`;
    return err(new LeafRefusal('untrusted', 'trust anchors', reason));
  }
  let refusal: LeafRefusal | undefined;
  try {
    refusal = shapeRefusal(leaf);
  } catch (error) {
    refusal = new LeafRefusal('malformed', 'peer certificate', `${messageOf(error)}; expected a workload leaf`);
  }
  if (refusal !== undefined) return err(refusal);
  const identity = identityOf(leaf);
  if (!identity.ok) return identity;
  const later =
    timeRefusal(leaf, now) ??
    trustRefusal(leaf, intermediates, anchors, now) ??
    expectationRefusal(identity.value, expected);
  if (later !== undefined) return err(later);
  const proven = identity.value;
  return ok({
    identity: proven,
    identityName: identityName(proven),
    spiffeUri: spiffeUri(proven),
    notAfter: leaf.notAfter,
  });
}

// CA flag, key, key usage and extended key usage.
function shapeRefusal(leaf: ParsedCertificate): LeafRefusal | undefined {
  if (basicConstraintsOf(leaf)?.ca === true) {
    const reason = 'is set in basic constraints: a CA certificate is not a workload leaf; present the workload\'s leaf';
    return new LeafRefusal('ca-certificate', 'CA=true', reason);
  }
  if (!hasP256Key(leaf)) {
    const reason = 'is not an accepted key; workload certificates carry ECDSA P-256 keys';
    return new LeafRefusal('unsupported-key', describeKey(leaf), reason);
  }
  return keyUsageRefusal(leaf) ?? extendedKeyUsageRefusal(leaf);
}

function keyUsageRefusal(leaf: ParsedCertificate): LeafRefusal | undefined {
  const usage = keyUsageOf(leaf);
  if (usage === undefined) {
    const reason = 'a workload leaf carries a critical key usage with digitalSignature';
    return new LeafRefusal('key-usage', 'no key usage', reason);
  }
  const { flags } = usage;
  const signs = (flags & KEY_USAGE.digitalSignature) !== 0;
  const certifies = (flags & (KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign)) !== 0;
  if (!usage.critical || !signs || certifies) {
    return new LeafRefusal(
      'key-usage',
      `${usage.critical ? 'critical' : 'non-critical'} key usage ${flags}`,
      'is wrong: a workload leaf has a critical key usage with digitalSignature and without keyCertSign or cRLSign',
    );
  }
  return undefined;
}

function extendedKeyUsageRefusal(leaf: ParsedCertificate): LeafRefusal | undefined {
  const usages = extendedKeyUsageOf(leaf);
  if (usages.includes(OID.serverAuth) && usages.includes(OID.clientAuth)) return undefined;
  return new LeafRefusal(
    'extended-key-usage',
    usages.join(',') || 'no extended key usage',
    'lacks serverAuth or clientAuth; a workload leaf serves and connects, so it carries both',
  );
}

// Exactly one URI SAN, a workload SPIFFE ID; exactly one DNS SAN, its identity name; nothing else.
function identityOf(leaf: ParsedCertificate): Result<WorkloadIdentity, LeafRefusal> {
  let names;
  try {
    names = subjectAltNamesOf(leaf);
  } catch (error) {
    const reason = `${messageOf(error)}; a workload leaf has one URI and one DNS SAN only`;
    return err(new LeafRefusal('forbidden-san', 'subject alternative name', reason));
  }
  const [uri, ...moreUris] = names.uri;
  if (uri === undefined || moreUris.length > 0) {
    const reason = `is ${names.uri.length} URI SANs; a workload leaf has exactly one, its SPIFFE ID`;
    return err(new LeafRefusal('uri-san', names.uri.join(', '), reason));
  }
  const parsed = parseSpiffeUri(uri);
  if (!parsed.ok) return err(new LeafRefusal('uri-san', uri, `is not a workload SPIFFE ID: ${parsed.error.reason}`));
  const name = identityName(parsed.value);
  if (names.dns.length !== 1 || names.dns[0] !== name) {
    const reason = `should be exactly the identity name "${name}" of the SPIFFE ID ${uri}`;
    return err(new LeafRefusal('dns-san', names.dns.join(', '), reason));
  }
  const others = [...names.ip.map((ip) => `IP:${ip}`), ...names.email.map((email) => `email:${email}`), ...names.other];
  if (others.length > 0) {
    const reason = 'is not allowed; a workload leaf has one URI and one DNS SAN only';
    return err(new LeafRefusal('forbidden-san', others.join(', '), reason));
  }
  return ok(parsed.value);
}

function timeRefusal(leaf: ParsedCertificate, now: number): LeafRefusal | undefined {
  if (now < leaf.notBefore) {
    const reason = `is when the certificate becomes valid; it is now ${iso(now)}, check the clocks`;
    return new LeafRefusal('not-yet-valid', iso(leaf.notBefore), reason);
  }
  if (now > leaf.notAfter) {
    const reason = `is when the certificate expired; it is now ${iso(now)}, the peer must renew it`;
    return new LeafRefusal('expired', iso(leaf.notAfter), reason);
  }
  return undefined;
}

function trustRefusal(
  leaf: ParsedCertificate,
  intermediates: readonly ParsedCertificate[],
  anchors: TrustAnchorSet,
  now: number,
): LeafRefusal | undefined {
  const problem = chainProblem(leaf, intermediates, anchors.certificates, now);
  if (problem === undefined) return undefined;
  return new LeafRefusal('untrusted', leaf.x509.issuer, `does not chain to the trust anchors: ${problem}`);
}

function expectationRefusal(
  identity: WorkloadIdentity,
  expected: ExpectedWorkload | undefined,
): LeafRefusal | undefined {
  const name = identityName(identity);
  if (expected === undefined || expected.identityName === name) return undefined;
  const reason = `is the peer's identity, but "${expected.identityName}" was expected`;
  return new LeafRefusal('identity-mismatch', name, reason);
}
