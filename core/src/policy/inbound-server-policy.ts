// InboundServerPolicy: the compiled policy of one workload port, as delivered to its proxy, and the default one.
import type { AuthorizedNetwork } from './authentication.js';
import type { Cidr } from './cidr.js';
import { defaultClusterNetworks, defaultPolicyAuthorizations, type DefaultPolicy } from './default-policy.js';
import type { IdentityPattern } from './identity-pattern.js';
import type { PolicyProxyProtocol } from './server.js';
import type { HttpRouteMatch } from '../routing/http-route.js';

/** What a client must prove: nothing, or a verified mesh identity matching one of the patterns. */
export type InboundAuthentication =
  | { readonly kind: 'unauthenticated' }
  | { readonly kind: 'meshTLS'; readonly identities: readonly IdentityPattern[] };

/** One rule admitting clients by address and authentication, named after where it came from. */
export interface InboundAuthorization {
  /** The AuthorizationPolicy's name, or the default policy's name ("all-unauthenticated"...). */
  readonly name: string;
  readonly kind: 'AuthorizationPolicy' | 'default';
  /** Client networks admitted; empty means any address (compiled policies always list them explicitly). */
  readonly networks: readonly AuthorizedNetwork[];
  readonly authentication: InboundAuthentication;
}

/** A route of the Server with the authorizations that apply to its requests in addition to the Server's. */
export interface InboundHttpRoute {
  readonly name: string;
  /** The route applies when any match holds; no matches means every request. */
  readonly matches: readonly HttpRouteMatch[];
  readonly authorizations: readonly InboundAuthorization[];
}

/**
 * Everything a proxy needs to admit or refuse traffic on one port. A policy with no authorizations (and no
 * route authorizations) refuses everything, unless `audit` is set: then nothing is refused and every decision
 * is marked as audit.
 */
export interface InboundServerPolicy {
  readonly port: number;
  readonly protocol: PolicyProxyProtocol;
  /** The Server resource that selected the port, or the default policy used because none did. */
  readonly server: { readonly kind: 'Server' | 'default'; readonly name: string };
  readonly authorizations: readonly InboundAuthorization[];
  /** When not empty, an HTTP request must match one of them to be admitted. */
  readonly httpRoutes: readonly InboundHttpRoute[];
  readonly audit: boolean;
}

/** The policy of a port that no Server selects: protocol detection and the default policy's authorizations. */
export function defaultInboundServerPolicy(
  port: number,
  policy: DefaultPolicy,
  clusterNetworks: readonly Cidr[] = defaultClusterNetworks,
): InboundServerPolicy {
  return {
    port,
    protocol: 'unknown',
    server: { kind: 'default', name: policy },
    authorizations: defaultPolicyAuthorizations(policy, clusterNetworks),
    httpRoutes: [],
    audit: policy === 'audit',
  };
}
