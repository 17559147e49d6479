// Mesh leaf checks: the SPIFFE workload-leaf rules (verifyWorkloadLeaf) run on a peer's certificate after each handshake.
import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls';
import { err, identityName, ok, parseSpiffeUri, type Result } from '@weft/core';
import type { ProxyCredentials } from '../identity/proxy-credentials.js';
import { loadedX509Rules } from '../identity/x509-rules.js';

/** Who the peer proved to be: its DNS-like identity name. */
export interface MeshPeerIdentity {
  readonly identityName: string;
}

/**
 * A peer leaf that must not be accepted; `reason` says which rule it broke. On the client side the connection's
 * error carries `code` WEFT_PEER_CERTIFICATE_REFUSED, and `refusal` the LeafRefusal code ('expired', 'uri-san'...).
 */
export class MeshLeafRefusal extends Error {
  override readonly name = 'MeshLeafRefusal';
  readonly code = 'WEFT_PEER_CERTIFICATE_REFUSED';

  constructor(
    readonly refusal: string,
    readonly reason: string,
  ) {
    super(`the peer's certificate is not an acceptable mesh workload certificate (${refusal}): ${reason}`);
  }
}

/**
 * Checks the server's chain (leaf first, as the client side reports it) against the mesh anchors and the SPIFFE leaf
 * rules, and that it is exactly `expected`, the identity discovery named.
 */
export function verifyServerLeaf(
  chainPem: readonly string[],
  credentials: ProxyCredentials,
  expected: string,
  nowMs: number,
): Result<MeshPeerIdentity, MeshLeafRefusal> {
  const verified = loadedX509Rules().verifyWorkloadLeaf(chainPem, credentials.trustAnchorsPem, { identityName: expected }, nowMs);
  if (!verified.ok) return err(new MeshLeafRefusal(verified.error.code, verified.error.message));
  return ok({ identityName: verified.value.identityName });
}

/**
 * Checks a client's leaf and reads its identity. Node reports only the leaf on the server side, not the intermediates
 * the client sent, so the path is checked through this proxy's own intermediates. A client whose issuer is not ours
 * (during an issuer rotation) then gets 'untrusted', which verifyWorkloadLeaf reports only once every leaf rule and
 * the validity dates have passed; as the handshake itself (requestCert + rejectUnauthorized, `authorized`) already
 * validated the client's path against the same anchors, that one refusal is overruled and the identity read from
 * the leaf's SPIFFE ID.
 */
export function verifyClientLeaf(
  leafPem: string | undefined,
  authorizedByTls: boolean,
  credentials: ProxyCredentials,
  nowMs: number,
): Result<MeshPeerIdentity, MeshLeafRefusal> {
  if (leafPem === undefined || !authorizedByTls) return err(new MeshLeafRefusal('untrusted', 'the client presented no certificate the handshake accepted'));
  const chain = [leafPem, ...intermediatesOf(credentials.certificateChainPem)];
  const verified = loadedX509Rules().verifyWorkloadLeaf(chain, credentials.trustAnchorsPem, undefined, nowMs);
  if (verified.ok) return ok({ identityName: verified.value.identityName });
  if (verified.error.code !== 'untrusted') return err(new MeshLeafRefusal(verified.error.code, verified.error.message));
  const identity = spiffeIdentityOf(leafPem);
  return identity === undefined ? err(new MeshLeafRefusal('uri-san', 'the leaf names no workload SPIFFE ID')) : ok({ identityName: identity });
}

/**
 * The peer's chain as PEM, leaf first, from a client-side getPeerCertificate(true): the chain up to the anchor,
 * which is left out (the handshake matched it to ours).
 */
export function peerChainPem(certificate: PeerCertificate): string[] {
  const chain: string[] = [];
  let current: Partial<DetailedPeerCertificate> | undefined = certificate;
  while (current?.raw !== undefined && chain.length < 16) {
    const issuer: Partial<DetailedPeerCertificate> | undefined = current.issuerCertificate;
    // A self-issued certificate names itself as its issuer: that is the anchor.
    if (issuer === current && chain.length > 0) break;
    chain.push(new X509Certificate(current.raw).toString());
    if (issuer === current || issuer === undefined) break;
    current = issuer;
  }
  return chain;
}

/** The certificates after the leaf in a PEM chain. */
function intermediatesOf(chainPem: string): string[] {
  const blocks = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.slice(1);
}

/** The identity name of a leaf's single SPIFFE URI SAN (verifyWorkloadLeaf has already checked the SANs' shape). */
function spiffeIdentityOf(leafPem: string): string | undefined {
  const uris = (new X509Certificate(leafPem).subjectAltName ?? '').split(', ').filter((name) => name.startsWith('URI:'));
  const [uri] = uris;
  if (uri === undefined || uris.length !== 1) return undefined;
  const parsed = parseSpiffeUri(uri.slice('URI:'.length));
  return parsed.ok ? identityName(parsed.value) : undefined;
}
