import { applyEndpointUpdate, type Authority, type EndpointSet, type EndpointUpdate, formatAuthority, parseAuthority, unwrap } from '@weft/core';
import { describeDiscoverEndpointsContract } from '@weft/fixtures';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { contractView } from './contract-view.spec-helper.js';
import { DockerDiscoverEndpoints } from './docker-discover-endpoints.js';
import { ControlledEngine, DOCKER_SOCKET, DockerTestHost, dockerOrSkip, uniqueName } from './docker-test-host.spec-helper.js';
import { DockerodeEngine } from './dockerode-engine.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

const hasDocker = dockerOrSkip();
const authority = (text: string): Authority => unwrap(parseAuthority(text));
const quietLog = { info: () => undefined, error: () => undefined };

describe.skipIf(!hasDocker)('DockerDiscoverEndpoints on the real engine', () => {
  let host: DockerTestHost;
  let v4: string;
  let dual: string;

  beforeAll(async () => {
    host = new DockerTestHost();
    // The contract's addresses: 10.0.0.1 and .2 on an IPv4 network, fd00::3 on a dual-stack one (whose IPv4 the view drops).
    v4 = await host.network(uniqueName('v4'), { subnets: [{ subnet: '10.0.0.0/24', gateway: '10.0.0.254' }] });
    dual = await host.network(uniqueName('dual'), { ipv6: true, subnets: [{ subnet: '10.0.1.0/24' }, { subnet: 'fd00::/64' }] });
  });
  afterAll(async () => {
    await host?.cleanup();
  });

  describeDiscoverEndpointsContract('DockerDiscoverEndpoints over the real engine', async () => {
    const engine = new ControlledEngine(new DockerodeEngine(DOCKER_SOCKET));
    // The harness resyncs after each change itself; a timed resync while a change is half made (a container removed
    // and its replacement not yet created, on a slow host) would show watchers that intermediate state.
    const batchMs = 10;
    const discovery = new DockerDiscoverEndpoints(engine, { batchMs, resyncIntervalMs: 3_600_000, log: quietLog });
    await discovery.start();
    const owned = new Map<string, Map<string, { id: string; weight: number }>>();
    const remove = async (key: string, address: string): Promise<void> => {
      const container = owned.get(key)?.get(address);
      if (container) await host.remove(container.id);
      owned.get(key)?.delete(address);
    };
    // Changes are made while events are held, then applied by one resync, so a watcher sees only the end state.
    const change = async (work: () => Promise<void>): Promise<void> => {
      engine.hold();
      try {
        // The engine reports the last change's events a little after it is made: a refresh they started may still be
        // batching or inspecting, and would read a container this change removes. Let it land (a resync queues after it).
        await sleep(batchMs * 5);
        await discovery.resyncNow();
        await work();
        await discovery.resyncNow();
      } finally {
        engine.release();
      }
    };
    const clear = async (key: string): Promise<void> => {
      for (const address of [...(owned.get(key)?.keys() ?? [])]) await remove(key, address);
    };
    return {
      port: contractView(discovery, (endpoint) => !endpoint.address.ip.startsWith('10.0.1.')),
      setEndpoints: (target, endpoints) =>
        change(async () => {
          if (target.kind !== 'service') throw new Error('the Docker harness serves service authorities');
          const key = formatAuthority(target);
          const mine = owned.get(key) ?? new Map<string, { id: string; weight: number }>();
          owned.set(key, mine);
          const wanted = new Map(endpoints.map((endpoint) => [endpoint.address.ip, endpoint.weight]));
          for (const [address, container] of [...mine]) {
            if (wanted.get(address) !== container.weight) await remove(key, address);
          }
          const labels = { 'weft.io/service': target.name, 'weft.io/namespace': target.namespace, 'weft.io/port': String(target.port) };
          if (endpoints.length === 0 && !mine.has('stopped')) {
            mine.set('stopped', { id: await host.container({ labels, network: v4, start: false }), weight: 0 });
          }
          if (endpoints.length > 0) await remove(key, 'stopped');
          for (const [ip, weight] of wanted) {
            if (mine.has(ip)) continue;
            const network = ip.includes(':') ? dual : v4;
            mine.set(ip, { id: await host.container({ labels: { ...labels, 'weft.io/weight': String(weight) }, network, ip }), weight });
          }
        }),
      deleteService: (target) => change(() => clear(formatAuthority(target))),
      close: async () => {
        discovery.close();
        for (const key of [...owned.keys()]) await clear(key);
      },
    };
  });

  describe('following the engine', () => {
    let engine: ControlledEngine;
    let discovery: DockerDiscoverEndpoints;
    let net: string;
    const service = uniqueName('svc').replace(/[^a-z0-9-]/g, '').slice(0, 40);

    beforeAll(async () => {
      net = await host.network(uniqueName('events'));
      engine = new ControlledEngine(new DockerodeEngine(DOCKER_SOCKET));
      discovery = new DockerDiscoverEndpoints(engine, { log: quietLog, backoff: { initialMs: 50, maxMs: 200 } });
      await discovery.start();
    });
    afterAll(() => discovery?.close());

    function watch(text: string): { updates: EndpointUpdate[]; held: () => EndpointSet } {
      const updates: EndpointUpdate[] = [];
      discovery.watch(authority(text), (update) => updates.push(update));
      return { updates, held: () => updates.reduce<EndpointSet>(applyEndpointUpdate, new Map()) };
    }

    it('adds a started labelled container within 2 s, with its identity by IP, and removes it within 2 s of docker kill', async () => {
      const labels = { 'weft.io/service': service, 'weft.io/namespace': 'e2e', 'weft.io/port': '8080', 'weft.io/inject': 'enabled' };
      const byName = watch(`${service}.e2e.svc.cluster.local:8080`);
      expect(byName.updates).toEqual([{ kind: 'doesNotExist' }]);
      const id = await host.container({ labels, network: net });
      const ip = await host.ipOf(id, net);
      await vi.waitFor(() => expect([...byName.held().keys()]).toEqual([`${ip}:8080`]), { timeout: 2_000, interval: 20 });
      const byIp = watch(`${ip}:8080`);
      expect(byIp.held().get(`${ip}:8080`)?.tlsIdentity).toBe(`${service}.e2e.serviceaccount.identity.weft.cluster.local`);
      await host.kill(id);
      await vi.waitFor(() => expect(byName.held().size).toBe(0), { timeout: 2_000, interval: 20 });
      await vi.waitFor(() => expect(byIp.updates.at(-1)).toEqual({ kind: 'doesNotExist' }), { timeout: 2_000, interval: 20 });
      await host.remove(id);
    });

    it('resubscribes and resyncs after the events stream drops, catching up on what it missed', async () => {
      const labels = { 'weft.io/service': `${service}-b`, 'weft.io/port': '80' };
      const watched = watch(`${service}-b:80`);
      engine.lose = true;
      const id = await host.container({ labels, network: net });
      const ip = await host.ipOf(id, net);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(watched.updates).toEqual([{ kind: 'doesNotExist' }]);
      engine.lose = false;
      discovery.dropEventsStream();
      await vi.waitFor(() => expect([...watched.held().keys()]).toEqual([`${ip}:80`]), { timeout: 2_000, interval: 20 });
      // The new stream drives updates again.
      await host.kill(id);
      await vi.waitFor(() => expect(watched.held().size).toBe(0), { timeout: 2_000, interval: 20 });
      await host.remove(id);
    });
  });
});

describe('DockerodeEngine', () => {
  it('fails to start with an error naming the socket when no engine listens there', async () => {
    const socket = `/tmp/${uniqueName('nothing')}.sock`;
    const discovery = new DockerDiscoverEndpoints(new DockerodeEngine(socket), { log: quietLog });
    try {
      await expect(discovery.start()).rejects.toThrow(socket);
    } finally {
      discovery.close();
    }
  });
});
