// Policy translator, wire to core: a policy.v1 Server message checked and read as an InboundServerPolicy.
import type { policy } from '@weft/contracts';
import {
  type AuthorizedNetwork,
  compileInboundHttpRoutes,
  err,
  type HttpHeaderMatch,
  type HttpRouteMatch,
  type IdentityPattern,
  type InboundAuthentication,
  type InboundAuthorization,
  type InboundHttpRoute,
  type InboundServerPolicy,
  ok,
  parseCidr,
  parseIdentityPattern,
  type PolicyProxyProtocol,
  type Result,
} from '@weft/core';
import { InvalidWireMessageError, oneofCase, wireField } from '../control-client/invalid-wire-message-error.js';
import {
  AUTHORIZATION_POLICY_KIND_LABEL,
  DEFAULT_POLICY_KIND_LABEL,
  SERVER_KIND_LABEL,
} from './inbound-policy-to-wire.js';

type Read<T> = Result<T, InvalidWireMessageError>;

function fail(field: string, input: string, reason: string): Read<never> {
  return err(new InvalidWireMessageError(field, input, reason));
}

/**
 * Reads the policy of `port`. Everything the proxy will match on is checked here (CIDRs, identity names, route
 * conditions), so a policy that arrives is one the proxy can enforce. Weft keeps the proxy's own protocol detection
 * timeout, so detect.timeout is not read. An audit authorization turns on the policy's audit mode; Weft's audit mode
 * covers the whole port, so one limited to some networks or clients, or attached to a route, is refused.
 */
export function inboundPolicyFromWire(wire: policy.Server, port: number): Read<InboundServerPolicy> {
  const server = serverFromLabels(wire.labels);
  if (!server.ok) return server;
  const protocol = protocolFromWire(wire.protocol);
  if (!protocol.ok) return protocol;
  const authorizations: InboundAuthorization[] = [];
  let audit = false;
  for (const [index, authz] of wire.authorizations.entries()) {
    const at = `authorizations[${index}]`;
    if (authz.audit) {
      const problem = auditProblem(authz, at);
      if (problem) return problem;
      audit = true;
      continue;
    }
    const read = authorizationFromWire(authz, at);
    if (!read.ok) return read;
    authorizations.push(read.value);
  }
  const httpRoutes: InboundHttpRoute[] = [];
  for (const [index, route] of protocol.value.routes.entries()) {
    const read = httpRouteFromWire(route, wireField(protocol.value.at, `routes[${index}]`));
    if (!read.ok) return read;
    httpRoutes.push(read.value);
  }
  const compiled = compileInboundHttpRoutes(httpRoutes);
  if (!compiled.ok) return fail(wireField(protocol.value.at, 'routes'), compiled.error.input, compiled.error.reason);
  return ok({ port, protocol: protocol.value.protocol, server: server.value, authorizations, httpRoutes, audit });
}

function serverFromLabels(labels: Readonly<Record<string, string>>): Read<InboundServerPolicy['server']> {
  const kind = labels['kind'];
  const name = labels['name'];
  if (kind !== SERVER_KIND_LABEL && kind !== DEFAULT_POLICY_KIND_LABEL) {
    return fail('labels.kind', kind ?? '', `is not "${SERVER_KIND_LABEL}" or "${DEFAULT_POLICY_KIND_LABEL}"; it says where the policy came from`);
  }
  if (name === undefined || name === '') return fail('labels.name', '', 'is missing; name the Server or the default policy');
  return ok({ kind: kind === SERVER_KIND_LABEL ? 'Server' : 'default', name });
}

interface WireProtocol {
  readonly protocol: PolicyProxyProtocol;
  readonly routes: readonly policy.HttpRoute[];
  /** Where the routes are in the message, for errors. */
  readonly at: string;
}

function protocolFromWire(wire: policy.ProxyProtocol | undefined): Read<WireProtocol> {
  const kind = wire?.kind;
  switch (kind?.$case) {
    case undefined:
      return ok({ protocol: 'unknown', routes: [], at: 'protocol' });
    case 'detect':
      return ok({ protocol: 'unknown', routes: kind.value.routes, at: 'protocol.detect' });
    case 'http1':
      return ok({ protocol: 'HTTP/1', routes: kind.value.routes, at: 'protocol.http1' });
    case 'http2':
      return ok({ protocol: 'HTTP/2', routes: kind.value.routes, at: 'protocol.http2' });
    case 'grpc':
      return ok({ protocol: 'gRPC', routes: kind.value.routes, at: 'protocol.grpc' });
    case 'opaque':
      return ok({ protocol: 'opaque', routes: [], at: 'protocol.opaque' });
    case 'tls':
      return ok({ protocol: 'TLS', routes: [], at: 'protocol.tls' });
    default:
      return fail('protocol.kind', oneofCase(kind), 'is not one of detect, opaque, tls, http1, http2 or grpc');
  }
}

function auditProblem(authz: policy.Authz, at: string): Read<never> | undefined {
  const open = authz.networks.length === 0 && authz.authentication?.kind?.$case === 'unauthenticated';
  if (open) return undefined;
  return fail(
    wireField(at, 'audit'),
    authz.labels['name'] ?? '',
    'is set on an authorization limited to some networks or clients; Weft audits a whole port, so send audit only on an authorization with no networks and unauthenticated',
  );
}

function authorizationFromWire(authz: policy.Authz, at: string): Read<InboundAuthorization> {
  const kindLabel = (authz.labels['kind'] ?? '').toLowerCase();
  const name = authz.labels['name'] ?? '';
  if (kindLabel !== AUTHORIZATION_POLICY_KIND_LABEL && kindLabel !== DEFAULT_POLICY_KIND_LABEL) {
    return fail(
      wireField(at, 'labels.kind'),
      authz.labels['kind'] ?? '',
      `is not "${AUTHORIZATION_POLICY_KIND_LABEL}" or "${DEFAULT_POLICY_KIND_LABEL}"; it says where the authorization came from`,
    );
  }
  if (name === '') return fail(wireField(at, 'labels.name'), '', 'is missing; name the AuthorizationPolicy or the default policy');
  const networks = networksFromWire(authz.networks, wireField(at, 'networks'));
  if (!networks.ok) return networks;
  const authentication = authenticationFromWire(authz.authentication, wireField(at, 'authentication'));
  if (!authentication.ok) return authentication;
  return ok({
    name,
    kind: kindLabel === DEFAULT_POLICY_KIND_LABEL ? 'default' : 'AuthorizationPolicy',
    networks: networks.value,
    authentication: authentication.value,
  });
}

function networksFromWire(networks: readonly policy.Network[], at: string): Read<AuthorizedNetwork[]> {
  const read: AuthorizedNetwork[] = [];
  for (const [index, network] of networks.entries()) {
    const where = wireField(at, `[${index}]`);
    const cidr = parseCidr(network.cidr);
    if (!cidr.ok) return fail(wireField(where, 'cidr'), network.cidr, cidr.error.reason);
    const except = [];
    for (const [exceptIndex, text] of network.except.entries()) {
      const parsed = parseCidr(text);
      if (!parsed.ok) return fail(wireField(where, `except[${exceptIndex}]`), text, parsed.error.reason);
      except.push(parsed.value);
    }
    read.push({ cidr: cidr.value, except });
  }
  return ok(read);
}

function authenticationFromWire(wire: policy.Authentication | undefined, at: string): Read<InboundAuthentication> {
  const kind = wire?.kind;
  switch (kind?.$case) {
    case 'unauthenticated':
      return ok({ kind: 'unauthenticated' });
    case 'meshTls': {
      const identities = identityPatternsFromWire(kind.value, wireField(at, 'mesh_tls'));
      return identities.ok ? ok({ kind: 'meshTLS', identities: identities.value }) : identities;
    }
    default:
      return fail(at, oneofCase(kind), 'is not set; set unauthenticated or mesh_tls');
  }
}

/** `any` first, then the exact names, then the suffixes (the order carries no meaning). */
function identityPatternsFromWire(meshTls: policy.MeshTls, at: string): Read<IdentityPattern[]> {
  const patterns: IdentityPattern[] = meshTls.any ? [{ kind: 'any' }] : [];
  for (const [index, identity] of meshTls.identities.entries()) {
    const parsed = parseIdentityPattern(identity);
    if (!parsed.ok) return fail(wireField(at, `identities[${index}]`), identity, parsed.error.reason);
    if (parsed.value.kind !== 'exact') {
      return fail(wireField(at, `identities[${index}]`), identity, 'is a pattern; list exact identity names here, and suffixes under suffixes');
    }
    patterns.push(parsed.value);
  }
  for (const [index, suffix] of meshTls.suffixes.entries()) {
    const parsed = parseIdentityPattern(`*.${suffix}`);
    if (!parsed.ok || parsed.value.kind !== 'suffix') {
      const reason = parsed.ok ? 'is not a name suffix' : parsed.error.reason;
      return fail(wireField(at, `suffixes[${index}]`), suffix, `${reason}; write e.g. "shop.serviceaccount.identity.weft.cluster.local"`);
    }
    patterns.push(parsed.value);
  }
  return ok(patterns);
}

function httpRouteFromWire(route: policy.HttpRoute, at: string): Read<InboundHttpRoute> {
  const name = route.metadata?.name ?? '';
  if (name === '') return fail(wireField(at, 'metadata.name'), '', 'is missing; every route is named for metrics and logs');
  const matches: HttpRouteMatch[] = [];
  for (const [index, match] of route.matches.entries()) {
    const read = routeMatchFromWire(match, wireField(at, `matches[${index}]`));
    if (!read.ok) return read;
    matches.push(read.value);
  }
  const authorizations: InboundAuthorization[] = [];
  for (const [index, authz] of route.authorizations.entries()) {
    const where = wireField(at, `authorizations[${index}]`);
    if (authz.audit) {
      return fail(wireField(where, 'audit'), authz.labels['name'] ?? '', 'is set on a route; Weft audits a whole port, so send the audit authorization with the Server');
    }
    const read = authorizationFromWire(authz, where);
    if (!read.ok) return read;
    authorizations.push(read.value);
  }
  return ok({ name, matches, authorizations });
}

function routeMatchFromWire(wire: policy.HttpRouteMatch, at: string): Read<HttpRouteMatch> {
  const match: { -readonly [K in keyof HttpRouteMatch]: HttpRouteMatch[K] } = {};
  if (wire.path !== undefined) {
    const kind = wire.path.kind;
    switch (kind?.$case) {
      case 'exact':
        match.path = { type: 'Exact', value: kind.value };
        break;
      case 'prefix':
        match.path = { type: 'PathPrefix', value: kind.value };
        break;
      case 'regex':
        match.path = { type: 'RegularExpression', value: kind.value };
        break;
      default:
        return fail(wireField(at, 'path'), oneofCase(kind), 'has no condition; set exact, prefix or regex, or leave path unset for any path');
    }
  }
  if (wire.method !== '') match.method = wire.method;
  const headers: HttpHeaderMatch[] = [];
  for (const [index, header] of wire.headers.entries()) {
    const value = header.value;
    if (value === undefined) {
      return fail(wireField(at, `headers[${index}].value`), header.name, 'is not set; set exact or regex');
    }
    headers.push({ type: value.$case === 'exact' ? 'Exact' : 'RegularExpression', name: header.name, value: value.value });
  }
  if (headers.length > 0) match.headers = headers;
  return ok(match);
}
