import { InMemoryDiscoverInboundPolicy } from '@weft/adapter-memory';
import {
  allNetworks,
  defaultClusterNetworks,
  type DiscoverInboundPolicy,
  type InboundServerPolicy,
  type PolicyWorkloadRef,
  type Subscription,
} from '@weft/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TransportEvent } from '../transport/transport-log.js';
import { checkInboundPolicyUpdate, InboundPolicyWatcher, type InboundPolicyWatcherOptions } from './inbound-policy-watcher.js';

const workload: PolicyWorkloadRef = { namespace: 'shop', name: 'books-1' };

/** A Server on `port` admitting one identity over mTLS, from anywhere. */
function serverPolicy(port: number, name = 'books-http'): InboundServerPolicy {
  return {
    port,
    protocol: 'HTTP/1',
    server: { kind: 'Server', name },
    authorizations: [
      {
        name: 'web-only',
        kind: 'AuthorizationPolicy',
        networks: allNetworks,
        authentication: { kind: 'meshTLS', identities: [{ kind: 'exact', name: 'web.shop.serviceaccount.identity.weft.cluster.local' }] },
      },
    ],
    httpRoutes: [],
    audit: false,
  };
}

/** A discovery that answers only when the test says so, as a remote control plane does. */
class DeferredDiscovery implements DiscoverInboundPolicy {
  readonly listeners = new Map<number, (policy: InboundServerPolicy) => void>();
  watches = 0;
  closes = 0;
  failNext = false;

  watch(_workload: PolicyWorkloadRef, port: number, listener: (policy: InboundServerPolicy) => void): Subscription {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('control plane unreachable');
    }
    this.watches += 1;
    this.listeners.set(port, listener);
    return { close: () => (this.closes += 1) };
  }

  send(port: number, policy: InboundServerPolicy): void {
    this.listeners.get(port)?.(policy);
  }
}

describe('InboundPolicyWatcher', () => {
  let events: TransportEvent[] = [];
  let watcher: InboundPolicyWatcher | undefined;
  afterEach(() => {
    watcher?.close();
    vi.useRealTimers();
  });

  function watch(discovery: DiscoverInboundPolicy | undefined, options: Partial<InboundPolicyWatcherOptions> = {}): InboundPolicyWatcher {
    events = [];
    watcher = new InboundPolicyWatcher({
      discovery,
      workload,
      defaultPolicy: 'all-authenticated',
      clusterNetworks: defaultClusterNetworks,
      idleMs: 0,
      log: (event) => events.push(event),
      ...options,
    });
    return watcher;
  }

  it('uses the configured default policy until discovery answers, then what it sent', () => {
    const discovery = new DeferredDiscovery();
    const hold = watch(discovery).retain(8080);
    expect(hold.current().server).toEqual({ kind: 'default', name: 'all-authenticated' });
    expect(hold.current().port).toBe(8080);

    discovery.send(8080, serverPolicy(8080));
    expect(hold.current().server).toEqual({ kind: 'Server', name: 'books-http' });
  });

  it('hands every update to the next reader at once, and a Server removed gives the default back', () => {
    const discovery = InMemoryDiscoverInboundPolicy.create({ defaultPolicy: 'deny' });
    const hold = watch(discovery).retain(8080);
    // The memory adapter answers during watch(): its own default, not the proxy's.
    expect(hold.current().server.name).toBe('deny');

    discovery.setPolicy(workload, 8080, serverPolicy(8080, 'first'));
    expect(hold.current().server.name).toBe('first');
    discovery.setPolicy(workload, 8080, serverPolicy(8080, 'second'));
    expect(hold.current().server.name).toBe('second');
    discovery.clearPolicy(workload, 8080);
    expect(hold.current().server).toEqual({ kind: 'default', name: 'deny' });
  });

  it('keeps the last good policy when an update cannot be used, and logs why', () => {
    const discovery = new DeferredDiscovery();
    const hold = watch(discovery).retain(8080);
    discovery.send(8080, serverPolicy(8080, 'good'));

    discovery.send(8080, serverPolicy(9090, 'other-port'));
    const badRoute: InboundServerPolicy = {
      ...serverPolicy(8080, 'bad-route'),
      httpRoutes: [{ name: 'broken', matches: [{ path: { type: 'RegularExpression', value: '(' } }], authorizations: [] }],
    };
    discovery.send(8080, badRoute);
    discovery.send(8080, { ...serverPolicy(8080, 'no-list'), authorizations: undefined } as unknown as InboundServerPolicy);

    expect(hold.current().server.name).toBe('good');
    expect(events.map((event) => event.event)).toEqual(['inbound_policy_rejected', 'inbound_policy_rejected', 'inbound_policy_rejected']);
    expect(events[0]?.message).toBe(
      'the policy discovery sent for port 8080 is for port 9090, not 8080; the port keeps the policy of Server good',
    );
    expect(events[1]?.message).toContain('HTTP routes that cannot be used: "broken": rules[0].matches[0].path.value "(" is not a valid');

    discovery.send(8080, serverPolicy(8080, 'fixed'));
    expect(hold.current().server.name).toBe('fixed');
  });

  it('watches a port once however many hold it, and stops when the last one lets go', () => {
    const discovery = InMemoryDiscoverInboundPolicy.create();
    const policies = watch(discovery);
    const first = policies.retain(8080);
    const second = policies.retain(8080);
    const other = policies.retain(9090);
    expect(discovery.watcherCount(workload, 8080)).toBe(1);
    expect(policies.watchedPorts()).toEqual([8080, 9090]);

    first.release();
    first.release();
    expect(discovery.watcherCount(workload, 8080)).toBe(1);
    second.release();
    expect(discovery.watcherCount(workload, 8080)).toBe(0);
    expect(policies.watchedPorts()).toEqual([9090]);
    other.release();
    expect(discovery.watcherCount(workload, 9090)).toBe(0);

    // Released holds keep the last policy they saw; a new hold watches again.
    discovery.setPolicy(workload, 8080, serverPolicy(8080));
    expect(first.current().server.kind).toBe('default');
    expect(policies.retain(8080).current().server.kind).toBe('Server');
  });

  it('keeps an unused port watched for the idle time, so a quick return reuses the watch', () => {
    vi.useFakeTimers();
    const discovery = new DeferredDiscovery();
    const policies = watch(discovery, { idleMs: 10_000 });
    policies.retain(8080).release();
    vi.advanceTimersByTime(9_000);
    const again = policies.retain(8080);
    expect(discovery.watches).toBe(1);
    again.release();
    vi.advanceTimersByTime(10_000);
    expect(discovery.closes).toBe(1);
    expect(policies.watchedPorts()).toEqual([]);
  });

  it('gives ports beyond the limit the default policy without watching them, and says so once', () => {
    const discovery = new DeferredDiscovery();
    const policies = watch(discovery, { maxPorts: 2 });
    policies.retain(1);
    policies.retain(2);
    const third = policies.retain(3);
    policies.retain(4);
    expect(discovery.watches).toBe(2);
    expect(third.current()).toMatchObject({ port: 3, server: { kind: 'default', name: 'all-authenticated' } });
    expect(events.filter((event) => event.event === 'inbound_policy_ports_exhausted')).toHaveLength(1);
  });

  it('keeps the default policy when a watch cannot start, and tries again after the retry time', () => {
    vi.useFakeTimers();
    const discovery = new DeferredDiscovery();
    discovery.failNext = true;
    const policies = watch(discovery, { retryMs: 5_000 });
    const first = policies.retain(8080);
    expect(first.current().server.kind).toBe('default');
    expect(events[0]).toMatchObject({ event: 'inbound_policy_watch_failed', port: 8080 });
    expect(events[0]?.message).toContain('control plane unreachable');

    policies.retain(8080);
    expect(discovery.watches).toBe(0);
    vi.advanceTimersByTime(5_000);
    policies.retain(8080);
    expect(discovery.watches).toBe(1);
    discovery.send(8080, serverPolicy(8080));
    expect(first.current().server.kind).toBe('Server');
  });

  it('without discovery gives every port the default policy, and after close watches nothing', () => {
    const policies = watch(undefined, { defaultPolicy: 'cluster-unauthenticated' });
    expect(policies.retain(80).current().authorizations[0]?.name).toBe('cluster-unauthenticated');

    const discovery = InMemoryDiscoverInboundPolicy.create();
    const closing = watch(discovery);
    closing.retain(8080);
    closing.close();
    expect(discovery.watcherCount(workload, 8080)).toBe(0);
    expect(closing.retain(8080).current().server.kind).toBe('default');
    expect(discovery.watcherCount(workload, 8080)).toBe(0);
  });
});

describe('checkInboundPolicyUpdate', () => {
  it('accepts a well-formed policy for the port, routes included', () => {
    const routed: InboundServerPolicy = {
      ...serverPolicy(8080),
      httpRoutes: [{ name: 'admin', matches: [{ path: { type: 'PathPrefix', value: '/admin' } }], authorizations: [] }],
    };
    expect(checkInboundPolicyUpdate(routed, 8080)).toBeUndefined();
  });

  it('names an authorization without a known authentication', () => {
    const policy = serverPolicy(8080);
    const broken = { ...policy, authorizations: [{ ...policy.authorizations[0], authentication: { kind: 'jwt' } }] } as unknown as InboundServerPolicy;
    expect(checkInboundPolicyUpdate(broken, 8080)).toBe('has an authorization "web-only" without networks or a known authentication');
  });
});
