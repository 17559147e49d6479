import { applyEndpointUpdate, type Authority, DiscoverEndpoints, type EndpointSet, type EndpointUpdate, formatAuthority, parseAuthority, unwrap } from '@weft/core';
import { describeDiscoverEndpointsContract } from '@weft/fixtures';
import { Container } from 'inversify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { contractView } from './contract-view.spec-helper.js';
import { DockerDiscoverEndpoints, type DockerDiscoveryOptions } from './docker-discover-endpoints.js';
import { DockerEngineUnavailableError } from './docker-engine.js';
import { dockerModule } from './docker.module.js';
import { FakeDockerEngine, fakeContainer } from './fake-docker-engine.spec-helper.js';

const authority = (text: string): Authority => unwrap(parseAuthority(text));

class Log {
  readonly errors: string[] = [];
  readonly infos: string[] = [];
  readonly sink = { error: (message: string) => this.errors.push(message), info: (message: string) => this.infos.push(message) };
}

const open: DockerDiscoverEndpoints[] = [];
afterEach(() => {
  for (const discovery of open.splice(0)) discovery.close();
});

async function started(engine: FakeDockerEngine, options: DockerDiscoveryOptions = {}): Promise<{ discovery: DockerDiscoverEndpoints; log: Log }> {
  const log = new Log();
  const discovery = new DockerDiscoverEndpoints(engine, { batchMs: 1, backoff: { initialMs: 5, maxMs: 20 }, log: log.sink, ...options });
  open.push(discovery);
  await discovery.start();
  return { discovery, log };
}

function watch(discovery: DockerDiscoverEndpoints, text: string): { updates: EndpointUpdate[]; held: () => EndpointSet } {
  const updates: EndpointUpdate[] = [];
  discovery.watch(authority(text), (update) => updates.push(update));
  return { updates, held: () => updates.reduce<EndpointSet>(applyEndpointUpdate, new Map()) };
}

describeDiscoverEndpointsContract('DockerDiscoverEndpoints over a fake engine', async () => {
  const engine = new FakeDockerEngine();
  const discovery = new DockerDiscoverEndpoints(engine, { batchMs: 1, log: new Log().sink });
  await discovery.start();
  const owned = new Map<string, string[]>();
  const clear = (target: Authority): void => {
    for (const id of owned.get(formatAuthority(target)) ?? []) engine.remove(id);
    owned.delete(formatAuthority(target));
  };
  return {
    port: contractView(discovery),
    setEndpoints: async (target, endpoints) => {
      if (target.kind !== 'service') throw new Error('the Docker harness serves service authorities');
      clear(target);
      const labels = { 'weft.io/service': target.name, 'weft.io/namespace': target.namespace, 'weft.io/port': String(target.port) };
      // A stopped container keeps the service in existence without endpoints.
      const containers =
        endpoints.length === 0
          ? [fakeContainer(`${target.name}-stopped`, labels, [], { running: false })]
          : endpoints.map((endpoint) =>
              fakeContainer(`pod-${endpoint.address.ip}`, { ...labels, 'weft.io/weight': String(endpoint.weight) }, [endpoint.address.ip]),
            );
      for (const container of containers) engine.put(container);
      owned.set(formatAuthority(target), containers.map((container) => container.id));
      await discovery.settled();
    },
    deleteService: async (target) => {
      clear(target);
      await discovery.settled();
    },
    close: async () => discovery.close(),
  };
});

describe('DockerDiscoverEndpoints', () => {
  it('publishes a labelled container under <service>.<namespace>.svc.<cluster domain>:<port>', async () => {
    const engine = new FakeDockerEngine();
    engine.put(fakeContainer('web-1', { 'weft.io/service': 'web', 'weft.io/namespace': 'shop', 'weft.io/port': '8080' }, ['172.18.0.3']));
    const { discovery } = await started(engine);
    const web = watch(discovery, 'web.shop.svc.cluster.local:8080');
    expect(web.updates).toEqual([
      {
        kind: 'reset',
        endpoints: [{ address: { ip: '172.18.0.3', port: 8080 }, weight: 10_000, labels: { namespace: 'shop', service: 'web', pod: 'web-1' } }],
      },
    ]);
    expect(watch(discovery, 'web.shop.svc.cluster.local:9090').updates).toEqual([{ kind: 'doesNotExist' }]);
  });

  it('uses the Compose service and project as service and namespace, and the cluster domain it is given', async () => {
    const engine = new FakeDockerEngine();
    engine.put(fakeContainer('demo-api-1', { 'com.docker.compose.service': 'api', 'com.docker.compose.project': 'demo', 'weft.io/port': '9090' }, ['10.1.0.2']));
    engine.put(fakeContainer('plain', { 'weft.io/service': 'plain', 'weft.io/port': '80' }, ['10.1.0.3']));
    const { discovery } = await started(engine, { clusterDomain: 'weft.test' });
    expect(watch(discovery, 'api.demo.svc.weft.test:9090').held().has('10.1.0.2:9090')).toBe(true);
    expect(watch(discovery, 'plain.default.svc.weft.test:80').held().has('10.1.0.3:80')).toBe(true);
  });

  it('gives a meshed container its identity and the proxy inbound port, one endpoint per network and port', async () => {
    const engine = new FakeDockerEngine();
    const labels = { 'weft.io/service': 'api', 'weft.io/namespace': 'shop', 'weft.io/port': '8080,9090', 'weft.io/inject': 'enabled', 'weft.io/service-account': 'api-sa' };
    engine.put(fakeContainer('api-1', labels, ['172.18.0.4', '172.19.0.4']));
    const { discovery } = await started(engine, { trustDomain: 'example.org' });
    const held = watch(discovery, 'api.shop:9090').held();
    expect([...held.keys()].sort()).toEqual(['172.18.0.4:9090', '172.19.0.4:9090']);
    expect(held.get('172.18.0.4:9090')).toEqual({
      address: { ip: '172.18.0.4', port: 9090 },
      weight: 10_000,
      labels: { namespace: 'shop', service: 'api', pod: 'api-1', serviceaccount: 'api-sa' },
      tlsIdentity: 'api-sa.shop.serviceaccount.identity.weft.example.org',
      proxyInboundPort: 4243,
    });
    expect(watch(discovery, 'api.shop:8080').held().size).toBe(2);
  });

  it('leaves out unhealthy and starting containers, keeps healthy ones, and keeps a stopped service in existence', async () => {
    const engine = new FakeDockerEngine();
    const labels = { 'weft.io/service': 'web', 'weft.io/port': '80' };
    engine.put(fakeContainer('a', labels, ['10.0.0.1'], { health: 'unhealthy' }));
    engine.put(fakeContainer('b', labels, ['10.0.0.2'], { health: 'starting' }));
    engine.put(fakeContainer('c', labels, ['10.0.0.3'], { health: 'healthy' }));
    engine.put(fakeContainer('d', { 'weft.io/service': 'gone', 'weft.io/port': '80' }, [], { running: false }));
    const { discovery } = await started(engine);
    expect([...watch(discovery, 'web:80').held().keys()]).toEqual(['10.0.0.3:80']);
    expect(watch(discovery, 'gone:80').updates).toEqual([{ kind: 'reset', endpoints: [] }]);
  });

  it('follows health events: a container turning unhealthy is removed, healthy again is added', async () => {
    const engine = new FakeDockerEngine();
    const container = fakeContainer('a', { 'weft.io/service': 'web', 'weft.io/port': '80' }, ['10.0.0.1'], { health: 'healthy' });
    engine.put(container);
    const { discovery } = await started(engine);
    const web = watch(discovery, 'web:80');
    engine.put({ ...container, health: 'unhealthy' }, 'health_status: unhealthy');
    await vi.waitFor(() => expect(web.updates.at(-1)).toEqual({ kind: 'remove', addresses: [{ ip: '10.0.0.1', port: 80 }] }));
    engine.put({ ...container, health: 'healthy' }, 'health_status: healthy');
    await vi.waitFor(() => expect(web.held().size).toBe(1));
  });

  it('ignores sidecars and containers that are not services', async () => {
    const engine = new FakeDockerEngine();
    engine.put(fakeContainer('web-proxy', { 'weft.io/service': 'web', 'weft.io/port': '80', 'weft.io/sidecar-for': 'abc' }, ['10.0.0.9']));
    engine.put(fakeContainer('db', { 'com.docker.compose.service': 'db' }, ['10.0.0.8']));
    engine.put(fakeContainer('other', {}, ['10.0.0.7']));
    const { discovery, log } = await started(engine);
    expect(discovery.currentWorkloads().size).toBe(0);
    expect(watch(discovery, 'web:80').updates).toEqual([{ kind: 'doesNotExist' }]);
    expect(watch(discovery, '10.0.0.9:80').updates).toEqual([{ kind: 'doesNotExist' }]);
    expect(log.errors).toEqual([]);
  });

  it.each([
    ['weft.io/port', 'http'],
    ['weft.io/port', '70000'],
    ['weft.io/namespace', 'Shop_1'],
    ['weft.io/service', 'my_web'],
    ['weft.io/inject', 'yes'],
  ])('skips a container whose %s is %j, naming the container, label and value, and serves the others', async (label, value) => {
    const engine = new FakeDockerEngine();
    engine.put(fakeContainer('broken-1', { 'weft.io/service': 'web', 'weft.io/port': '80', [label]: value }, ['10.0.0.1']));
    engine.put(fakeContainer('good-1', { 'weft.io/service': 'good', 'weft.io/port': '80' }, ['10.0.0.2']));
    const { discovery, log } = await started(engine);
    expect(log.errors).toHaveLength(1);
    expect(log.errors[0]).toContain('broken-1');
    expect(log.errors[0]).toContain(label);
    expect(log.errors[0]).toContain(JSON.stringify(value));
    expect([...discovery.currentWorkloads().values()].map((workload) => workload.name)).toEqual(['good-1']);
    expect(watch(discovery, 'good:80').held().size).toBe(1);
    // Reported once, not on every resync.
    engine.emit([...engine.containers.keys()][0] as string, 'rename');
    engine.put(fakeContainer('good-2', { 'weft.io/service': 'good', 'weft.io/port': '80' }, ['10.0.0.3']));
    await vi.waitFor(() => expect(watch(discovery, 'good:80').held().size).toBe(2));
    expect(log.errors).toHaveLength(1);
  });

  it('answers an IP authority with that container endpoint, and follows its death', async () => {
    const engine = new FakeDockerEngine();
    const labels = { 'weft.io/service': 'api', 'weft.io/namespace': 'shop', 'weft.io/port': '8080', 'weft.io/inject': 'enabled' };
    const container = fakeContainer('api-1', labels, ['172.18.0.3', 'fd00::3']);
    engine.put(container);
    const { discovery } = await started(engine);
    const byIp = watch(discovery, '172.18.0.3:8080');
    expect(byIp.updates).toEqual([
      {
        kind: 'reset',
        endpoints: [
          {
            address: { ip: '172.18.0.3', port: 8080 },
            weight: 10_000,
            labels: { namespace: 'shop', service: 'api', pod: 'api-1', serviceaccount: 'api' },
            tlsIdentity: 'api.shop.serviceaccount.identity.weft.cluster.local',
            proxyInboundPort: 4243,
          },
        ],
      },
    ]);
    expect(watch(discovery, '[fd00::3]:8080').held().size).toBe(1);
    expect(watch(discovery, '172.18.0.3:9999').updates).toEqual([{ kind: 'doesNotExist' }]);
    expect(watch(discovery, '172.18.0.99:8080').updates).toEqual([{ kind: 'doesNotExist' }]);
    engine.put({ ...container, running: false, networks: [] }, 'die');
    await vi.waitFor(() => expect(byIp.updates.at(-1)).toEqual({ kind: 'doesNotExist' }));
    engine.put(container, 'start');
    await vi.waitFor(() => expect(byIp.updates.at(-1)?.kind).toBe('reset'));
  });

  it('publishes nothing when an event leaves the endpoints as they were', async () => {
    const engine = new FakeDockerEngine();
    const container = fakeContainer('web-1', { 'weft.io/service': 'web', 'weft.io/port': '80' }, ['10.0.0.1']);
    engine.put(container);
    const { discovery } = await started(engine);
    const web = watch(discovery, 'web:80');
    engine.emit(container.id, 'rename');
    engine.put(fakeContainer('other', { 'weft.io/service': 'other', 'weft.io/port': '80' }, ['10.0.0.2']));
    await vi.waitFor(() => expect(watch(discovery, 'other:80').held().size).toBe(1));
    expect(web.updates).toHaveLength(1);
  });

  it('resubscribes after the events stream ends and catches up on what changed meanwhile', async () => {
    const engine = new FakeDockerEngine();
    const { discovery, log } = await started(engine);
    const web = watch(discovery, 'web:80');
    engine.endStreams();
    engine.available = false;
    engine.announce = false;
    engine.put(fakeContainer('web-1', { 'weft.io/service': 'web', 'weft.io/port': '80' }, ['10.0.0.1']));
    await vi.waitFor(() => expect(log.errors.length).toBeGreaterThanOrEqual(2));
    expect(log.errors[0]).toContain('/fake/docker.sock');
    engine.available = true;
    await vi.waitFor(() => expect(web.held().size).toBe(1));
    expect(engine.openStreams).toBe(1);
    engine.announce = true;
    engine.put(fakeContainer('web-2', { 'weft.io/service': 'web', 'weft.io/port': '80' }, ['10.0.0.2']));
    await vi.waitFor(() => expect(web.held().size).toBe(2));
    expect(log.infos.some((message) => message.includes('again'))).toBe(true);
  });

  it('resyncs after dropEventsStream, and on its periodic timer when an event was missed', async () => {
    const engine = new FakeDockerEngine();
    const { discovery } = await started(engine, { resyncIntervalMs: 30 });
    const web = watch(discovery, 'web:80');
    engine.announce = false;
    engine.put(fakeContainer('web-1', { 'weft.io/service': 'web', 'weft.io/port': '80' }, ['10.0.0.1']));
    await vi.waitFor(() => expect(web.held().size).toBe(1));
    const subscribes = engine.subscribeCalls;
    discovery.dropEventsStream();
    await vi.waitFor(() => expect(engine.subscribeCalls).toBe(subscribes + 1));
    expect(engine.openStreams).toBe(1);
  });

  it('fails to start with an error naming the socket when the engine is away, and syncs once it is back', async () => {
    const engine = new FakeDockerEngine();
    engine.available = false;
    const discovery = new DockerDiscoverEndpoints(engine, { batchMs: 1, backoff: { initialMs: 5, maxMs: 10 }, log: new Log().sink });
    open.push(discovery);
    const start = discovery.start();
    await expect(start).rejects.toBeInstanceOf(DockerEngineUnavailableError);
    await expect(start).rejects.toThrow('/fake/docker.sock');
    expect(discovery.isSynced()).toBe(false);
    engine.available = true;
    await vi.waitFor(() => expect(discovery.isSynced()).toBe(true));
  });

  it('stops following the engine on close', async () => {
    const engine = new FakeDockerEngine();
    const { discovery } = await started(engine);
    const web = watch(discovery, 'web:80');
    discovery.close();
    expect(engine.openStreams).toBe(0);
    engine.put(fakeContainer('web-1', { 'weft.io/service': 'web', 'weft.io/port': '80' }, ['10.0.0.1']));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(web.updates).toEqual([{ kind: 'doesNotExist' }]);
  });
});

describe('dockerModule', () => {
  it('binds DiscoverEndpoints to an adapter over the engine, and closes it on unbind', async () => {
    const engine = new FakeDockerEngine();
    engine.put(fakeContainer('web-1', { 'weft.io/service': 'web', 'weft.io/port': '80' }, ['10.0.0.1']));
    const container = new Container();
    container.load(dockerModule({ engine, batchMs: 1, log: new Log().sink }));
    const port = container.get<DiscoverEndpoints>(DiscoverEndpoints);
    expect(port).toBe(container.get(DockerDiscoverEndpoints));
    const updates: EndpointUpdate[] = [];
    port.watch(authority('web:80'), (update) => updates.push(update));
    await vi.waitFor(() => expect(updates.at(-1)?.kind).toBe('reset'));
    await container.unbindAllAsync();
    expect(engine.openStreams).toBe(0);
  });
});
