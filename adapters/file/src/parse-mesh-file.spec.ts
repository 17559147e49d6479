import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAuthority, unwrap } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { type MeshConfig, meshEndpointsOf, meshInboundPolicyOf, meshProfileOf, meshWorkloadInboundPolicy } from './mesh-config.js';
import { MeshFileError } from './mesh-file-error.js';
import { loadMeshFile, parseMeshFile } from './parse-mesh-file.js';

const meshes = resolve(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/meshes');

function fixture(name: string): string {
  return readFileSync(join(meshes, name), 'utf8');
}

function parsed(text: string, file = 'mesh.yaml'): MeshConfig {
  const result = parseMeshFile(text, file);
  if (!result.ok) throw new Error(`expected a valid file:\n${result.error.join('\n')}`);
  return result.value;
}

function errorsOf(text: string, file = 'mesh.yaml'): MeshFileError[] {
  const result = parseMeshFile(text, file);
  if (result.ok) throw new Error('expected errors, the file is valid');
  return result.error;
}

/** Each error as "line:column field: reason". */
function located(text: string): string[] {
  return errorsOf(text).map((error) => `${error.line}:${error.column} ${error.field}: ${error.reason}`);
}

const authority = (text: string) => unwrap(parseAuthority(text));

describe('parseMeshFile: the demo mesh', () => {
  const demo = parsed(fixture('demo.yaml'), join(meshes, 'demo.yaml'));

  it('declares four services of three protocols, whose instances weft up launches behind their proxies', () => {
    expect(demo.services.map((service) => `${service.fqdn} ${service.ports.map((port) => `${port.port}/${port.protocol}`).join(',')}`)).toEqual([
      'web.demo.svc.cluster.local 8080/http1',
      'catalog.demo.svc.cluster.local 9090/grpc',
      'feed.demo.svc.cluster.local 8081/websocket',
      'traffic.demo.svc.cluster.local 8090/http1',
    ]);
    const web = demo.instances.find((instance) => instance.name === 'web-0');
    expect(web?.launch).toEqual({ command: ['node', 'apps/demo/dist/web.js'], shell: false, cwd: resolve(meshes, '../..'), env: { PORT: '7001' } });
    expect(web?.upstreams.map((upstream) => [upstream.env, upstream.target])).toEqual([
      ['CATALOG_ADDR', 'catalog.demo.svc.cluster.local:9090'],
      ['FEED_ADDR', 'feed.demo.svc.cluster.local:8081'],
    ]);
    expect(demo.instances.find((instance) => instance.name === 'catalog-slow')?.launch?.env).toEqual({ PORT: '7012', DELAY_MS: '250' });
  });

  it('gives the catalog two meshed gRPC endpoints reached through their proxies', () => {
    expect(meshEndpointsOf(demo, authority('catalog.demo:9090'))?.map((endpoint) => [endpoint.address.port, endpoint.proxyInboundPort, endpoint.protocolHint, endpoint.tlsIdentity])).toEqual([
      [7011, 4311, 'h2', 'catalog.demo.serviceaccount.identity.weft.cluster.local'],
      [7012, 4312, 'h2', 'catalog.demo.serviceaccount.identity.weft.cluster.local'],
    ]);
  });

  it('retries and times out the routes its profiles name', () => {
    const catalog = meshProfileOf(demo, authority('catalog.demo:9090'));
    expect(catalog.routes.map((route) => [route.name, route.isRetryable, route.timeoutMs])).toEqual([
      ['GetItem', true, 300],
      ['ListItems', false, 2_000],
    ]);
    expect(meshProfileOf(demo, authority('web.demo:8080')).retryBudget).toEqual({ retryRatio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000 });
  });

  it('lets only meshed workloads of the namespace call the catalog', () => {
    const policy = unwrap(meshInboundPolicyOf(demo, { namespace: 'demo', name: 'catalog-slow' }, 7012));
    expect(policy.server).toEqual({ kind: 'Server', name: 'catalog-grpc' });
    expect(policy.protocol).toBe('gRPC');
    expect(policy.authorizations.map((authorization) => [authorization.name, authorization.authentication])).toEqual([
      ['catalog-clients', { kind: 'meshTLS', identities: [{ kind: 'suffix', suffix: 'demo.serviceaccount.identity.weft.cluster.local' }] }],
    ]);
    expect(unwrap(meshInboundPolicyOf(demo, { namespace: 'demo', name: 'web-0' }, 7001)).server).toEqual({ kind: 'default', name: 'all-unauthenticated' });
  });
});

describe('parseMeshFile: the shop sample', () => {
  const shop = parsed(fixture('shop.yaml'), join(meshes, 'shop.yaml'));

  it('splits the orders traffic to its canary, and reads the database port as opaque', () => {
    expect(meshProfileOf(shop, authority('orders.shop:8080')).dstOverrides).toEqual([
      { authority: 'orders.shop.svc.cluster.local:8080', weight: 95 },
      { authority: 'orders-canary.shop.svc.cluster.local:8080', weight: 5 },
    ]);
    expect(meshProfileOf(shop, authority('postgres.data:5432')).opaqueProtocol).toBe(true);
    expect(meshEndpointsOf(shop, authority('orders-canary.shop:8080'))?.[0]?.tlsIdentity).toBe('orders.shop.serviceaccount.identity.weft.shop.example');
  });

  it('attaches HTTP routes, each with its own policy, to the server of the orders API', () => {
    const policy = unwrap(meshInboundPolicyOf(shop, { namespace: 'shop', name: 'orders-0' }, 8080));
    expect(policy.authorizations).toEqual([]);
    expect(policy.httpRoutes.map((route) => [route.name, route.matches, route.authorizations.map((authorization) => authorization.authentication)])).toEqual([
      ['orders-read', [{ path: { type: 'PathPrefix', value: '/orders' }, method: 'GET' }], [{ kind: 'meshTLS', identities: [{ kind: 'any' }] }]],
      [
        'orders-write',
        [{ path: { type: 'Exact', value: '/orders' }, method: 'POST', headers: [{ type: 'Exact', name: 'content-type', value: 'application/json' }] }],
        [{ kind: 'meshTLS', identities: [{ kind: 'exact', name: 'storefront.shop.serviceaccount.identity.weft.shop.example' }] }],
      ],
    ]);
    const metrics = unwrap(meshInboundPolicyOf(shop, { namespace: 'shop', name: 'orders-0' }, 9101));
    expect(metrics.server.name).toBe('orders-metrics');
    expect(unwrap(meshInboundPolicyOf(shop, { namespace: 'data', name: 'postgres-0' }, 5432)).server).toEqual({ kind: 'default', name: 'cluster-authenticated' });
  });
});

describe('parseMeshFile: defaults', () => {
  it('needs only an address per instance: namespace default, detected protocol, meshed with the service name as account', () => {
    const config = parsed('apiVersion: weft.io/v1\nservices:\n  - name: web\n    ports: [8080]\n    instances: [{ address: "10.0.0.1:8080" }]\n');
    expect(meshEndpointsOf(config, authority('web:8080'))).toEqual([
      {
        address: { ip: '10.0.0.1', port: 8080 },
        weight: 10_000,
        labels: { namespace: 'default', service: 'web', pod: 'web-0', serviceaccount: 'web' },
        tlsIdentity: 'web.default.serviceaccount.identity.weft.cluster.local',
      },
    ]);
    expect(config.instances[0]?.workloadLabels).toEqual({ 'weft.io/service': 'web', 'weft.io/instance': 'web-0' });
  });

  it('serves further ports of a service on the instance ports named for them, else on the same number', () => {
    const config = parsed(`apiVersion: weft.io/v1
services:
  - name: api
    ports: [{ port: 80, name: http }, { port: 9090, name: grpc }, { port: 9100, name: metrics }]
    instances:
      - { command: "node api.js --port 7001", port: 7001, ports: { grpc: 7002 } }
`);
    expect(config.instances[0]?.ports).toEqual([
      { servicePort: 80, name: 'http', port: 7001 },
      { servicePort: 9090, name: 'grpc', port: 7002 },
      { servicePort: 9100, name: 'metrics', port: 9100 },
    ]);
    expect(config.instances[0]?.launch?.shell).toBe(true);
  });

  it('reads an upstream without a port as the only port of its service, and a name outside the mesh as a DNS name', () => {
    const config = parsed(`apiVersion: weft.io/v1
services:
  - name: db
    ports: [5432]
  - name: web
    ports: [8080]
    instances:
      - command: [web]
        port: 7001
        upstreams:
          - { service: db, env: DB_ADDR, localPort: 7101 }
          - { service: "api.example.com.:443", env: API_ADDR }
`);
    expect(config.instances[0]?.upstreams.map((upstream) => [upstream.target, upstream.env, upstream.localPort])).toEqual([
      ['db.default.svc.cluster.local:5432', 'DB_ADDR', 7101],
      ['api.example.com:443', 'API_ADDR', undefined],
    ]);
  });

  it('follows YAML anchors and merge keys, and locates errors in merged fields where they were written', () => {
    const text = `apiVersion: weft.io/v1
services:
  - name: web
    ports: [8080]
    instances:
      - &base { command: [web], port: 7001, env: { MODE: fast }, weight: -3 }
      - { <<: *base, port: 7002 }
`;
    expect(located(text)).toEqual(['6:74 services[0].instances[0].weight: is -3; the smallest allowed is 0', '6:74 services[0].instances[1].weight: is -3; the smallest allowed is 0']);
    const config = parsed(text.replace('-3', '3'));
    expect(config.instances.map((instance) => [instance.name, instance.ports[0]?.port, instance.launch?.env])).toEqual([
      ['web-0', 7001, { MODE: 'fast' }],
      ['web-1', 7002, { MODE: 'fast' }],
    ]);
  });
});

describe('parseMeshFile: errors', () => {
  it('reports every shape error of the schema at its line, column and field, with what to write instead', () => {
    expect(located(fixture('broken-schema.yaml'))).toEqual([
      '7:5 services[0].prots: unknown field "prots"; did you mean "ports"?',
      '9:17 services[0].ports[0].port: is 70000; the largest allowed is 65535',
      '9:34 services[0].ports[0].protocol: is "http"; write one of detect, http1, http2, grpc, websocket, opaque (did you mean "http1"?)',
      '10:9 services[0].ports[1]: is "Http", not a whole number or a map of fields',
      '12:9 services[0].instances[0]: needs one of "address", "command"',
      '13:9 services[0].instances[1]: has "address" and "command"; give only one of "address", "command"',
      '16:17 services[0].instances[1].weight: is -1; the smallest allowed is 0',
      '17:11 services[1].name: "Books" has uppercase letters; write "books"',
      '24:22 policies.servers[0].proxyProtocol: is "http/1"; write one of unknown, HTTP/1, HTTP/2, gRPC, opaque, TLS (did you mean "HTTP/1"?)',
    ]);
  });

  it("reports values the core's parsers refuse and references to what does not exist, worded as the core words them", () => {
    expect(located(fixture('broken-references.yaml'))).toEqual([
      '13:24 services[0].instances[0].upstreams[0].service: there is no service "bookz" in namespace "shop"; declare it under services, or write a DNS name with a trailing dot for a host outside the mesh',
      '14:18 services[0].instances[1].address: invalid endpoint "10.0.0.300:8080": IPv4 part "300" is above 255; a socket address is an IP and a port, e.g. "10.0.0.1:8080" or "[::1]:8080"',
      '16:16 services[1].namespace: namespace "shoq" is not declared (did you mean "shop"?); add it to namespaces at the top of the file',
      expect.stringMatching(/^23:46 profiles\[0\]\.routes\[0\]\.condition\.pathRegex: invalid route "GET \/books\/\{id\}": pathRegex "\/books\/\(a\+\)\+" can backtrack catastrophically/),
      '24:18 profiles[0].routes[0].timeout: invalid duration "5 seconds": unexpected "5 seconds"; units are ms, s, m and h, e.g. "1m30s"',
      '29:18 policies.networkAuthentications[0].networks[0]: invalid CIDR "10.0.0.0/33": has prefix length "33"; an IPv4 prefix is 0-32, e.g. "10.0.0.0/8"',
      '33:25 policies.authorizationPolicies[0].target.server: there is no server "web-htp" in namespace "shop"',
    ]);
  });

  it('reports the first YAML syntax error only, since the rest are its echoes', () => {
    expect(located(fixture('broken-syntax.yaml'))).toEqual(['6:5 : YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a ]']);
  });

  it('gives each error as a MeshFileError holding the value as written, and a message that names file, place and value', () => {
    const [error] = errorsOf('apiVersion: weft.io/v1\nservices: [{ name: web, ports: [8080], instances: [{ address: "10.0.0.1:99999" }] }]\n', 'meshes/shop.yaml');
    expect(error).toBeInstanceOf(MeshFileError);
    expect(error?.input).toBe('"10.0.0.1:99999"');
    expect(error?.message).toBe(
      'meshes/shop.yaml:2:63 services[0].instances[0].address: invalid endpoint "10.0.0.1:99999": port 99999 is out of range; write a port from 1 to 65535',
    );
    expect(String(error)).toBe(error?.message);
  });

  it('refuses an empty file, another apiVersion, and text that is not a map', () => {
    expect(located('')).toEqual(['1:1 : the file is empty; a mesh file starts with "apiVersion: weft.io/v1"']);
    expect(located('apiVersion: weft.io/v2\n')).toEqual(['1:13 apiVersion: is "weft.io/v2"; write "weft.io/v1"']);
    expect(located('- a\n- b\n')).toEqual(['1:1 : is a list, not a map of fields']);
    expect(located('services: []\n')).toEqual(['1:1 : missing required field "apiVersion": The version of this format. Always `weft.io/v1`.']);
  });

  const head = 'apiVersion: weft.io/v1\nnamespaces: [shop]\n';
  const bare = 'services:\n  - name: web\n    namespace: shop\n    ports: [{ port: 8080, name: http }]\n';
  const web = `${bare}    instances:\n`;
  it.each([
    [
      'a typo of a top-level field',
      'apiVersion: weft.io/v1\nservces: []\n',
      '2:1 servces: unknown field "servces"; did you mean "services"?',
    ],
    [
      'two services of one name',
      `${head}${bare}  - { name: web, namespace: shop, ports: [80] }\n`,
      '7:13 services[1].name: service "web" is already declared in namespace "shop" at services[0]',
    ],
    [
      'two instances of one name',
      `${head}${web}      - { name: a, address: 10.0.0.1:8080 }\n      - { name: a, address: 10.0.0.2:8080 }\n`,
      '9:17 services[0].instances[1].name: instance name "a" is already used in namespace "shop" at services[0].instances[0]',
    ],
    [
      'two instances at one address',
      `${head}${web}      - { address: 10.0.0.1:8080 }\n      - { address: 10.0.0.1:8080 }\n`,
      '9:20 services[0].instances[1].address: 10.0.0.1:8080 is already an instance of service "web" at services[0].instances[0].address',
    ],
    [
      'a port beside an address',
      `${head}${web}      - { address: 10.0.0.1:8080, port: 8080 }\n`,
      '8:35 services[0].instances[0].port: port is only used with command; the port of an instance with an address is part of its address',
    ],
    [
      'a proxy for an unmeshed instance',
      `${head}${web}      - { address: 10.0.0.1:8080, meshed: false, proxy: { inboundPort: 4301 } }\n`,
      '8:57 services[0].instances[0].proxy: an instance that is not meshed has no proxy; remove proxy, or leave out meshed: false',
    ],
    [
      'two launched instances on one loopback port',
      `${head}${web}      - { command: [web], port: 7001, proxy: { inboundPort: 4301 } }\n      - { command: [web], port: 7002, proxy: { inboundPort: 7001 } }\n`,
      '9:61 services[0].instances[1].proxy.inboundPort: port 7001 on the loopback interface is already used at services[0].instances[0].port; each needs its own port',
    ],
    [
      'a further port the service does not have',
      `${head}${web}      - { command: [web], port: 7001, ports: { grpc: 7002 } }\n`,
      '8:48 services[0].instances[0].ports.grpc: service "web" has no further port named "grpc"; its named ports are none (name the service port to map it)',
    ],
    [
      'one variable for two upstreams',
      `${head}${web}      - command: [web]\n        port: 7001\n        upstreams: [{ service: web, env: UP }, { service: web, env: UP }]\n`,
      '10:69 services[0].instances[0].upstreams[1].env: UP is already set at services[0].instances[0].upstreams[0].env; give each upstream its own variable',
    ],
    [
      'an upstream without a port on a service with several',
      `${head}services:\n  - { name: api, namespace: shop, ports: [80, 81] }\n  - { name: web, namespace: shop, ports: [80], instances: [{ command: [w], port: 7001, upstreams: [{ service: api, env: API }] }] }\n`,
      '5:111 services[1].instances[0].upstreams[0].service: service "api" has several ports (80, 81); add the one to use, e.g. "api:80"',
    ],
    [
      'an upstream on a port the service does not have',
      `${head}${web}      - { command: [web], port: 7001, upstreams: [{ service: "web.shop:9999", env: UP }] }\n`,
      '8:62 services[0].instances[0].upstreams[0].service: service "web" in namespace "shop" has no port 9999; its ports are 8080',
    ],
    [
      'a host outside the mesh without a port',
      `${head}${web}      - { command: [web], port: 7001, upstreams: [{ service: api.example.com, env: UP }] }\n`,
      '8:62 services[0].instances[0].upstreams[0].service: "api.example.com" needs a port, e.g. "api.example.com:443"',
    ],
    [
      'a profile for a service that does not exist',
      `${head}${bare}profiles: [{ service: wbe, namespace: shop }]\n`,
      '7:23 profiles[0].service: there is no service "wbe" in namespace "shop" (did you mean "web"?); a profile is for a service declared under services',
    ],
    [
      'two profiles for one service',
      `${head}${bare}profiles: [{ service: web, namespace: shop }, { service: web, namespace: shop }]\n`,
      '7:58 profiles[1].service: service "web" already has a profile at profiles[0]; put all its routes in one profile',
    ],
    [
      'a retry budget window over a minute',
      `${head}${bare}profiles: [{ service: web, namespace: shop, retryBudget: { ttl: 90s } }]\n`,
      '7:65 profiles[0].retryBudget.ttl: invalid retry budget "90000": ttl must be between 1s and 60s (1000..60000 ms), e.g. 10s',
    ],
    [
      'a method that is not an HTTP token',
      `${head}${bare}profiles: [{ service: web, namespace: shop, routes: [{ name: r, condition: { method: "GE T" } }] }]\n`,
      '7:86 profiles[0].routes[0].condition.method: invalid route "r": method "GE T" is not an HTTP method; write e.g. "GET" or "POST"',
    ],
    [
      'a status range upside down',
      `${head}${bare}profiles: [{ service: web, namespace: shop, routes: [{ name: r, condition: { method: GET }, responseClasses: [{ condition: { status: { min: 599, max: 500 } } }] }] }]\n`,
      '7:134 profiles[0].routes[0].responseClasses[0].condition.status: invalid route "r": status range 599..500 is not valid; write whole status codes from 100 to 599 with min <= max, e.g. 500..599',
    ],
    [
      'a traffic split to a service that does not exist',
      `${head}${bare}profiles: [{ service: web, namespace: shop, dstOverrides: [{ authority: "web-v2:8080", weight: 1 }] }]\n`,
      '7:73 profiles[0].dstOverrides[0].authority: there is no service "web-v2" in namespace "shop"; declare it under services, or write a DNS name with a trailing dot for a host outside the mesh',
    ],
    [
      'a server on a port name no service has',
      `${head}${bare}policies: { servers: [{ name: s, namespace: shop, port: htp }] }\n`,
      '7:57 policies.servers[0].port: no service port in namespace "shop" is named "htp" (did you mean "http"?); write a port number or the name of a service port',
    ],
    [
      'two servers on one port of an instance',
      `${head}${web}      - { address: 10.0.0.1:8080 }\npolicies: { servers: [{ name: a, namespace: shop, port: http }, { name: b, namespace: shop, port: 8080, service: web }] }\n`,
      '9:23 policies.servers[0]: invalid policy "Server shop/a": selects port 8080 of this workload, and so does Server b; a port may be selected by one Server only, change the selector or port of one of them (found for instance "web-0" of namespace "shop", port 8080)',
    ],
    [
      'a policy on another namespace',
      `${head}${bare}policies: { authorizationPolicies: [{ name: p, namespace: shop, target: { namespace: default } }] }\n`,
      '7:86 policies.authorizationPolicies[0].target.namespace: a policy protects only its own namespace; write "shop", or move the policy to namespace "default"',
    ],
    [
      'a policy with two targets',
      `${head}${bare}policies: { authorizationPolicies: [{ name: p, namespace: shop, target: { server: a, httpRoute: b } }] }\n`,
      '7:73 policies.authorizationPolicies[0].target: has "server" and "httpRoute"; give only one of "server", "httpRoute", "namespace"',
    ],
    [
      'a mesh TLS authentication that admits nobody',
      `${head}${bare}policies: { meshTLSAuthentications: [{ name: m, namespace: shop }] }\n`,
      '7:38 policies.meshTLSAuthentications[0]: MeshTLSAuthentication "m" lists no identities, so it admits nobody; add identities, serviceAccounts or namespaces',
    ],
    [
      'an identity pattern with a star inside',
      `${head}${bare}policies: { meshTLSAuthentications: [{ name: m, namespace: shop, identities: ["web.*.serviceaccount"] }] }\n`,
      '7:79 policies.meshTLSAuthentications[0].identities[0]: invalid identity pattern "web.*.serviceaccount": "*" may stand only alone or as the whole first label ("*.suffix"); write an identity such as "web.shop.serviceaccount.identity.weft.cluster.local", a suffix such as "*.shop.serviceaccount.identity.weft.cluster.local", or "*" for any meshed client',
    ],
    [
      'a service account with two slashes',
      `${head}${bare}policies: { meshTLSAuthentications: [{ name: m, namespace: shop, serviceAccounts: [a/b/c] }] }\n`,
      '7:84 policies.meshTLSAuthentications[0].serviceAccounts[0]: service account "a/b/c" has more than one "/"; write "name" (in this namespace) or "namespace/name", e.g. "shop/web"',
    ],
    [
      'an exception outside its network',
      `${head}${bare}policies: { networkAuthentications: [{ name: n, namespace: shop, networks: [{ cidr: 10.0.0.0/8, except: [192.168.0.0/16] }] }] }\n`,
      '7:106 policies.networkAuthentications[0].networks[0].except[0]: 192.168.0.0/16 is not inside 10.0.0.0/8; an exception must be part of the network it is taken from',
    ],
    [
      'a bad cluster network',
      `${head}${bare}policies: { clusterNetworks: [10.0.0.0/8, 10.0.0/8] }\n`,
      '7:43 policies.clusterNetworks[1]: invalid CIDR "10.0.0/8": has a bad address: an IPv4 address has 4 parts, not 3',
    ],
    [
      'an HTTP route with a path that is not absolute',
      `${head}${bare}policies: { servers: [{ name: s, namespace: shop, port: http }], httpRoutes: [{ name: r, namespace: shop, server: s, matches: [{ path: { value: api } }] }] }\n`,
      '7:128 policies.httpRoutes[0].matches[0]: invalid route "r": rules[0].matches[0].path.value "api" is not an absolute path; write a path starting with "/" and without spaces, "?" or "#", e.g. "/books"',
    ],
    [
      'a reference to a meshTLS authentication of another namespace that does not exist',
      `${head}${bare}policies: { authorizationPolicies: [{ name: p, namespace: shop, target: { namespace: shop }, requiredAuthentications: [{ meshTLS: m, namespace: default }] }] }\n`,
      '7:131 policies.authorizationPolicies[0].requiredAuthentications[0].meshTLS: there is no MeshTLSAuthentication "m" in namespace "default"',
    ],
  ])('refuses %s', (_what, text, expected) => {
    expect(located(text)).toEqual([expected]);
  });
});

describe('the example in docs/configuration.md', () => {
  it('loads', () => {
    const docs = readFileSync(resolve(meshes, '../../docs/configuration.md'), 'utf8');
    const section = docs.slice(docs.indexOf('## mesh.yaml'));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    expect(parsed(example).services.map((service) => service.name)).toEqual(['web', 'catalog']);
  });
});

describe('loadMeshFile', () => {
  it('reads a file by its path and names the path in its errors', async () => {
    const path = join(meshes, 'broken-syntax.yaml');
    const result = await loadMeshFile(path);
    expect(result.ok ? [] : result.error.map((error) => error.file)).toEqual([path]);
    expect((await loadMeshFile(join(meshes, 'demo.yaml'))).ok).toBe(true);
  });

  it('reports a file that cannot be read as one error', async () => {
    const result = await loadMeshFile(join(meshes, 'nothing-here.yaml'));
    expect(result.ok ? '' : result.error.map(String).join('\n')).toMatch(/nothing-here\.yaml:1:1: cannot be read: ENOENT/);
  });
});

describe('parseMeshFile with externalServices: policies over services that live elsewhere', () => {
  const external = { externalServices: true };
  const head = 'apiVersion: weft.io/v1\nnamespaces: [shop]\npolicies:\n  servers:\n';
  const webHttp = '    - { name: web-http, namespace: shop, service: web, port: http, proxyProtocol: HTTP/1, accessPolicy: deny }\n';

  function externalErrors(text: string): string[] {
    const result = parseMeshFile(text, 'policies.yaml', external);
    if (result.ok) throw new Error('expected errors, the file is valid');
    return result.error.map((error) => error.message);
  }

  it('lets a Server select a service and a port name the file does not declare, matched by labels and port names later', () => {
    const result = parseMeshFile(`${head}${webHttp}`, 'policies.yaml', external);
    if (!result.ok) throw new Error(result.error.join('\n'));
    const config = result.value;
    expect(config.policy.servers).toEqual([
      expect.objectContaining({ name: 'web-http', port: 'http', workloadSelector: { 'weft.io/service': 'web' }, accessPolicy: 'deny' }),
    ]);
    const web = { namespace: 'shop', labels: { 'weft.io/service': 'web', 'weft.io/instance': 'web-1' }, portNames: { http: 8080 } };
    expect(unwrap(meshWorkloadInboundPolicy(config, web, 8080)).server).toEqual({ kind: 'Server', name: 'web-http' });
    expect(unwrap(meshWorkloadInboundPolicy(config, web, 9090)).server).toEqual({ kind: 'default', name: 'all-unauthenticated' });
    const api = { ...web, labels: { 'weft.io/service': 'api' } };
    expect(unwrap(meshWorkloadInboundPolicy(config, api, 8080)).server.kind).toBe('default');
    expect(unwrap(meshWorkloadInboundPolicy(config, { ...web, portNames: {} }, 8080)).server.kind).toBe('default');
  });

  it('refuses the same file without the option, naming the file and each field', () => {
    const result = parseMeshFile(`${head}${webHttp}`, 'policies.yaml');
    expect(result.ok ? [] : result.error.map((error) => error.message)).toEqual([
      'policies.yaml:5:62 policies.servers[0].port: no service port in namespace "shop" is named "http"; write a port number or the name of a service port',
    ]);
    const byNumber = parseMeshFile(`${head}    - { name: s, namespace: shop, service: web, port: 8080 }\n`, 'policies.yaml');
    expect(byNumber.ok ? [] : byNumber.error.map((error) => error.message)).toEqual([
      'policies.yaml:5:44 policies.servers[0].service: there is no service "web" in namespace "shop"',
    ]);
  });

  it('keeps every other check: namespaces, names, references and values', () => {
    const text =
      head +
      '    - { name: a, namespace: shpo, service: web, port: 8080 }\n' +
      '    - { name: b, namespace: shop, service: web, port: 8080 }\n' +
      '    - { name: b, namespace: shop, service: api, port: 9090 }\n' +
      '  authorizationPolicies:\n' +
      '    - { name: p, namespace: shop, target: { server: c }, requiredAuthentications: [{ network: n }] }\n' +
      '  networkAuthentications:\n' +
      '    - { name: n, namespace: shop, networks: [10.0.0/8] }\n';
    expect(externalErrors(text)).toEqual([
      'policies.yaml:5:29 policies.servers[0].namespace: namespace "shpo" is not declared (did you mean "shop"?); add it to namespaces at the top of the file',
      'policies.yaml:7:15 policies.servers[2].name: Server "b" is already declared in namespace "shop" at policies.servers[1]',
      'policies.yaml:9:53 policies.authorizationPolicies[0].target.server: there is no server "c" in namespace "shop" (did you mean "b"?)',
      'policies.yaml:11:46 policies.networkAuthentications[0].networks[0]: invalid CIDR "10.0.0/8": has a bad address: an IPv4 address has 4 parts, not 3',
    ]);
  });

  it('refuses two Servers that would both select the same port of every workload of a named service', () => {
    const text = `${head}    - { name: web-8080, namespace: shop, service: web, port: 8080 }\n    - { name: all-8080, namespace: shop, port: 8080 }\n`;
    expect(externalErrors(text)).toEqual([
      'policies.yaml:5:7 policies.servers[0]: invalid policy "Server shop/web-8080": selects port 8080 of this workload, and so does Server all-8080; a port may be selected by one Server only, change the selector or port of one of them (found for every workload of service "web" in namespace "shop", port 8080)',
    ]);
    // Different labels may tell the workloads apart: only a sure conflict is refused.
    const apart = `${head}    - { name: web-8080, namespace: shop, service: web, port: 8080 }\n    - { name: blue-8080, namespace: shop, service: web, selector: { track: blue }, port: 8080 }\n`;
    expect(parseMeshFile(apart, 'policies.yaml', external).ok).toBe(true);
  });

  it('reads services declared in the file as before', () => {
    const text =
      'apiVersion: weft.io/v1\nnamespaces: [shop]\nservices:\n  - { name: web, namespace: shop, ports: [{ port: 8080, name: http }], instances: [{ address: 10.0.0.1:8080 }] }\n' +
      'policies:\n  servers:\n    - { name: s, namespace: shop, service: web, port: http }\n';
    const config = parsed(text);
    const withOption = parseMeshFile(text, 'mesh.yaml', external);
    expect(withOption.ok && withOption.value.policy).toEqual(config.policy);
    expect(unwrap(meshInboundPolicyOf(config, { namespace: 'shop', name: 'web-0' }, 8080)).server).toEqual({ kind: 'Server', name: 's' });
  });

  const profiles = (entries: string) => `apiVersion: weft.io/v1\nnamespaces: [shop]\nprofiles:\n${entries}`;
  const webProfile =
    '  - service: web\n    namespace: shop\n' +
    '    routes: [{ name: GET /books, condition: { method: GET, pathRegex: /books }, isRetryable: true, timeout: 300ms }]\n' +
    '    dstOverrides: [{ authority: "web:8080", weight: 9 }, { authority: "web-v2.shop:8080", weight: 1 }]\n';

  it('serves a profile for a service the file does not declare under the authority of any of its ports', () => {
    const result = parseMeshFile(profiles(webProfile), 'policies.yaml', external);
    if (!result.ok) throw new Error(result.error.join('\n'));
    const expected = {
      fullyQualifiedName: 'web.shop.svc.cluster.local',
      routes: [{ name: 'GET /books', condition: { all: [{ method: 'GET' }, { pathRegex: '/books' }] }, isRetryable: true, timeoutMs: 300, responseClasses: [] }],
      dstOverrides: [
        { authority: 'web.shop.svc.cluster.local:8080', weight: 9 },
        { authority: 'web-v2.shop.svc.cluster.local:8080', weight: 1 },
      ],
      opaqueProtocol: false,
    };
    expect(meshProfileOf(result.value, authority('web.shop.svc.cluster.local:8080'))).toMatchObject(expected);
    expect(meshProfileOf(result.value, authority('web.shop.svc.cluster.local:9090'))).toMatchObject(expected);
    expect(meshProfileOf(result.value, authority('api.shop.svc.cluster.local:8080')).routes).toEqual([]);
  });

  it('names the profile of an external service after the file\'s cluster domain, as the Docker adapter names its ports', () => {
    const result = parseMeshFile(profiles(webProfile).replace('namespaces:', 'clusterDomain: example.internal\nnamespaces:'), 'policies.yaml', external);
    if (!result.ok) throw new Error(result.error.join('\n'));
    const target = unwrap(parseAuthority('web.shop.svc.example.internal:8080', { clusterDomain: 'example.internal' }));
    expect(meshProfileOf(result.value, target)).toMatchObject({
      fullyQualifiedName: 'web.shop.svc.example.internal',
      routes: [expect.objectContaining({ name: 'GET /books', timeoutMs: 300 })],
      dstOverrides: [{ authority: 'web.shop.svc.example.internal:8080', weight: 9 }, expect.anything()],
    });
  });

  it('refuses the same profile without the option, with the message for a service that does not exist', () => {
    const result = parseMeshFile(profiles(webProfile), 'policies.yaml');
    expect(result.ok ? [] : result.error.map((error) => error.message)).toEqual([
      'policies.yaml:4:14 profiles[0].service: there is no service "web" in namespace "shop"; a profile is for a service declared under services',
    ]);
    const split = parseMeshFile(
      'apiVersion: weft.io/v1\nservices: [{ name: web, ports: [8080] }]\nprofiles: [{ service: web, dstOverrides: [{ authority: "web-v2:8080", weight: 1 }] }]\n',
      'policies.yaml',
    );
    expect(split.ok ? [] : split.error.map((error) => error.message)).toEqual([
      'policies.yaml:3:56 profiles[0].dstOverrides[0].authority: there is no service "web-v2" in namespace "default"; declare it under services, or write a DNS name with a trailing dot for a host outside the mesh',
    ]);
  });

  it('keeps every other profile check: namespaces, one profile per service, routes, timeouts, budgets and split backends', () => {
    const text =
      'apiVersion: weft.io/v1\nnamespaces: [shop]\nservices: [{ name: db, namespace: shop, ports: [5432] }]\nprofiles:\n' +
      '  - { service: web, namespace: shpo }\n' +
      '  - { service: web, namespace: shop, routes: [{ name: r, condition: { method: "GE T" }, timeout: 5 seconds }] }\n' +
      '  - { service: web, namespace: shop }\n' +
      '  - { service: api, namespace: shop, retryBudget: { ttl: 90s } }\n' +
      '  - { service: feed, namespace: shop, dstOverrides: [{ authority: "feed-v2", weight: 1 }, { authority: "db:5433", weight: 1 }, { authority: "api.example.com", weight: 1 }] }\n';
    expect(externalErrors(text)).toEqual([
      'policies.yaml:5:32 profiles[0].namespace: namespace "shpo" is not declared (did you mean "shop"?); add it to namespaces at the top of the file',
      'policies.yaml:6:79 profiles[1].routes[0].condition.method: invalid route "r": method "GE T" is not an HTTP method; write e.g. "GET" or "POST"',
      'policies.yaml:6:98 profiles[1].routes[0].timeout: invalid duration "5 seconds": unexpected "5 seconds"; units are ms, s, m and h, e.g. "1m30s"',
      'policies.yaml:7:16 profiles[2].service: service "web" already has a profile at profiles[1]; put all its routes in one profile',
      'policies.yaml:8:58 profiles[3].retryBudget.ttl: invalid retry budget "90000": ttl must be between 1s and 60s (1000..60000 ms), e.g. 10s',
      'policies.yaml:9:67 profiles[4].dstOverrides[0].authority: service "feed-v2" in namespace "shop" is not declared in the file, so its ports are unknown here; add the port to use, e.g. "feed-v2:8080"',
      'policies.yaml:9:104 profiles[4].dstOverrides[1].authority: service "db" in namespace "shop" has no port 5433; its ports are 5432',
      'policies.yaml:9:141 profiles[4].dstOverrides[2].authority: "api.example.com" needs a port, e.g. "api.example.com:443"',
    ]);
  });

  it('passes the option on when loading a file by its path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-mesh-external-'));
    try {
      const path = join(dir, 'policies.yaml');
      writeFileSync(path, `${head}${webHttp}`);
      expect((await loadMeshFile(path, external)).ok).toBe(true);
      expect((await loadMeshFile(path)).ok).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
