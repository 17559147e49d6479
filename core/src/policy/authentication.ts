// NetworkAuthentication and MeshTLSAuthentication: who a client must be, by address or by mesh identity.
import { cidrContains, cidrIncludes, parseCidr, type Cidr, type IpAddress } from './cidr.js';
import type { IdentityPattern } from './identity-pattern.js';
import { unwrap } from '../shared/result.js';

/** A network admitted by address: the block minus the sub-blocks in `except`. */
export interface AuthorizedNetwork {
  readonly cidr: Cidr;
  readonly except: readonly Cidr[];
}

/** Clients admitted by source address. A resource with no networks admits nobody. */
export interface NetworkAuthentication {
  readonly name: string;
  readonly namespace: string;
  readonly networks: readonly AuthorizedNetwork[];
}

/** Identities given by reference: one service account, or every service account of a namespace. */
export type MeshTlsIdentityRef =
  | { readonly kind: 'ServiceAccount'; readonly name: string; readonly namespace?: string }
  | { readonly kind: 'Namespace'; readonly name: string };

/** Clients admitted by verified mesh identity; a client without one (no mTLS) is never admitted. */
export interface MeshTlsAuthentication {
  readonly name: string;
  readonly namespace: string;
  readonly identities: readonly IdentityPattern[];
  /** Resolved to identity names with the mesh's trust domain when a policy is compiled. */
  readonly identityRefs?: readonly MeshTlsIdentityRef[];
}

/** Every IPv4 and IPv6 address: 0.0.0.0/0 and ::/0. */
export const allNetworks: readonly AuthorizedNetwork[] = [
  { cidr: unwrap(parseCidr('0.0.0.0/0')), except: [] },
  { cidr: unwrap(parseCidr('::/0')), except: [] },
];

/** True when `ip` is in one of the networks and in none of that network's exceptions. */
export function networkMatches(
  auth: { readonly networks: readonly AuthorizedNetwork[] },
  ip: string | IpAddress,
): boolean {
  return auth.networks.some(
    (network) => cidrContains(network.cidr, ip) && !network.except.some((except) => cidrContains(except, ip)),
  );
}

/**
 * The networks admitting exactly the addresses admitted by both lists (used when a policy requires several
 * NetworkAuthentications). Two CIDR blocks are either nested or disjoint, so each pair meets in the smaller
 * block, keeping the exceptions of both, or not at all.
 */
export function intersectAuthorizedNetworks(
  a: readonly AuthorizedNetwork[],
  b: readonly AuthorizedNetwork[],
): AuthorizedNetwork[] {
  const result: AuthorizedNetwork[] = [];
  for (const left of a) {
    for (const right of b) {
      const both = intersectTwo(left, right);
      if (both !== undefined) result.push(both);
    }
  }
  return result;
}

function intersectTwo(a: AuthorizedNetwork, b: AuthorizedNetwork): AuthorizedNetwork | undefined {
  const [inner, outer] = cidrIncludes(a.cidr, b.cidr) ? [b, a] : [a, b];
  if (!cidrIncludes(outer.cidr, inner.cidr)) return undefined;
  // An exception of the outer block that covers the whole inner block leaves nothing.
  if (outer.except.some((except) => cidrIncludes(except, inner.cidr))) return undefined;
  const except = [...inner.except, ...outer.except.filter((e) => cidrIncludes(inner.cidr, e))];
  return { cidr: inner.cidr, except };
}
