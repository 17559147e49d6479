import { describe, expect, it } from 'vitest';
import { entryUpstreams } from './mesh-plan.js';
import { planOf } from './mesh-plan.spec-helper.js';

describe('planMesh', () => {
  it('launches the instances with a command, not those with an address', () => {
    const plan = planOf();
    expect(plan.instances.map((instance) => instance.key)).toEqual(['shop/web-0', 'shop/books-0', 'shop/books-legacy']);
    expect(plan.services.map((service) => [service.key, service.instances])).toEqual([
      ['shop/web', ['shop/web-0']],
      ['shop/books', ['shop/books-0', 'shop/books-legacy']],
    ]);
    expect(plan.trustDomain).toBe('cluster.local');
  });

  it('keeps what the file fixes and leaves the rest open', () => {
    const [web, books, legacy] = planOf().instances;
    expect(web).toMatchObject({ appPort: 7001, proxyInboundPort: 4301, proxied: true, serviceAccount: 'web' });
    expect(web?.identity).toEqual({ trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'web' });
    expect(web?.launch).toEqual({ command: ['node', 'web.js'], shell: false, cwd: '/srv/mesh', env: { GREETING: 'hi' } });
    expect(books).toMatchObject({ appPort: 7101, proxied: true });
    expect(books?.proxyInboundPort).toBeUndefined();
    expect(books?.launch).toMatchObject({ command: ['node books.js'], shell: true, cwd: '/srv/mesh/sub' });
    expect(legacy?.identity).toBeUndefined();
    expect(legacy?.proxied).toBe(false);
  });

  it('names each upstream after its service, with the port when one instance calls two ports of it', () => {
    const [web] = planOf().instances;
    expect(web?.upstreams).toEqual([
      { name: 'books', target: 'books.shop.svc.cluster.local:7000', env: 'BOOKS_ADDR', protocol: 'grpc' },
      { name: 'books-7001', target: 'books.shop.svc.cluster.local:7001', env: 'BOOKS_ADMIN_ADDR', localPort: 5001, protocol: 'detect' },
    ]);
  });

  it('gives an unmeshed instance with upstreams a proxy, for its upstream ports', () => {
    const plan = planOf(`apiVersion: weft.io/v1
services:
  - name: load
    ports: [9000]
    instances:
      - { command: [node, load.js], port: 9000, meshed: false, upstreams: [{ service: "api.example.com.:443", env: API }] }
`);
    expect(plan.instances[0]).toMatchObject({ proxied: true, upstreams: [{ name: 'api', target: 'api.example.com:443', env: 'API' }] });
    expect(plan.instances[0]?.identity).toBeUndefined();
  });
});

describe('entryUpstreams', () => {
  it('lists the upstream ports of the instances nobody calls', () => {
    const entries = entryUpstreams(planOf());
    expect(entries.map(({ instance, upstream }) => `${instance.key} ${upstream.env}`)).toEqual(['shop/web-0 BOOKS_ADDR', 'shop/web-0 BOOKS_ADMIN_ADDR']);
  });

  it('falls back to every upstream when each instance is called by another', () => {
    const entries = entryUpstreams(
      planOf(`apiVersion: weft.io/v1
services:
  - name: a
    ports: [80]
    instances: [{ command: [a], port: 7001, upstreams: [{ service: b, env: B }] }]
  - name: b
    ports: [80]
    instances: [{ command: [b], port: 7002, upstreams: [{ service: a, env: A }] }]
`),
    );
    expect(entries.map(({ upstream }) => upstream.env)).toEqual(['B', 'A']);
  });
});
