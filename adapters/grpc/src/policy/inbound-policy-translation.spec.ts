import { policy } from '@weft/contracts';
import {
  allNetworks,
  defaultInboundServerPolicy,
  type HttpRouteMatch,
  type IdentityPattern,
  type InboundAuthorization,
  type InboundServerPolicy,
  parseCidr,
  parseIdentityPattern,
  policyProxyProtocols,
  unwrap,
} from '@weft/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidWireMessageError } from '../control-client/invalid-wire-message-error.js';
import { inboundPolicyFromWire } from './inbound-policy-from-wire.js';
import { AUDIT_AUTHZ_LABELS, inboundPolicyToWire } from './inbound-policy-to-wire.js';

const cidr = fc.constantFrom('10.0.0.0/8', '192.168.1.0/24', '0.0.0.0/0', '::/0', 'fd00::/8', '10.1.2.3/32').map((text) => unwrap(parseCidr(text)));
const pattern = fc
  .constantFrom('*', 'web.shop.serviceaccount.identity.weft.cluster.local', '*.shop.serviceaccount.identity.weft.cluster.local')
  .map((text) => unwrap(parseIdentityPattern(text)));

const authorization: fc.Arbitrary<InboundAuthorization> = fc.record({
  name: fc.constantFrom('web-clients', 'all-unauthenticated', 'probes'),
  kind: fc.constantFrom('AuthorizationPolicy' as const, 'default' as const),
  networks: fc.array(fc.record({ cidr, except: fc.array(cidr, { maxLength: 2 }) }), { maxLength: 3 }),
  authentication: fc.oneof(
    fc.constant({ kind: 'unauthenticated' as const }),
    fc.array(pattern, { maxLength: 3 }).map((identities) => ({ kind: 'meshTLS' as const, identities })),
  ),
});

const routeMatch: fc.Arbitrary<HttpRouteMatch> = fc.record(
  {
    path: fc.oneof(
      fc.constantFrom('/books', '/api/v1').map((value) => ({ type: 'Exact' as const, value })),
      fc.constantFrom('/books', '/').map((value) => ({ type: 'PathPrefix' as const, value })),
      fc.constantFrom('/books/[0-9]+', '/a.*').map((value) => ({ type: 'RegularExpression' as const, value })),
    ),
    method: fc.constantFrom('GET', 'POST'),
    headers: fc.array(
      fc.record({
        type: fc.constantFrom('Exact' as const, 'RegularExpression' as const),
        name: fc.constantFrom('x-user', 'content-type'),
        value: fc.constantFrom('admin', 'application/json'),
      }),
      { minLength: 1, maxLength: 2 },
    ),
  },
  { requiredKeys: [] },
);

const anyPolicy: fc.Arbitrary<InboundServerPolicy> = fc.record({
  port: fc.integer({ min: 1, max: 65_535 }),
  protocol: fc.constantFrom(...policyProxyProtocols),
  server: fc.record({ kind: fc.constantFrom('Server' as const, 'default' as const), name: fc.constantFrom('web-http', 'deny') }),
  authorizations: fc.array(authorization, { maxLength: 3 }),
  httpRoutes: fc.array(
    fc.record({
      name: fc.constantFrom('books', 'admin'),
      matches: fc.array(routeMatch, { maxLength: 2 }),
      authorizations: fc.array(authorization, { maxLength: 2 }),
    }),
    { maxLength: 3 },
  ),
  audit: fc.boolean(),
});

const order: Record<IdentityPattern['kind'], number> = { any: 0, exact: 1, suffix: 2 };

/** What survives the wire: patterns grouped any/exact/suffix with one "any", no routes on ports that carry no HTTP. */
function normalized(value: InboundServerPolicy): InboundServerPolicy {
  const authz = (a: InboundAuthorization): InboundAuthorization =>
    a.authentication.kind === 'unauthenticated'
      ? a
      : { ...a, authentication: { kind: 'meshTLS', identities: grouped(a.authentication.identities) } };
  const carriesHttp = value.protocol !== 'opaque' && value.protocol !== 'TLS';
  return {
    ...value,
    authorizations: value.authorizations.map(authz),
    httpRoutes: carriesHttp ? value.httpRoutes.map((route) => ({ ...route, authorizations: route.authorizations.map(authz) })) : [],
  };
}

function grouped(patterns: readonly IdentityPattern[]): IdentityPattern[] {
  const sorted = [...patterns].sort((x, y) => order[x.kind] - order[y.kind]);
  return sorted.filter((p, index) => p.kind !== 'any' || index === 0);
}

function overTheWire(wire: policy.Server): policy.Server {
  return policy.Server.decode(policy.Server.encode(wire).finish());
}

function wireOf(value: InboundServerPolicy): policy.Server {
  const wire = inboundPolicyToWire(value);
  if (!wire.ok) throw wire.error;
  return wire.value;
}

const meshed: InboundServerPolicy = {
  port: 8080,
  protocol: 'HTTP/1',
  server: { kind: 'Server', name: 'web-http' },
  authorizations: [
    {
      name: 'meshed-clients',
      kind: 'AuthorizationPolicy',
      networks: allNetworks,
      authentication: { kind: 'meshTLS', identities: [unwrap(parseIdentityPattern('*.shop.serviceaccount.identity.weft.cluster.local'))] },
    },
  ],
  httpRoutes: [],
  audit: false,
};

describe('inbound policy translators', () => {
  it('carry any policy across the wire (identity patterns grouped, no routes on opaque and TLS ports)', () => {
    fc.assert(
      fc.property(anyPolicy, (value) => {
        expect(inboundPolicyFromWire(overTheWire(wireOf(value)), value.port)).toEqual({ ok: true, value: normalized(value) });
      }),
    );
  });

  it('label the server and its authorizations, and put the routes in the protocol', () => {
    const wire = wireOf({ ...meshed, httpRoutes: [{ name: 'books', matches: [{ path: { type: 'PathPrefix', value: '/books' } }], authorizations: [] }] });
    expect(wire.labels).toEqual({ kind: 'server', name: 'web-http' });
    expect(wire.authorizations[0]?.labels).toEqual({ kind: 'authorizationpolicy', name: 'meshed-clients' });
    expect(wire.authorizations[0]?.authentication).toEqual({
      kind: { $case: 'meshTls', value: { identities: [], suffixes: ['shop.serviceaccount.identity.weft.cluster.local'], any: false } },
    });
    expect(wire.protocol).toEqual({
      kind: {
        $case: 'http1',
        value: {
          routes: [
            {
              metadata: { kind: 'HTTPRoute', name: 'books' },
              matches: [{ path: { kind: { $case: 'prefix', value: '/books' } }, method: '', headers: [] }],
              authorizations: [],
            },
          ],
        },
      },
    });
  });

  it('send audit mode as one open audit authorization, and read it back as audit mode', () => {
    const audit = defaultInboundServerPolicy(4191, 'audit');
    const wire = wireOf(audit);
    expect(wire.authorizations).toEqual([
      { networks: [], authentication: { kind: { $case: 'unauthenticated', value: {} } }, labels: AUDIT_AUTHZ_LABELS, audit: true },
    ]);
    expect(inboundPolicyFromWire(wire, 4191)).toEqual({ ok: true, value: audit });
  });

  it('refuse a route with query parameter conditions rather than widen it', () => {
    const read = inboundPolicyToWire({
      ...meshed,
      httpRoutes: [{ name: 'search', matches: [{ queryParams: [{ type: 'Exact', name: 'q', value: 'x' }] }], authorizations: [] }],
    });
    expect(read.ok).toBe(false);
    const error = read.ok ? undefined : read.error;
    expect(error).toBeInstanceOf(InvalidWireMessageError);
    expect(error?.field).toBe('routes[0].matches[0]');
    expect(error?.input).toBe('search');
  });

  const good = wireOf(meshed);
  const withAuthz = (fields: Partial<policy.Authz>): policy.Server => ({
    ...good,
    authorizations: [{ ...(good.authorizations[0] as policy.Authz), ...fields }],
  });
  const withRoute = (route: Partial<policy.HttpRoute>): policy.Server => ({
    ...good,
    protocol: { kind: { $case: 'http1', value: { routes: [{ metadata: { kind: 'HTTPRoute', name: 'books' }, matches: [], authorizations: [], ...route }] } } },
  });
  const cases: [string, policy.Server, string, string][] = [
    ['a policy that does not say where it came from', { ...good, labels: { name: 'web' } }, 'labels.kind', ''],
    ['a policy with no name', { ...good, labels: { kind: 'server' } }, 'labels.name', ''],
    ['an authorization of an unknown kind', withAuthz({ labels: { kind: 'serverauthorization', name: 'x' } }), 'authorizations[0].labels.kind', 'serverauthorization'],
    ['a network that is no CIDR', withAuthz({ networks: [{ cidr: '10.0.0.0/33', except: [] }] }), 'authorizations[0].networks[0].cidr', '10.0.0.0/33'],
    ['an exception that is no CIDR', withAuthz({ networks: [{ cidr: '10.0.0.0/8', except: ['ten'] }] }), 'authorizations[0].networks[0].except[0]', 'ten'],
    ['an authorization without authentication', withAuthz({ authentication: undefined }), 'authorizations[0].authentication', ''],
    [
      'a pattern among the exact identities',
      withAuthz({ authentication: { kind: { $case: 'meshTls', value: { identities: ['*.shop'], suffixes: [], any: false } } } }),
      'authorizations[0].authentication.mesh_tls.identities[0]',
      '*.shop',
    ],
    [
      'a suffix that is not a name',
      withAuthz({ authentication: { kind: { $case: 'meshTls', value: { identities: [], suffixes: ['Shop..x'], any: false } } } }),
      'authorizations[0].authentication.mesh_tls.suffixes[0]',
      'Shop..x',
    ],
    ['an audit authorization limited to some networks', withAuthz({ audit: true }), 'authorizations[0].audit', 'meshed-clients'],
    ['a route with no name', withRoute({ metadata: { kind: 'HTTPRoute', name: '' } }), 'protocol.http1.routes[0].metadata.name', ''],
    ['a route path with no condition', withRoute({ matches: [{ path: {}, method: '', headers: [] }] }), 'protocol.http1.routes[0].matches[0].path', ''],
    [
      'a header condition with no value',
      withRoute({ matches: [{ method: '', headers: [{ name: 'x-user' }] }] }),
      'protocol.http1.routes[0].matches[0].headers[0].value',
      'x-user',
    ],
    [
      'a route regex that does not compile',
      withRoute({ matches: [{ path: { kind: { $case: 'regex', value: '/books/(' } }, method: '', headers: [] }] }),
      'protocol.http1.routes',
      'books',
    ],
    [
      'an audit authorization on a route',
      withRoute({ authorizations: [{ ...(good.authorizations[0] as policy.Authz), audit: true }] }),
      'protocol.http1.routes[0].authorizations[0].audit',
      'meshed-clients',
    ],
  ];

  it.each(cases)('refuse %s with a typed error naming the field', (_name, wire, field, input) => {
    const read = inboundPolicyFromWire(wire, 8080);
    expect(read.ok).toBe(false);
    const error = read.ok ? undefined : read.error;
    expect(error).toBeInstanceOf(InvalidWireMessageError);
    expect(error?.field).toBe(field);
    expect(error?.input).toBe(input);
    expect(error?.message).toContain(field);
  });

  it('never throw on whatever a peer sends', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        let wire: policy.Server;
        try {
          wire = policy.Server.decode(bytes);
        } catch {
          return;
        }
        const read = inboundPolicyFromWire(wire, 80);
        if (!read.ok) expect(read.error).toBeInstanceOf(InvalidWireMessageError);
      }),
    );
  });
});
