import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allNetworks, type AuthorizedNetwork } from './authentication.js';
import { authorize, type AuthorizationDecision, type InboundConnection } from './authorize.js';
import { cidrFromAddress, parseCidr, type Cidr } from './cidr.js';
import { defaultClusterNetworks, type DefaultPolicy } from './default-policy.js';
import { parseIdentityPattern } from './identity-pattern.js';
import { defaultInboundServerPolicy, type InboundAuthorization, type InboundServerPolicy } from './inbound-server-policy.js';
import { unwrap } from '../shared/result.js';

const webId = 'web.shop.serviceaccount.identity.weft.cluster.local';
const meshedInCluster: InboundConnection = { clientIp: '10.1.2.3', clientIdentity: webId, tls: true };
const plainInCluster: InboundConnection = { clientIp: '10.1.2.3', tls: false };
const meshedForeign: InboundConnection = { clientIp: '203.0.113.7', clientIdentity: webId, tls: true };
const plainForeign: InboundConnection = { clientIp: '203.0.113.7', tls: false };

describe('authorize under default policies', () => {
  const matrix: [DefaultPolicy, boolean, boolean, boolean, boolean][] = [
    // policy, meshed in cluster, plain in cluster, meshed foreign, plain foreign
    ['all-unauthenticated', true, true, true, true],
    ['all-authenticated', true, false, true, false],
    ['cluster-unauthenticated', true, true, false, false],
    ['cluster-authenticated', true, false, false, false],
    ['deny', false, false, false, false],
    ['audit', true, true, true, true],
  ];

  it.each(matrix)('%s admits exactly the expected TCP clients', (name, ...expected) => {
    const policy = defaultInboundServerPolicy(8080, name, defaultClusterNetworks);
    const clients = [meshedInCluster, plainInCluster, meshedForeign, plainForeign];
    expect(clients.map((client) => authorize(client, undefined, policy).allowed)).toEqual(expected);
  });

  it('names the rule that admitted the client', () => {
    const decision = authorize(plainForeign, undefined, defaultInboundServerPolicy(80, 'all-unauthenticated'));
    expect(decision).toEqual({
      allowed: true,
      reason: 'allowed by default policy all-unauthenticated',
      rule: { kind: 'default', name: 'all-unauthenticated' },
      audit: false,
    });
  });

  it('says who was refused and from where', () => {
    const policy = defaultInboundServerPolicy(80, 'cluster-authenticated');
    expect(authorize(meshedForeign, undefined, policy)).toEqual({
      allowed: false,
      reason: `no authorization for client ${webId} from 203.0.113.7`,
    });
    expect(authorize(plainInCluster, undefined, policy).reason).toBe('no authorization for unauthenticated client from 10.1.2.3');
    expect(authorize({ clientIp: '10.0.0.1', tls: true }, undefined, policy).reason).toBe(
      'no authorization for TLS client without a mesh identity from 10.0.0.1',
    );
  });

  it('ignores an identity the connection did not verify over TLS', () => {
    const policy = defaultInboundServerPolicy(80, 'all-authenticated');
    expect(authorize({ clientIp: '10.0.0.1', clientIdentity: webId, tls: false }, undefined, policy).allowed).toBe(false);
  });

  it('reads IPv4-mapped client addresses as IPv4, and refuses addresses it cannot read', () => {
    const policy = defaultInboundServerPolicy(80, 'cluster-unauthenticated', [unwrap(parseCidr('10.0.0.0/8'))]);
    expect(authorize({ clientIp: '::ffff:10.1.2.3', tls: false }, undefined, policy).allowed).toBe(true);
    expect(authorize({ clientIp: '::ffff:11.1.2.3', tls: false }, undefined, policy).allowed).toBe(false);
    expect(authorize({ clientIp: 'not-an-ip', tls: false }, undefined, policy)).toEqual({
      allowed: false,
      reason: 'client address "not-an-ip" is not an IP address',
    });
  });

  it('in audit mode admits everyone but says it would have denied', () => {
    const decision = authorize(plainForeign, { method: 'GET', path: '/' }, defaultInboundServerPolicy(80, 'audit'));
    expect(decision).toEqual({
      allowed: true,
      audit: true,
      rule: { kind: 'default', name: 'audit' },
      reason: 'audit: would be denied: no authorization for unauthenticated client from 203.0.113.7',
    });
  });
});

describe('authorize with a Server and routes', () => {
  const meshed = (name: string, identity: string): InboundAuthorization => ({
    name,
    kind: 'AuthorizationPolicy',
    networks: allNetworks,
    authentication: { kind: 'meshTLS', identities: [unwrap(parseIdentityPattern(identity))] },
  });
  const fromOffice: InboundAuthorization = {
    name: 'office',
    kind: 'AuthorizationPolicy',
    networks: [{ cidr: unwrap(parseCidr('10.0.0.0/8')), except: [unwrap(parseCidr('10.9.0.0/16'))] }],
    authentication: { kind: 'unauthenticated' },
  };
  const server: InboundServerPolicy = {
    port: 8080,
    protocol: 'HTTP/1',
    server: { kind: 'Server', name: 'web-http' },
    authorizations: [fromOffice],
    httpRoutes: [
      { name: 'public', matches: [{ path: { type: 'PathPrefix', value: '/public' } }], authorizations: [] },
      {
        name: 'admin',
        matches: [{ path: { type: 'PathPrefix', value: '/admin' } }],
        authorizations: [meshed('ops-only', 'ops.shop.serviceaccount.identity.weft.cluster.local')],
      },
    ],
    audit: false,
  };
  const ops: InboundConnection = { clientIp: '192.0.2.1', clientIdentity: 'ops.shop.serviceaccount.identity.weft.cluster.local', tls: true };

  it('checks connection-level authorizations for TCP', () => {
    expect(authorize(plainInCluster, undefined, server).allowed).toBe(true);
    expect(authorize({ clientIp: '10.9.1.1', tls: false }, undefined, server).allowed).toBe(false);
    expect(authorize(ops, undefined, server).allowed).toBe(false);
  });

  it('refuses a request that matches no route', () => {
    expect(authorize(plainInCluster, { method: 'GET', path: '/private' }, server)).toEqual({
      allowed: false,
      reason: 'no route matches GET /private',
    });
  });

  it('admits with the Server authorizations or those of the matched route', () => {
    expect(authorize(plainInCluster, { method: 'GET', path: '/public/x' }, server)).toMatchObject({
      allowed: true,
      route: 'public',
      rule: { kind: 'AuthorizationPolicy', name: 'office' },
    });
    expect(authorize(ops, { method: 'GET', path: '/admin' }, server)).toMatchObject({
      allowed: true,
      route: 'admin',
      rule: { name: 'ops-only' },
      reason: 'allowed by AuthorizationPolicy ops-only',
    });
    expect(authorize(ops, { method: 'GET', path: '/public' }, server)).toEqual({
      allowed: false,
      route: 'public',
      reason: 'no authorization for client ops.shop.serviceaccount.identity.weft.cluster.local from 192.0.2.1',
    });
  });

  it('in audit mode reports the rule that would have admitted the client', () => {
    const audited = { ...server, audit: true };
    expect(authorize(ops, { method: 'GET', path: '/admin/x' }, audited)).toEqual({
      allowed: true,
      audit: true,
      route: 'admin',
      rule: { kind: 'AuthorizationPolicy', name: 'ops-only' },
      reason: 'audit: would be allowed by AuthorizationPolicy ops-only',
    });
    expect(authorize(ops, { method: 'GET', path: '/nowhere' }, audited)).toMatchObject({
      allowed: true,
      audit: true,
      rule: { kind: 'default', name: 'audit' },
      reason: 'audit: would be denied: no route matches GET /nowhere',
    });
  });

  it('denies everything when the Server has no authorizations', () => {
    const closed: InboundServerPolicy = { ...server, authorizations: [], httpRoutes: [] };
    expect(authorize(meshedInCluster, undefined, closed).allowed).toBe(false);
    expect(authorize(meshedInCluster, { method: 'GET', path: '/' }, closed).allowed).toBe(false);
  });

  it('treats an authorization without networks as admitting any address', () => {
    const anywhere: InboundServerPolicy = { ...server, httpRoutes: [], authorizations: [{ ...fromOffice, networks: [] }] };
    expect(authorize(plainForeign, undefined, anywhere).allowed).toBe(true);
  });

  it('fails closed when the routes of a hand-made policy cannot be compiled', () => {
    const broken: InboundServerPolicy = {
      ...server,
      httpRoutes: [{ name: 'bad', matches: [{ path: { type: 'RegularExpression', value: '(' } }], authorizations: [] }],
    };
    const decision = authorize(plainInCluster, { method: 'GET', path: '/' }, broken);
    expect(decision.allowed).toBe(false);
    expect(decision.reason).toContain('invalid route "bad"');
  });
});

describe('authorize with IPv4-mapped and zoned client addresses', () => {
  const cidr = (text: string): Cidr => unwrap(parseCidr(text));
  const networkPolicy = (networks: readonly AuthorizedNetwork[]): InboundServerPolicy => ({
    port: 8080,
    protocol: 'opaque',
    server: { kind: 'Server', name: 'db' },
    authorizations: [{ name: 'outside', kind: 'AuthorizationPolicy', networks, authentication: { kind: 'unauthenticated' } }],
    httpRoutes: [],
    audit: false,
  });

  it('refuses a mapped address that its IPv4 exception refuses, though ::/0 is also allowed', () => {
    const policy = networkPolicy([
      { cidr: cidr('0.0.0.0/0'), except: [cidr('10.0.0.0/8')] },
      { cidr: cidr('::/0'), except: [] },
    ]);
    const allowed = (clientIp: string): boolean => authorize({ clientIp, tls: false }, undefined, policy).allowed;
    expect(allowed('10.0.0.5')).toBe(false);
    expect(allowed('::ffff:10.0.0.5')).toBe(false);
    expect(allowed('::FFFF:a00:5')).toBe(false);
    expect(allowed('0:0:0:0:0:ffff:0a00:0005')).toBe(false);
    expect(allowed('11.0.0.5')).toBe(true);
    expect(allowed('::ffff:11.0.0.5')).toBe(true);
    expect(allowed('fd00::5')).toBe(true);
  });

  it('matches mapped client addresses against mapped blocks as IPv4', () => {
    const policy = networkPolicy([{ cidr: cidr('::ffff:10.0.0.0/104'), except: [] }]);
    expect(authorize({ clientIp: '10.1.2.3', tls: false }, undefined, policy).allowed).toBe(true);
    expect(authorize({ clientIp: '::ffff:10.1.2.3', tls: false }, undefined, policy).allowed).toBe(true);
    expect(authorize({ clientIp: '11.1.2.3', tls: false }, undefined, policy).allowed).toBe(false);
  });

  it('ignores the zone of a link-local client address, as Node reports it', () => {
    const open = defaultInboundServerPolicy(80, 'all-unauthenticated');
    expect(authorize({ clientIp: 'fe80::1%eth0', tls: false }, undefined, open)).toMatchObject({
      allowed: true,
      rule: { kind: 'default', name: 'all-unauthenticated' },
    });
    const linkLocal = networkPolicy([{ cidr: cidr('fe80::/10'), except: [] }]);
    expect(authorize({ clientIp: 'fe80::1%eth0', tls: false }, undefined, linkLocal).allowed).toBe(true);
    expect(authorize({ clientIp: 'fe80::1%2', tls: false }, undefined, linkLocal).allowed).toBe(true);
    expect(authorize({ clientIp: 'fd00::1%eth0', tls: false }, undefined, linkLocal)).toEqual({
      allowed: false,
      reason: 'no authorization for unauthenticated client from fd00::1%eth0',
    });
  });

  it.each(['10.0.0.1%eth0', 'fe80::1%', 'fe80::1%eth0%1', '%eth0'])('still refuses %j as not an IP address', (clientIp) => {
    const decision = authorize({ clientIp, tls: false }, undefined, defaultInboundServerPolicy(80, 'all-unauthenticated'));
    expect(decision).toEqual({ allowed: false, reason: `client address ${JSON.stringify(clientIp)} is not an IP address` });
  });
});

describe('authorize properties', () => {
  const byte = fc.integer({ min: 0, max: 255 });
  const ipv4 = fc.array(byte, { minLength: 4, maxLength: 4 });
  const ipv6 = fc.array(byte, { minLength: 16, maxLength: 16 });
  const mapped = (v4: readonly number[]): number[] => [...new Array<number>(10).fill(0), 0xff, 0xff, ...v4];
  // Blocks of every kind that can meet an IPv4 client: IPv4, IPv6 (::/0 among them), and inside ::ffff:0:0/96.
  const block: fc.Arbitrary<Cidr> = fc.oneof(
    fc.tuple(ipv4, fc.integer({ min: 0, max: 32 })).map(([bytes, prefix]) => cidrFromAddress({ family: 4, bytes }, prefix)),
    fc.tuple(ipv6, fc.integer({ min: 0, max: 128 })).map(([bytes, prefix]) => cidrFromAddress({ family: 6, bytes }, prefix)),
    fc.tuple(ipv4, fc.integer({ min: 80, max: 128 })).map(([v4, prefix]) => cidrFromAddress({ family: 6, bytes: mapped(v4) }, prefix)),
    fc.constantFrom('0.0.0.0/0', '::/0', '10.0.0.0/8', '::ffff:0:0/96').map((text) => unwrap(parseCidr(text))),
  );
  const network: fc.Arbitrary<AuthorizedNetwork> = fc.record({ cidr: block, except: fc.array(block, { maxLength: 3 }) });
  const authorization: fc.Arbitrary<InboundAuthorization> = fc.record({
    name: fc.constantFrom('a', 'b', 'c'),
    kind: fc.constant('AuthorizationPolicy' as const),
    networks: fc.array(network, { maxLength: 3 }),
    authentication: fc.constantFrom<InboundAuthorization['authentication']>(
      { kind: 'unauthenticated' },
      { kind: 'meshTLS', identities: [unwrap(parseIdentityPattern('*'))] },
    ),
  });
  const policy: fc.Arbitrary<InboundServerPolicy> = fc.record({
    port: fc.constant(8080),
    protocol: fc.constant('opaque' as const),
    server: fc.constant({ kind: 'Server' as const, name: 'db' }),
    authorizations: fc.array(authorization, { maxLength: 4 }),
    httpRoutes: fc.constant([]),
    audit: fc.boolean(),
  });
  const hex = (v4: readonly number[]): string =>
    `::ffff:${(((v4[0] ?? 0) << 8) | (v4[1] ?? 0)).toString(16)}:${(((v4[2] ?? 0) << 8) | (v4[3] ?? 0)).toString(16)}`;
  // The decision without its reason, which quotes the client address as given.
  const verdict = (decision: AuthorizationDecision): unknown =>
    decision.allowed ? { allowed: true, rule: decision.rule, audit: decision.audit } : { allowed: false };

  it('gives a mapped IPv4 address, in dotted or hex form, the decision of the plain address', () => {
    fc.assert(
      fc.property(policy, ipv4, fc.boolean(), (anyPolicy, v4, tls) => {
        const decide = (clientIp: string): unknown =>
          verdict(authorize({ clientIp, tls, ...(tls ? { clientIdentity: webId } : {}) }, undefined, anyPolicy));
        const plain = decide(v4.join('.'));
        expect(decide(`::ffff:${v4.join('.')}`)).toEqual(plain);
        expect(decide(hex(v4))).toEqual(plain);
      }),
      { numRuns: 500 },
    );
  });
});
