// Path validation: does a certificate chain up to one of the trust anchors, through CA certificates valid now?
import {
  basicConstraintsOf,
  isCertificateAuthority,
  iso,
  parseCertificates,
  type ParsedCertificate,
  validAt,
} from './parsed-certificate.js';

/** The most intermediates between a leaf and its anchor that are followed; Weft uses one. */
const MAX_INTERMEDIATES = 4;

/** A parsed bundle of trust anchors. */
export interface TrustAnchorSet {
  readonly pem: string;
  readonly certificates: readonly ParsedCertificate[];
}

let lastAnchors: TrustAnchorSet | undefined;

/**
 * Parses a PEM bundle of trust anchors; the last bundle parsed is remembered, so calling this on every handshake
 * with the same text costs nothing. @throws Error if the text holds no readable certificate.
 */
export function trustAnchorSet(anchors: string | TrustAnchorSet): TrustAnchorSet {
  if (typeof anchors !== 'string') return anchors;
  if (lastAnchors?.pem === anchors) return lastAnchors;
  lastAnchors = { pem: anchors, certificates: parseCertificates(anchors) };
  return lastAnchors;
}

/** True when `child` names `parent` as its issuer and `parent`'s key verifies `child`'s signature. */
export function signedBy(child: ParsedCertificate, parent: ParsedCertificate): boolean {
  try {
    return child.node.checkIssued(parent.node) && child.node.verify(parent.node.publicKey);
  } catch {
    return false;
  }
}

/**
 * Why `certificate` does not chain to `anchors` at `now`, through `intermediates` (in any order), or undefined
 * when it does. Each intermediate must be a CA valid at `now` whose path length allows the certificates below it;
 * the anchor must be a CA valid at `now`.
 */
export function chainProblem(
  certificate: ParsedCertificate,
  intermediates: readonly ParsedCertificate[],
  anchors: readonly ParsedCertificate[],
  now: number,
): string | undefined {
  let current = certificate;
  const used = new Set<ParsedCertificate>();
  for (let below = 0; below <= MAX_INTERMEDIATES; below++) {
    const anchor = anchors.find((candidate) => signedBy(current, candidate));
    if (anchor !== undefined) return signerProblem(anchor, 'trust anchor', below, now);
    const next = intermediates.find((candidate) => !used.has(candidate) && signedBy(current, candidate));
    if (next === undefined) {
      return `"${current.x509.subject || '(empty subject)'}" was not signed by any trust anchor` +
        (intermediates.length > used.size ? ' nor by the other certificates of the chain' : '') +
        ` (its issuer is "${current.x509.issuer}"); it belongs to another CA`;
    }
    const problem = signerProblem(next, 'intermediate', below, now);
    if (problem !== undefined) return problem;
    used.add(next);
    current = next;
  }
  return `the chain has more than ${MAX_INTERMEDIATES} intermediates`;
}

// `below` counts the intermediates between this signer and the leaf.
function signerProblem(signer: ParsedCertificate, role: string, below: number, now: number): string | undefined {
  // The name is read (a slower parse) only to explain a failure.
  const name = () => `${role} "${signer.x509.subject}"`;
  if (!isCertificateAuthority(signer)) return `${name()} is not a CA certificate (CA=true with keyCertSign)`;
  if (now < signer.notBefore) return `${name()} is not valid before ${iso(signer.notBefore)}`;
  if (!validAt(signer, now)) return `${name()} expired at ${iso(signer.notAfter)}`;
  const pathLength = basicConstraintsOf(signer)?.pathLength;
  if (pathLength !== undefined && pathLength < below) {
    return `${name()} allows ${pathLength} intermediates below it, but ${below} are there`;
  }
  return undefined;
}
