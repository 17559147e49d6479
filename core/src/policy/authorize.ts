// authorize(): admits or refuses one inbound connection or HTTP request under a port's InboundServerPolicy.
import { networkMatches } from './authentication.js';
import { parseIpAddress, unmapIpAddress, type IpAddress } from './cidr.js';
import { identityMatches } from './identity-pattern.js';
import type { InboundAuthorization, InboundHttpRoute, InboundServerPolicy } from './inbound-server-policy.js';
import {
  compileInboundHttpRoutes,
  selectInboundHttpRoute,
  type CompiledInboundHttpRoutes,
  type PolicyHttpRequest,
} from './policy-http-route.js';
import type { InvalidRouteError } from '../routing/invalid-route-error.js';
import type { Result } from '../shared/result.js';

/** What the proxy knows about the client of an inbound connection. */
export interface InboundConnection {
  /**
   * The client's address as the socket reports it. IPv4-mapped IPv6 ("::ffff:10.1.2.3", "::ffff:a01:203") is
   * read as the IPv4 address, and the zone of a link-local IPv6 address ("fe80::1%eth0") is ignored.
   */
  readonly clientIp: string;
  /** The client's mesh identity; set only when its mTLS certificate was verified. */
  readonly clientIdentity?: string;
  /** True when the connection arrived over TLS, with or without a verified identity. */
  readonly tls: boolean;
}

/** The rule behind a decision; `{ kind: 'default', name: 'audit' }` when only audit mode admitted the client. */
export interface AuthorizationRule {
  readonly kind: InboundAuthorization['kind'];
  readonly name: string;
}

/**
 * The verdict and why. `audit` is true when the policy is in audit mode: nothing is refused, `rule` then names
 * the authorization that would have admitted the client, or the audit default when none would have.
 */
export type AuthorizationDecision =
  | {
      readonly allowed: true;
      readonly reason: string;
      readonly rule: AuthorizationRule;
      readonly audit: boolean;
      /** The HTTP route the request matched, if the policy has routes. */
      readonly route?: string;
    }
  | { readonly allowed: false; readonly reason: string; readonly route?: string };

const auditRule: AuthorizationRule = { kind: 'default', name: 'audit' };

/**
 * Decides for a TCP connection (request undefined: the Server's authorizations apply) or an HTTP request.
 * When the policy has HTTP routes, a request must match one of them, and the route's authorizations are
 * tried in addition to the Server's. The first authorization that admits the client decides.
 */
export function authorize(
  connection: InboundConnection,
  request: PolicyHttpRequest | undefined,
  policy: InboundServerPolicy,
): AuthorizationDecision {
  let route: InboundHttpRoute | undefined;
  if (request !== undefined && policy.httpRoutes.length > 0) {
    const routes = compiledRoutes(policy.httpRoutes);
    if (!routes.ok) return refuse(policy, `the policy's routes cannot be used: ${routes.error.toString()}`);
    route = selectInboundHttpRoute(routes.value, request);
    if (route === undefined) return refuse(policy, `no route matches ${request.method} ${request.path}`);
  }
  const candidates = route === undefined ? policy.authorizations : [...policy.authorizations, ...route.authorizations];
  const address = readClientAddress(connection.clientIp);
  const admitting = address ? candidates.find((authz) => admits(authz, connection, address)) : undefined;
  const onRoute = route === undefined ? {} : { route: route.name };
  if (admitting !== undefined) {
    const rule = { kind: admitting.kind, name: admitting.name };
    const verb = policy.audit ? 'audit: would be allowed' : 'allowed';
    return { allowed: true, reason: `${verb} by ${describeRule(rule)}`, rule, audit: policy.audit, ...onRoute };
  }
  const why = address
    ? `no authorization for ${describeClient(connection)} from ${connection.clientIp}`
    : `client address ${JSON.stringify(connection.clientIp)} is not an IP address`;
  return { ...refuse(policy, why), ...onRoute };
}

// The address every match is made on: zone dropped, IPv4-mapped IPv6 read as IPv4; undefined if not an address.
function readClientAddress(text: string): IpAddress | undefined {
  // Node reports link-local peers as "fe80::1%eth0"; policies name networks, never zones.
  const zone = /^([^%]*:[^%]*)%[^%]+$/.exec(text.trim());
  const parsed = parseIpAddress(zone?.[1] ?? text);
  return parsed.ok ? unmapIpAddress(parsed.value) : undefined;
}

// Routes compiled once per policy (policies are immutable values), so a request only runs the matchers.
type CompiledRoutes = Result<CompiledInboundHttpRoutes<InboundHttpRoute>, InvalidRouteError>;
const routeCache = new WeakMap<readonly InboundHttpRoute[], CompiledRoutes>();

function compiledRoutes(routes: readonly InboundHttpRoute[]): CompiledRoutes {
  let compiled = routeCache.get(routes);
  if (compiled === undefined) {
    compiled = compileInboundHttpRoutes(routes);
    routeCache.set(routes, compiled);
  }
  return compiled;
}

// A refusal, or in audit mode an admission that says what would have been refused.
function refuse(policy: InboundServerPolicy, why: string): AuthorizationDecision {
  if (policy.audit) return { allowed: true, reason: `audit: would be denied: ${why}`, rule: auditRule, audit: true };
  return { allowed: false, reason: why };
}

function admits(authz: InboundAuthorization, connection: InboundConnection, address: IpAddress): boolean {
  // An empty network list means any address (see InboundAuthorization); compiled policies never send one.
  if (authz.networks.length > 0 && !networkMatches(authz, address)) return false;
  if (authz.authentication.kind === 'unauthenticated') return true;
  const identity = connection.tls ? connection.clientIdentity : undefined;
  return authz.authentication.identities.some((pattern) => identityMatches(pattern, identity));
}

function describeClient(connection: InboundConnection): string {
  if (connection.tls && connection.clientIdentity) return `client ${connection.clientIdentity}`;
  return connection.tls ? 'TLS client without a mesh identity' : 'unauthenticated client';
}

function describeRule(rule: AuthorizationRule): string {
  return rule.kind === 'default' ? `default policy ${rule.name}` : `${rule.kind} ${rule.name}`;
}
