import type { DockerWorkload } from '@weft/adapter-docker';
import { emptyMeshConfig, type MeshConfig, type MeshConfigListener, parseMeshFile } from '@weft/adapter-file';
import type { InboundServerPolicy, Subscription } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { DockerDiscoverInboundPolicy, type DockerPolicyMeshSource, type DockerPolicyWorkloadSource } from './docker-inbound-policy.js';

const FILE = 'policies.yaml';

/** The mesh file as FileMeshSource serves it: applied versions only, each sent to the listeners. */
class InMemoryMeshSource implements DockerPolicyMeshSource {
  private config: MeshConfig = emptyMeshConfig(FILE);
  private readonly listeners = new Set<MeshConfigListener>();

  current(): MeshConfig {
    return this.config;
  }

  onChange(listener: MeshConfigListener): Subscription {
    this.listeners.add(listener);
    return { close: () => void this.listeners.delete(listener) };
  }

  /** Applies `text` as a policies file over external services; a bad one throws, as the source would keep the last. */
  apply(text: string): void {
    const parsed = parseMeshFile(text, FILE, { externalServices: true });
    if (!parsed.ok) throw new Error(parsed.error.join('\n'));
    const previous = this.config;
    this.config = parsed.value;
    for (const listener of this.listeners) listener(this.config, previous);
  }
}

/** The containers as DockerDiscoverEndpoints serves them: every change sends the whole map. */
class InMemoryWorkloads implements DockerPolicyWorkloadSource {
  private workloads = new Map<string, DockerWorkload>();
  private readonly listeners = new Set<(workloads: ReadonlyMap<string, DockerWorkload>) => void>();

  currentWorkloads(): ReadonlyMap<string, DockerWorkload> {
    return this.workloads;
  }

  onWorkloadsChange(listener: (workloads: ReadonlyMap<string, DockerWorkload>) => void): Subscription {
    this.listeners.add(listener);
    return { close: () => void this.listeners.delete(listener) };
  }

  set(workload: DockerWorkload): void {
    this.workloads = new Map(this.workloads).set(workload.containerId, workload);
    this.emit();
  }

  remove(containerId: string): void {
    this.workloads = new Map(this.workloads);
    this.workloads.delete(containerId);
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) listener(this.workloads);
  }
}

function container(name: string, service: string, labels: Record<string, string> = {}, namespace = 'shop'): DockerWorkload {
  return {
    containerId: `id-${name}`,
    name,
    namespace,
    service,
    serviceAccount: service,
    ports: [8080],
    meshed: true,
    weight: 10_000,
    running: true,
    ready: true,
    ips: ['172.18.0.2'],
    labels: { 'weft.io/namespace': namespace, ...labels },
  };
}

const HEAD = 'apiVersion: weft.io/v1\nnamespaces: [shop]\npolicies:\n  servers:\n';
const server = (fields: string) => `    - { namespace: shop, proxyProtocol: HTTP/1, accessPolicy: deny, ${fields} }\n`;

class Harness {
  readonly mesh = new InMemoryMeshSource();
  readonly docker = new InMemoryWorkloads();
  readonly errors: string[] = [];
  readonly adapter = new DockerDiscoverInboundPolicy(this.mesh, this.docker, { error: (message) => this.errors.push(message) });

  /** Every policy the port of the workload was sent, by the name of its server. */
  watch(name: string, port = 8080, namespace = 'shop'): { readonly servers: string[]; readonly policies: InboundServerPolicy[]; readonly subscription: Subscription } {
    const policies: InboundServerPolicy[] = [];
    const servers: string[] = [];
    const subscription = this.adapter.watch({ namespace, name }, port, (policy) => {
      policies.push(policy);
      servers.push(`${policy.server.kind}:${policy.server.name}`);
    });
    return { servers, policies, subscription };
  }
}

describe('DockerDiscoverInboundPolicy', () => {
  let h: Harness;
  afterEach(() => h.adapter.close());

  it('gives a container the Servers that select its service, by number or by a name of its port names label', () => {
    h = new Harness();
    h.docker.set(container('shop-web-1', 'web', { 'weft.io/port-names': 'http=8080, admin=9090' }));
    h.docker.set(container('shop-api-1', 'api'));
    h.mesh.apply(HEAD + server('name: web-http, service: web, port: http') + server('name: web-admin, service: web, port: 9090'));
    expect(h.watch('shop-web-1').servers).toEqual(['Server:web-http']);
    expect(h.watch('shop-web-1', 9090).servers).toEqual(['Server:web-admin']);
    expect(h.watch('shop-web-1', 7000).servers).toEqual(['default:all-unauthenticated']);
    expect(h.watch('shop-api-1').servers).toEqual(['default:all-unauthenticated']);
    expect(h.watch('shop-web-1').policies[0]).toMatchObject({ port: 8080, protocol: 'HTTP/1', authorizations: [] });
    expect(h.errors).toEqual([]);
  });

  it('selects by the container labels, its Compose service and its container name as weft.io/instance', () => {
    h = new Harness();
    h.docker.set(container('shop-web-1', 'web', { 'com.docker.compose.service': 'web', tier: 'front' }));
    h.docker.set(container('shop-web-2', 'web', { 'com.docker.compose.service': 'web', tier: 'back' }));
    h.mesh.apply(HEAD + server('name: front, port: 8080, selector: { tier: front }') + server('name: second, port: 9090, selector: { weft.io/instance: shop-web-2 }'));
    expect(h.watch('shop-web-1').servers).toEqual(['Server:front']);
    expect(h.watch('shop-web-2').servers).toEqual(['default:all-unauthenticated']);
    expect(h.watch('shop-web-2', 9090).servers).toEqual(['Server:second']);
    expect(h.watch('shop-web-1', 9090).servers).toEqual(['default:all-unauthenticated']);
  });

  it('follows containers as they come and go, sending only real changes', () => {
    h = new Harness();
    h.mesh.apply(HEAD + server('name: web-8080, service: web, port: 8080'));
    const web = h.watch('shop-web-1');
    h.docker.set(container('shop-web-1', 'web'));
    h.docker.set(container('shop-other-1', 'other'));
    h.docker.remove('id-shop-other-1');
    h.docker.remove('id-shop-web-1');
    expect(web.servers).toEqual(['default:all-unauthenticated', 'Server:web-8080', 'default:all-unauthenticated']);
  });

  it('applies each new version of the file to the containers', () => {
    h = new Harness();
    h.docker.set(container('shop-web-1', 'web'));
    const web = h.watch('shop-web-1');
    h.mesh.apply(HEAD + server('name: web-8080, service: web, port: 8080'));
    h.mesh.apply(HEAD + server('name: web-8080, service: web, port: 8080').replace('accessPolicy: deny', 'accessPolicy: all-unauthenticated'));
    h.mesh.apply(HEAD + server('name: api-8080, service: api, port: 8080'));
    expect(web.servers).toEqual(['default:all-unauthenticated', 'Server:web-8080', 'Server:web-8080', 'default:all-unauthenticated']);
    expect(web.policies[1]?.authorizations).toEqual([]);
    expect(web.policies[2]?.authorizations.map((authorization) => authorization.name)).toEqual(['all-unauthenticated']);
  });

  it('serves a workload no container has as the file does: namespace-wide Servers only', () => {
    h = new Harness();
    h.mesh.apply(HEAD + server('name: all-8080, port: 8080') + server('name: web-9090, service: web, port: 9090'));
    expect(h.watch('elsewhere').servers).toEqual(['Server:all-8080']);
    expect(h.watch('elsewhere', 9090).servers).toEqual(['default:all-unauthenticated']);
  });

  it('logs a port names label it cannot read once, naming the container and the label, and still applies the numbered Servers', () => {
    h = new Harness();
    h.mesh.apply(HEAD + server('name: web-http, service: web, port: http') + server('name: web-9090, service: web, port: 9090'));
    h.docker.set(container('shop-web-1', 'web', { 'weft.io/port-names': 'http:8080' }));
    expect(h.watch('shop-web-1').servers).toEqual(['default:all-unauthenticated']);
    expect(h.watch('shop-web-1', 9090).servers).toEqual(['Server:web-9090']);
    h.docker.set(container('shop-other-1', 'other'));
    expect(h.errors).toEqual([
      'invalid Docker label "http:8080": label weft.io/port-names of container "shop-web-1" has "http:8080", which is not <name>=<port>; write e.g. "http=8080,admin=9090"; Servers select none of its ports by name until it is fixed',
    ]);
  });

  it('fails closed on a port two Servers select through the container labels, logs it once, and recovers when fixed', () => {
    h = new Harness();
    h.mesh.apply(HEAD + server('name: web-8080, service: web, port: 8080') + server('name: front-8080, port: 8080, selector: { tier: front }'));
    h.docker.set(container('shop-web-1', 'web', { tier: 'front' }));
    const web = h.watch('shop-web-1');
    expect(web.policies[0]).toMatchObject({ server: { kind: 'Server', name: 'web-8080' }, authorizations: [] });
    h.docker.set(container('shop-other-1', 'other'));
    expect(h.errors).toHaveLength(1);
    expect(h.errors[0]).toMatch(/^mesh file policies\.yaml: invalid policy "Server shop\/web-8080": selects port 8080 of this workload, and so does Server front-8080; .*\(found for container "shop-web-1" \(shop\/shop-web-1\), port 8080\); the port admits nobody until this is fixed$/);
    h.docker.set(container('shop-web-1', 'web', { tier: 'back' }));
    expect(web.servers).toEqual(['Server:web-8080', 'Server:web-8080']);
    expect(web.policies[1]?.authorizations).toEqual([]);
    expect(h.errors).toHaveLength(1);
  });

  it('sends nothing after the subscription or the adapter is closed', () => {
    h = new Harness();
    h.mesh.apply(HEAD + server('name: web-8080, service: web, port: 8080'));
    const first = h.watch('shop-web-1');
    const second = h.watch('shop-web-1', 9090);
    first.subscription.close();
    expect(h.adapter.watcherCount({ namespace: 'shop', name: 'shop-web-1' }, 8080)).toBe(0);
    h.docker.set(container('shop-web-1', 'web'));
    h.adapter.close();
    h.mesh.apply(HEAD + server('name: web-9090, service: web, port: 9090'));
    expect(first.servers).toEqual(['default:all-unauthenticated']);
    expect(second.servers).toEqual(['default:all-unauthenticated']);
  });
});
