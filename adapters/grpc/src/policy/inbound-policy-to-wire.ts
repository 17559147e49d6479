// Policy translator, core to wire: an InboundServerPolicy as a policy.v1 Server message.
import type { policy } from '@weft/contracts';
import {
  type AuthorizedNetwork,
  err,
  formatCidr,
  type HttpRouteMatch,
  type InboundAuthentication,
  type InboundAuthorization,
  type InboundHttpRoute,
  type InboundServerPolicy,
  ok,
  type Result,
} from '@weft/core';
import { InvalidWireMessageError, wireField } from '../control-client/invalid-wire-message-error.js';

/** Server.labels and Authz.labels "kind" of a synthesized default policy. */
export const DEFAULT_POLICY_KIND_LABEL = 'default';
/** Server.labels "kind" of a Server resource. */
export const SERVER_KIND_LABEL = 'server';
/** Authz.labels "kind" of an AuthorizationPolicy. */
export const AUTHORIZATION_POLICY_KIND_LABEL = 'authorizationpolicy';
/** The metadata kind of an inbound route. */
export const HTTP_ROUTE_KIND = 'HTTPRoute';
/** The labels of the audit authorization that stands for a policy in audit mode. */
export const AUDIT_AUTHZ_LABELS = { kind: DEFAULT_POLICY_KIND_LABEL, name: 'audit' } as const;

/**
 * The policy of one port as a Server message (the port itself is the request's):
 * - the protocol carries the HTTP routes (detect, HTTP/1, HTTP/2, gRPC); opaque and TLS ports carry none, since their
 *   routes can never match (no HTTP is read there), so leaving them out changes no decision;
 * - audit mode becomes one more authorization, audit = true, open to any address and client, labelled default/audit;
 * - labels name the Server ("server") or default policy ("default").
 * Refused with a typed error: a route with query parameter conditions, which the wire cannot carry (dropping them
 * would widen the route, and with it who is admitted).
 */
export function inboundPolicyToWire(policy: InboundServerPolicy): Result<policy.Server, InvalidWireMessageError> {
  const routes: policy.HttpRoute[] = [];
  for (const [index, route] of policy.httpRoutes.entries()) {
    const wire = httpRouteToWire(route, `routes[${index}]`);
    if (!wire.ok) return wire;
    routes.push(wire.value);
  }
  const authorizations = policy.authorizations.map(authorizationToWire);
  if (policy.audit) authorizations.push(auditAuthz());
  return ok({
    protocol: protocolToWire(policy.protocol, routes),
    authorizations,
    labels: {
      kind: policy.server.kind === 'Server' ? SERVER_KIND_LABEL : DEFAULT_POLICY_KIND_LABEL,
      name: policy.server.name,
    },
  });
}

function protocolToWire(protocol: InboundServerPolicy['protocol'], routes: policy.HttpRoute[]): policy.ProxyProtocol {
  switch (protocol) {
    case 'unknown':
      return { kind: { $case: 'detect', value: { routes } } };
    case 'HTTP/1':
      return { kind: { $case: 'http1', value: { routes } } };
    case 'HTTP/2':
      return { kind: { $case: 'http2', value: { routes } } };
    case 'gRPC':
      return { kind: { $case: 'grpc', value: { routes } } };
    case 'opaque':
      return { kind: { $case: 'opaque', value: {} } };
    case 'TLS':
      return { kind: { $case: 'tls', value: {} } };
  }
}

function authorizationToWire(authz: InboundAuthorization): policy.Authz {
  return {
    networks: authz.networks.map(networkToWire),
    authentication: authenticationToWire(authz.authentication),
    labels: {
      kind: authz.kind === 'default' ? DEFAULT_POLICY_KIND_LABEL : AUTHORIZATION_POLICY_KIND_LABEL,
      name: authz.name,
    },
    audit: false,
  };
}

function auditAuthz(): policy.Authz {
  return {
    networks: [],
    authentication: { kind: { $case: 'unauthenticated', value: {} } },
    labels: { ...AUDIT_AUTHZ_LABELS },
    audit: true,
  };
}

function networkToWire(network: AuthorizedNetwork): policy.Network {
  return { cidr: formatCidr(network.cidr), except: network.except.map(formatCidr) };
}

function authenticationToWire(authentication: InboundAuthentication): policy.Authentication {
  if (authentication.kind === 'unauthenticated') return { kind: { $case: 'unauthenticated', value: {} } };
  const meshTls: policy.MeshTls = { identities: [], suffixes: [], any: false };
  for (const pattern of authentication.identities) {
    if (pattern.kind === 'any') meshTls.any = true;
    else if (pattern.kind === 'exact') meshTls.identities.push(pattern.name);
    else meshTls.suffixes.push(pattern.suffix);
  }
  return { kind: { $case: 'meshTls', value: meshTls } };
}

function httpRouteToWire(route: InboundHttpRoute, at: string): Result<policy.HttpRoute, InvalidWireMessageError> {
  const matches: policy.HttpRouteMatch[] = [];
  for (const [index, match] of route.matches.entries()) {
    if ((match.queryParams ?? []).length > 0) {
      return err(
        new InvalidWireMessageError(
          wireField(at, `matches[${index}]`),
          route.name,
          'has query parameter conditions, which the policy API cannot carry; match on the path, method or headers instead',
        ),
      );
    }
    matches.push(routeMatchToWire(match));
  }
  return ok({
    metadata: { kind: HTTP_ROUTE_KIND, name: route.name },
    matches,
    authorizations: route.authorizations.map(authorizationToWire),
  });
}

function routeMatchToWire(match: HttpRouteMatch): policy.HttpRouteMatch {
  const wire: policy.HttpRouteMatch = {
    method: match.method ?? '',
    headers: (match.headers ?? []).map(({ type, name, value }) => ({
      name,
      value: type === 'Exact' ? { $case: 'exact', value } : { $case: 'regex', value },
    })),
  };
  const path = match.path;
  if (path === undefined) return wire;
  const kind =
    path.type === 'Exact'
      ? ({ $case: 'exact', value: path.value } as const)
      : path.type === 'PathPrefix'
        ? ({ $case: 'prefix', value: path.value } as const)
        : ({ $case: 'regex', value: path.value } as const);
  return { ...wire, path: { kind } };
}
