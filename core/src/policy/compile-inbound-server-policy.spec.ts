import { describe, expect, it } from 'vitest';
import type { MeshTlsAuthentication, NetworkAuthentication } from './authentication.js';
import type { AuthorizationPolicy } from './authorization-policy.js';
import { formatCidr, parseCidr, type Cidr } from './cidr.js';
import { compileInboundServerPolicy, type CompileInboundServerPolicyInput } from './compile-inbound-server-policy.js';
import { defaultClusterNetworks } from './default-policy.js';
import { formatIdentityPattern, parseIdentityPattern } from './identity-pattern.js';
import { defaultInboundServerPolicy, type InboundAuthorization, type InboundServerPolicy } from './inbound-server-policy.js';
import { PolicyConfigError } from './policy-config-error.js';
import type { PolicyHttpRoute } from './policy-http-route.js';
import type { PolicyServer } from './server.js';
import { unwrap } from '../shared/result.js';

const cidr = (text: string): Cidr => unwrap(parseCidr(text));
const webServer: PolicyServer = {
  name: 'web-http',
  namespace: 'shop',
  port: 'http',
  workloadSelector: { app: 'web' },
  proxyProtocol: 'HTTP/1',
};
const clients: MeshTlsAuthentication = {
  name: 'clients',
  namespace: 'shop',
  identities: [unwrap(parseIdentityPattern('*.shop.serviceaccount.identity.weft.cluster.local'))],
};
const office: NetworkAuthentication = {
  name: 'office',
  namespace: 'shop',
  networks: [{ cidr: cidr('10.0.0.0/8'), except: [cidr('10.9.0.0/16')] }],
};
const policy = (name: string, target: AuthorizationPolicy['target'], ...refs: AuthorizationPolicy['requiredAuthentications']) =>
  ({ name, namespace: 'shop', target, requiredAuthentications: refs }) satisfies AuthorizationPolicy;

function input(overrides: Partial<CompileInboundServerPolicyInput> = {}): CompileInboundServerPolicyInput {
  return {
    port: 8080,
    portNames: { http: 8080, admin: 9990 },
    workloadLabels: { app: 'web', pod: 'web-0' },
    namespace: 'shop',
    servers: [webServer],
    authorizationPolicies: [],
    meshTlsAuthentications: [clients],
    networkAuthentications: [office],
    httpRoutes: [],
    defaultPolicy: 'all-unauthenticated',
    clusterNetworks: defaultClusterNetworks,
    ...overrides,
  };
}

function compiled(overrides: Partial<CompileInboundServerPolicyInput> = {}): InboundServerPolicy {
  return unwrap(compileInboundServerPolicy(input(overrides)));
}

function failure(overrides: Partial<CompileInboundServerPolicyInput>): PolicyConfigError {
  const result = compileInboundServerPolicy(input(overrides));
  if (result.ok) throw new Error('expected a PolicyConfigError');
  expect(result.error).toBeInstanceOf(PolicyConfigError);
  return result.error;
}

// "name: networks / authentication" of each authorization, for readable expectations.
const summary = (authorizations: readonly InboundAuthorization[]) =>
  authorizations.map((a) => {
    const nets = a.networks.map((n) => [formatCidr(n.cidr), ...n.except.map((e) => `!${formatCidr(e)}`)].join(' ')).join(', ');
    const who = a.authentication.kind === 'unauthenticated' ? 'anyone' : a.authentication.identities.map(formatIdentityPattern).join(', ');
    return `${a.kind} ${a.name}: ${nets} / ${who}`;
  });

describe('compileInboundServerPolicy: which Server', () => {
  it('gives the default policy when no Server selects the port', () => {
    expect(compiled({ port: 7000 })).toEqual(defaultInboundServerPolicy(7000, 'all-unauthenticated', defaultClusterNetworks));
    expect(compiled({ workloadLabels: { app: 'api' } }).server).toEqual({ kind: 'default', name: 'all-unauthenticated' });
    expect(compiled({ namespace: 'books' }).server.kind).toBe('default');
    const clusterOnly = compiled({ port: 7000, defaultPolicy: 'cluster-authenticated', clusterNetworks: [cidr('10.0.0.0/8')] });
    expect(summary(clusterOnly.authorizations)).toEqual(['default cluster-authenticated: 10.0.0.0/8 / *']);
  });

  it('finds the Server by named port, or by number', () => {
    expect(compiled().server).toEqual({ kind: 'Server', name: 'web-http' });
    expect(compiled().protocol).toBe('HTTP/1');
    expect(compiled({ portNames: {} }).server.kind).toBe('default');
    const admin: PolicyServer = { ...webServer, name: 'web-admin', port: 9990, proxyProtocol: 'opaque' };
    expect(compiled({ port: 9990, servers: [webServer, admin] })).toMatchObject({ server: { name: 'web-admin' }, protocol: 'opaque' });
  });

  it('denies everything through a Server that no policy authorizes', () => {
    const policy = compiled();
    expect(policy.authorizations).toEqual([]);
    expect(policy.audit).toBe(false);
  });

  it('refuses two Servers selecting the same port, naming both', () => {
    const error = failure({ servers: [webServer, { ...webServer, name: 'web-all', port: 8080, workloadSelector: {} }] });
    expect(error.input).toBe('Server shop/web-http');
    expect(error.reference).toEqual({ kind: 'Server', namespace: 'shop', name: 'web-all' });
    expect(error.reason).toContain('port 8080');
  });
});

describe('compileInboundServerPolicy: authorizations', () => {
  it('turns policies targeting the Server or its namespace into authorizations', () => {
    const result = compiled({
      authorizationPolicies: [
        policy('meshed', { kind: 'Server', name: 'web-http' }, { kind: 'MeshTLSAuthentication', name: 'clients' }),
        policy('from-office', { kind: 'Namespace' }, { kind: 'NetworkAuthentication', name: 'office' }),
        policy('other-server', { kind: 'Server', name: 'api' }),
        { ...policy('other-namespace', { kind: 'Namespace' }), namespace: 'books' },
      ],
    });
    expect(summary(result.authorizations)).toEqual([
      'AuthorizationPolicy meshed: 0.0.0.0/0, ::/0 / *.shop.serviceaccount.identity.weft.cluster.local',
      'AuthorizationPolicy from-office: 10.0.0.0/8 !10.9.0.0/16 / anyone',
    ]);
  });

  it('requires every referenced authentication at once', () => {
    const result = compiled({
      authorizationPolicies: [
        policy(
          'meshed-from-office',
          { kind: 'Server', name: 'web-http' },
          { kind: 'MeshTLSAuthentication', name: 'clients' },
          { kind: 'NetworkAuthentication', name: 'office' },
          { kind: 'ServiceAccount', name: 'web' },
        ),
      ],
    });
    expect(summary(result.authorizations)).toEqual([
      'AuthorizationPolicy meshed-from-office: 10.0.0.0/8 !10.9.0.0/16 / web.shop.serviceaccount.identity.weft.cluster.local',
    ]);
  });

  it('leaves out a policy whose requirements no client can meet', () => {
    const books: MeshTlsAuthentication = { ...clients, name: 'books', identities: [unwrap(parseIdentityPattern('*.books.cluster.local'))] };
    const result = compiled({
      meshTlsAuthentications: [clients, books],
      authorizationPolicies: [
        policy('impossible', { kind: 'Server', name: 'web-http' }, { kind: 'MeshTLSAuthentication', name: 'clients' }, {
          kind: 'MeshTLSAuthentication',
          name: 'books',
        }),
      ],
    });
    expect(result.authorizations).toEqual([]);
  });

  it('resolves service accounts with the trust domain, and authentications of other namespaces', () => {
    const shared: MeshTlsAuthentication = {
      name: 'shared',
      namespace: 'infra',
      identities: [],
      identityRefs: [{ kind: 'ServiceAccount', name: 'prometheus' }, { kind: 'Namespace', name: 'ops' }],
    };
    const result = compiled({
      trustDomain: 'example.org',
      meshTlsAuthentications: [clients, shared],
      authorizationPolicies: [
        policy('sa', { kind: 'Server', name: 'web-http' }, { kind: 'ServiceAccount', name: 'api', namespace: 'books' }),
        policy('infra', { kind: 'Server', name: 'web-http' }, { kind: 'MeshTLSAuthentication', name: 'shared', namespace: 'infra' }),
      ],
    });
    expect(summary(result.authorizations)).toEqual([
      'AuthorizationPolicy sa: 0.0.0.0/0, ::/0 / api.books.serviceaccount.identity.weft.example.org',
      'AuthorizationPolicy infra: 0.0.0.0/0, ::/0 / prometheus.infra.serviceaccount.identity.weft.example.org, ' +
        '*.ops.serviceaccount.identity.weft.example.org',
    ]);
  });

  it('adds the Server access policy, and audit mode for accessPolicy audit', () => {
    const open = compiled({ servers: [{ ...webServer, accessPolicy: 'cluster-unauthenticated' }], clusterNetworks: [cidr('10.0.0.0/8')] });
    expect(summary(open.authorizations)).toEqual(['default cluster-unauthenticated: 10.0.0.0/8 / anyone']);
    const audited = compiled({ servers: [{ ...webServer, accessPolicy: 'audit' }] });
    expect(audited).toMatchObject({ audit: true, authorizations: [] });
  });
});

describe('compileInboundServerPolicy: routes', () => {
  const admin: PolicyHttpRoute = {
    name: 'admin',
    namespace: 'shop',
    parentRefs: [{ kind: 'Server', name: 'web-http' }],
    matches: [{ path: { type: 'PathPrefix', value: '/admin' } }],
  };
  const routes: PolicyHttpRoute[] = [
    admin,
    { name: 'other', namespace: 'shop', parentRefs: [{ kind: 'Server', name: 'api' }], matches: [] },
    { name: 'elsewhere', namespace: 'books', parentRefs: [{ kind: 'Server', name: 'web-http' }], matches: [] },
  ];

  it('attaches the Server routes with the policies targeting each', () => {
    const result = compiled({
      httpRoutes: routes,
      authorizationPolicies: [policy('admins', { kind: 'HttpRoute', name: 'admin' }, { kind: 'ServiceAccount', name: 'ops' })],
    });
    expect(result.authorizations).toEqual([]);
    expect(result.httpRoutes.map((r) => r.name)).toEqual(['admin']);
    expect(result.httpRoutes[0]?.matches).toEqual(admin.matches);
    expect(summary(result.httpRoutes[0]?.authorizations ?? [])).toEqual([
      'AuthorizationPolicy admins: 0.0.0.0/0, ::/0 / ops.shop.serviceaccount.identity.weft.cluster.local',
    ]);
  });

  it('refuses a route with a bad condition, naming the route', () => {
    const broken: PolicyHttpRoute = { ...admin, matches: [{ path: { type: 'RegularExpression', value: '/a(' } }] };
    const error = failure({ httpRoutes: [broken] });
    expect(error.input).toBe('HttpRoute shop/admin');
    expect(error.reason).toContain('"/a("');
  });
});

describe('compileInboundServerPolicy: bad references', () => {
  it.each([
    [{ kind: 'MeshTLSAuthentication', name: 'missing' }, { kind: 'MeshTLSAuthentication', namespace: 'shop', name: 'missing' }],
    [{ kind: 'NetworkAuthentication', name: 'office', namespace: 'infra' }, { kind: 'NetworkAuthentication', namespace: 'infra', name: 'office' }],
  ] as const)('names the policy and the missing %j', (ref, reference) => {
    const error = failure({ authorizationPolicies: [policy('web-clients', { kind: 'Server', name: 'web-http' }, ref)] });
    expect(error.input).toBe('AuthorizationPolicy shop/web-clients');
    expect(error.reference).toEqual(reference);
    expect(error.toString()).toContain(`invalid policy "AuthorizationPolicy shop/web-clients": requires ${reference.kind} ${reference.namespace}/${reference.name}`);
  });

  it('names a service account that cannot be an identity', () => {
    const error = failure({ authorizationPolicies: [policy('bad-sa', { kind: 'Namespace' }, { kind: 'ServiceAccount', name: 'Web_1' })] });
    expect(error.input).toBe('AuthorizationPolicy shop/bad-sa');
    expect(error.reference).toEqual({ kind: 'ServiceAccount', namespace: 'shop', name: 'Web_1' });
    expect(error.reason).toContain('"Web_1"');
  });

  it('ignores broken resources that do not apply to the port', () => {
    const result = compileInboundServerPolicy(
      input({
        authorizationPolicies: [policy('broken', { kind: 'Server', name: 'api' }, { kind: 'MeshTLSAuthentication', name: 'missing' })],
        httpRoutes: [{ name: 'bad', namespace: 'shop', parentRefs: [{ kind: 'Server', name: 'api' }], matches: [{ method: 'G T' }] }],
      }),
    );
    expect(result.ok).toBe(true);
  });
});
