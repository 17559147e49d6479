import { Server, ServerCredentials, type ServerWritableStream } from '@grpc/grpc-js';
import { destination } from '@weft/contracts';
import {
  allNetworks,
  applyEndpointUpdate,
  defaultServiceProfile,
  type Endpoint,
  type EndpointSet,
  type EndpointUpdate,
  type InboundServerPolicy,
  makeEndpoint,
  parseAuthority,
  type ServiceProfile,
  unwrap,
} from '@weft/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { endpointUpdateToWire } from '../destination/endpoint-to-wire.js';
import { GrpcDiscoverEndpoints } from '../destination/grpc-discover-endpoints.js';
import { GrpcDiscoverProfile } from '../destination/grpc-discover-profile.js';
import { serviceProfileToWire } from '../destination/profile-to-wire.js';
import { GrpcDiscoverInboundPolicy } from '../policy/grpc-discover-inbound-policy.js';
import type { ControlChannel } from './control-channel.js';
import { type ControlClientRecorder, type ControlPlaneTruth, newTruth, TestControlPlane, testChannel } from './control-plane.spec-helper.js';
import { InvalidWireMessageError } from './invalid-wire-message-error.js';

const web = unwrap(parseAuthority('web.shop:8080'));
const a = endpoint('10.0.0.1:8080');
const b = endpoint('10.0.0.2:8080');
const c = endpoint('10.0.0.3:8080');
const workload = { namespace: 'shop', name: 'web-0' };

function endpoint(address: string): Endpoint {
  return unwrap(makeEndpoint({ address, labels: { pod: address } }));
}

function profile(version: number): ServiceProfile {
  return { ...defaultServiceProfile('web.shop.svc.cluster.local'), dstOverrides: [{ authority: 'web-v2.shop:8080', weight: version }] };
}

function serverPolicy(name: string): InboundServerPolicy {
  return {
    port: 8080,
    protocol: 'HTTP/1',
    server: { kind: 'Server', name },
    authorizations: [{ name: 'all', kind: 'AuthorizationPolicy', networks: allNetworks, authentication: { kind: 'unauthenticated' } }],
    httpRoutes: [],
    audit: false,
  };
}

/** A proxy: the three clients on one channel, each watched by one listener that records what it gets. */
class Proxy {
  readonly endpoints: GrpcDiscoverEndpoints;
  readonly profiles: GrpcDiscoverProfile;
  readonly policies: GrpcDiscoverInboundPolicy;
  readonly endpointUpdates: EndpointUpdate[] = [];
  readonly profileUpdates: ServiceProfile[] = [];
  readonly policyUpdates: InboundServerPolicy[] = [];

  constructor(readonly channel: ControlChannel) {
    this.endpoints = new GrpcDiscoverEndpoints(channel);
    this.profiles = new GrpcDiscoverProfile(channel);
    this.policies = new GrpcDiscoverInboundPolicy(channel);
  }

  watchAll(): void {
    this.endpoints.watch(web, (update) => this.endpointUpdates.push(update));
    this.profiles.watch(web, (update) => this.profileUpdates.push(update));
    this.policies.watch(workload, 8080, (update) => this.policyUpdates.push(update));
  }

  held(): EndpointSet {
    return this.endpointUpdates.reduce<EndpointSet>(applyEndpointUpdate, new Map());
  }

  close(): void {
    this.endpoints.close();
    this.profiles.close();
    this.policies.close();
    this.channel.close();
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startPlane(truth: ControlPlaneTruth, port = 0): Promise<TestControlPlane> {
  const plane = await TestControlPlane.start(truth, port);
  cleanups.push(() => plane.stop());
  return plane;
}

function startProxy(address: string, ttlMs?: number): { proxy: Proxy; recorder: ControlClientRecorder } {
  const { channel, recorder } = testChannel(address, ttlMs === undefined ? {} : { lastKnownTtlMs: ttlMs });
  const proxy = new Proxy(channel);
  cleanups.push(() => proxy.close());
  return { proxy, recorder };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('control-plane clients while the control plane is away', () => {
  it.each(['killed', 'shut down'])(
    'keep the last state while it is %s, then converge on its return with only the real changes',
    async (how) => {
      const truth = newTruth();
      truth.endpoints.setEndpoints(web, [a, b]);
      truth.profiles.setProfile(web, profile(1));
      truth.policies.setPolicy(workload, 8080, serverPolicy('web-v1'));
      const first = await TestControlPlane.start(truth);
      cleanups.push(() => first.kill());
      const { proxy, recorder } = startProxy(first.address);
      proxy.watchAll();
      await vi.waitFor(() => {
        expect(proxy.held().size).toBe(2);
        expect(proxy.profileUpdates).toEqual([profile(1)]);
        expect(proxy.policyUpdates).toEqual([serverPolicy('web-v1')]);
      });
      const seen = { endpoints: proxy.endpointUpdates.length };

      if (how === 'killed') first.kill();
      else await first.stop();
      await vi.waitFor(() => expect(recorder.eventsOf('control-stream-failed').length).toBeGreaterThanOrEqual(6));
      truth.endpoints.setEndpoints(web, [b, c]);
      truth.profiles.setProfile(web, profile(2));
      truth.policies.setPolicy(workload, 8080, serverPolicy('web-v2'));
      await sleep(300);
      expect(proxy.endpointUpdates).toHaveLength(seen.endpoints);
      expect(proxy.profileUpdates).toEqual([profile(1)]);
      expect(proxy.policyUpdates).toEqual([serverPolicy('web-v1')]);
      expect(recorder.eventsOf('control-stream-failed').every((event) => event.stale)).toBe(true);

      await startPlane(truth, first.port);
      await vi.waitFor(() => {
        expect([...proxy.held().values()]).toEqual([b, c]);
        expect(proxy.profileUpdates).toEqual([profile(1), profile(2)]);
        expect(proxy.policyUpdates).toEqual([serverPolicy('web-v1'), serverPolicy('web-v2')]);
      }, { timeout: 3_000 });
      // Only the real changes: a left, c came; b was never removed, and nothing was reset.
      expect(proxy.endpointUpdates.slice(seen.endpoints)).toEqual([
        { kind: 'remove', addresses: [a.address] },
        { kind: 'add', endpoints: [c] },
      ]);
      const reconnects = recorder.connected.filter((connected) => connected.reconnect).map((connected) => connected.labels.rpc);
      expect(reconnects.sort()).toEqual(['Get', 'GetProfile', 'WatchPort']);
      expect(recorder.eventsOf('control-stream-restored')).toHaveLength(3);
      expect(recorder.expired).toEqual([]);
    },
  );

  it('replace state older than the time to live, and say so', async () => {
    const truth = newTruth();
    truth.endpoints.setEndpoints(web, [a]);
    truth.profiles.setProfile(web, profile(1));
    truth.policies.setPolicy(workload, 8080, serverPolicy('web-v1'));
    const plane = await TestControlPlane.start(truth);
    cleanups.push(() => plane.kill());
    const { proxy, recorder } = startProxy(plane.address, 400);
    proxy.watchAll();
    await vi.waitFor(() => expect(proxy.policyUpdates).toHaveLength(1));
    plane.kill();
    await sleep(200);
    expect(proxy.endpointUpdates).toHaveLength(1);
    await vi.waitFor(() => {
      expect(proxy.endpointUpdates.at(-1)).toEqual({ kind: 'doesNotExist' });
      expect(proxy.profileUpdates.at(-1)).toEqual(defaultServiceProfile('web.shop.svc.cluster.local'));
      expect(proxy.policyUpdates.at(-1)?.server).toEqual({ kind: 'default', name: 'deny' });
      expect(proxy.policyUpdates.at(-1)?.authorizations).toEqual([]);
    });
    expect(recorder.eventsOf('control-state-expired').map((event) => event.replacement).sort()).toEqual([
      'default policy deny',
      'default profile',
      'doesNotExist',
    ]);
    expect(recorder.expired).toHaveLength(3);
    // The control plane's word replaces the expiry once it is back.
    await startPlane(truth, plane.port);
    await vi.waitFor(() => expect(proxy.endpointUpdates.at(-1)).toEqual({ kind: 'reset', endpoints: [a] }), { timeout: 3_000 });
  });

  it('give a watch that comes back while the control plane is away the state it had', async () => {
    const truth = newTruth();
    truth.endpoints.setEndpoints(web, [a, b]);
    const plane = await TestControlPlane.start(truth);
    cleanups.push(() => plane.kill());
    const { proxy } = startProxy(plane.address);
    const first: EndpointUpdate[] = [];
    const subscription = proxy.endpoints.watch(web, (update) => first.push(update));
    await vi.waitFor(() => expect(first).toHaveLength(1));
    subscription.close();
    plane.kill();
    const again: EndpointUpdate[] = [];
    proxy.endpoints.watch(web, (update) => again.push(update));
    expect(again).toEqual([{ kind: 'reset', endpoints: [a, b] }]);
  });

  it('share one stream per key, and free the server side when the last listener leaves', async () => {
    const truth = newTruth();
    truth.endpoints.setEndpoints(web, [a]);
    const plane = await startPlane(truth);
    const { proxy } = startProxy(plane.address);
    const listeners = [0, 1, 2].map(() => proxy.endpoints.watch(web, () => undefined));
    const other = proxy.endpoints.watch(unwrap(parseAuthority('web.shop.svc.cluster.local:8080')), () => undefined);
    const profiles = proxy.profiles.watch(web, () => undefined);
    const policies = proxy.policies.watch(workload, 8080, () => undefined);
    await vi.waitFor(() => {
      expect(truth.endpoints.watcherCount(web)).toBe(1);
      expect(truth.profiles.watcherCount()).toBe(1);
      expect(truth.policies.watcherCount()).toBe(1);
    });
    for (const subscription of [...listeners, profiles, policies]) subscription.close();
    await sleep(100);
    expect(truth.endpoints.watcherCount(web)).toBe(1);
    other.close();
    await vi.waitFor(() => {
      expect(truth.endpoints.watcherCount() + truth.profiles.watcherCount() + truth.policies.watcherCount()).toBe(0);
      expect(plane.destination.openStreams + plane.policy.openStreams).toBe(0);
    });
  });
});

describe('control-plane clients facing a control plane that sends bad messages', () => {
  /** A Destination server that sends the given messages on every Get and GetProfile stream, then keeps it open. */
  async function rogue(updates: destination.Update[], profiles: destination.DestinationProfile[]): Promise<string> {
    const server = new Server();
    server.addService(destination.DestinationService, {
      get: (call: ServerWritableStream<destination.GetDestination, destination.Update>) => updates.forEach((u) => call.write(u)),
      getProfile: (call: ServerWritableStream<destination.GetDestination, destination.DestinationProfile>) =>
        profiles.forEach((p) => call.write(p)),
    } satisfies destination.DestinationServer);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    cleanups.push(() => server.forceShutdown());
    return `127.0.0.1:${port}`;
  }

  const badAdd: destination.Update = {
    kind: { $case: 'add', value: { addrs: [{ addr: { ip: 'not-an-ip', port: 80 }, weight: 1, metricLabels: {} }], metricLabels: {} } },
  };

  it('refuse a bad endpoint update with a typed error, keep the set and restart the stream', async () => {
    const address = await rogue([endpointUpdateToWire({ kind: 'reset', endpoints: [a] }), badAdd], []);
    const { proxy, recorder } = startProxy(address);
    proxy.endpoints.watch(web, (update) => proxy.endpointUpdates.push(update));
    await vi.waitFor(() => expect(recorder.requested.length).toBeGreaterThanOrEqual(3));
    expect(proxy.endpointUpdates).toEqual([{ kind: 'reset', endpoints: [a] }]);
    const refused = recorder.eventsOf('control-message-refused')[0]?.error;
    expect(refused).toBeInstanceOf(InvalidWireMessageError);
    expect(refused?.field).toBe('add.addrs[0].addr.ip');
    expect(refused?.input).toBe('not-an-ip');
    expect(recorder.errors.map((error) => error.reason)).toContain('invalid_message');
  });

  it('refuse a stream that opens with an incremental update', async () => {
    const address = await rogue([endpointUpdateToWire({ kind: 'add', endpoints: [a] })], []);
    const { proxy, recorder } = startProxy(address);
    proxy.endpoints.watch(web, (update) => proxy.endpointUpdates.push(update));
    await vi.waitFor(() => expect(recorder.eventsOf('control-message-refused').length).toBeGreaterThanOrEqual(1));
    expect(recorder.eventsOf('control-message-refused')[0]?.error.field).toBe('kind');
    expect(proxy.endpointUpdates).toEqual([]);
  });

  it('skip a bad profile and keep serving the stream', async () => {
    const good = serviceProfileToWire(profile(1));
    const bad: destination.DestinationProfile = { ...good, routes: [{ name: 'r', responseClasses: [], isRetryable: false }] };
    const address = await rogue([], [bad, good]);
    const { proxy, recorder } = startProxy(address);
    proxy.profiles.watch(web, (update) => proxy.profileUpdates.push(update));
    await vi.waitFor(() => expect(proxy.profileUpdates).toEqual([profile(1)]));
    expect(recorder.eventsOf('control-message-refused')[0]?.error.field).toBe('routes[0].condition');
    expect(recorder.requested).toHaveLength(1);
  });
});
