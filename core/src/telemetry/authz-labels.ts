// The label sets of the inbound authorization counters, in Linkerd's names (srv_*, authz_*, route_*), bounded values.
import { tlsLabelSet, type TlsStatus } from './traffic-labels.js';

/** Which inbound path decided: HTTP requests (`inbound_http_authz_*`) or opaque connections (`inbound_tcp_authz_*`). */
export type AuthzProtocol = 'http' | 'tcp';

/** The API group of Weft's policy resources, in the `*_group` labels of resources that are not defaults. */
export const WEFT_POLICY_GROUP = 'policy.weft.io';

/**
 * What one authorization decision is counted under. Every value is bounded by configuration, not by traffic: the
 * names come from the policy resources, `targetAddr` is one of the proxy's own inbound addresses, and a client
 * identity is a verified mesh identity. Label objects are read-only values: make a new one for new values.
 */
export interface AuthzLabels {
  readonly protocol: AuthzProtocol;
  /** The `ip:port` the client connected to (the proxy's inbound address, or the target port a peer proxy named). */
  readonly targetAddr: string;
  /** The client side of the connection: `tls="true"` with `client_id`, or why there is no identity. */
  readonly tls: TlsStatus;
  /** The Server that selected the port, or the default policy used because none did. */
  readonly server: { readonly kind: 'Server' | 'default'; readonly name: string; readonly port: number };
  /** The authorization that admitted the client (allows only; audit mode names the rule, or the `audit` default). */
  readonly authorization?: { readonly kind: 'AuthorizationPolicy' | 'default'; readonly name: string };
  /** The name of the inbound HTTP route the request matched, when the policy has routes. */
  readonly route?: string;
}

/** `inbound_http_authz_allow_total`, `inbound_tcp_authz_deny_total`... */
export function authzMetricName(protocol: AuthzProtocol, allowed: boolean): string {
  return `inbound_${protocol}_authz_${allowed ? 'allow' : 'deny'}_total`;
}

/** The flat label set of one decision: target and TLS labels, then srv_*, authz_* (if any), route_* (if any). */
export function authzLabelSet(labels: AuthzLabels): Record<string, string> {
  const set: Record<string, string> = { target_addr: labels.targetAddr, ...tlsLabelSet('inbound', labels.tls) };
  const isServer = labels.server.kind === 'Server';
  set['srv_group'] = isServer ? WEFT_POLICY_GROUP : '';
  set['srv_kind'] = isServer ? 'server' : 'default';
  set['srv_name'] = labels.server.name;
  set['srv_port'] = String(labels.server.port);
  if (labels.authorization !== undefined) {
    const isPolicy = labels.authorization.kind === 'AuthorizationPolicy';
    set['authz_group'] = isPolicy ? WEFT_POLICY_GROUP : '';
    set['authz_kind'] = isPolicy ? 'authorizationpolicy' : 'default';
    set['authz_name'] = labels.authorization.name;
  }
  if (labels.route !== undefined) {
    set['route_group'] = WEFT_POLICY_GROUP;
    set['route_kind'] = 'HTTPRoute';
    set['route_name'] = labels.route;
  }
  return set;
}
