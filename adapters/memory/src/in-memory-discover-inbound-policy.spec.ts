import { defaultInboundServerPolicy, parseCidr, unwrap, type InboundServerPolicy } from '@weft/core';
import { describeDiscoverInboundPolicyContract } from '@weft/fixtures';
import { describe, expect, it } from 'vitest';
import { InMemoryDiscoverInboundPolicy } from './in-memory-discover-inbound-policy.js';

describeDiscoverInboundPolicyContract('InMemoryDiscoverInboundPolicy', () => {
  const discovery = new InMemoryDiscoverInboundPolicy();
  return {
    port: discovery,
    setPolicy: async (workload, port, policy) => discovery.setPolicy(workload, port, policy),
    clearPolicy: async (workload, port) => discovery.clearPolicy(workload, port),
    defaultPolicy: (port) => discovery.defaultPolicyFor(port),
    close: async () => undefined,
  };
});

const web = { namespace: 'shop', name: 'web-0' };
const closed: InboundServerPolicy = {
  port: 8080,
  protocol: 'opaque',
  server: { kind: 'Server', name: 'web-closed' },
  authorizations: [],
  httpRoutes: [],
  audit: false,
};

describe('InMemoryDiscoverInboundPolicy', () => {
  it('sends the first message before watch returns', () => {
    const discovery = new InMemoryDiscoverInboundPolicy();
    const received: InboundServerPolicy[] = [];
    discovery.watch(web, 8080, (policy) => received.push(policy));
    expect(received).toEqual([defaultInboundServerPolicy(8080, 'all-unauthenticated')]);
    discovery.setPolicy(web, 8080, closed);
    expect(received).toEqual([defaultInboundServerPolicy(8080, 'all-unauthenticated'), closed]);
  });

  it('uses the default policy and cluster networks it was created with', () => {
    const networks = [unwrap(parseCidr('10.0.0.0/8'))];
    const discovery = InMemoryDiscoverInboundPolicy.create({ defaultPolicy: 'cluster-authenticated', clusterNetworks: networks });
    const received: InboundServerPolicy[] = [];
    discovery.watch(web, 80, (policy) => received.push(policy));
    expect(received).toEqual([defaultInboundServerPolicy(80, 'cluster-authenticated', networks)]);
    expect(InMemoryDiscoverInboundPolicy.create({ defaultPolicy: 'deny' }).defaultPolicyFor(80).server).toEqual({
      kind: 'default',
      name: 'deny',
    });
  });

  it('keeps delivering to other watchers when one throws, then reports the error', () => {
    const discovery = new InMemoryDiscoverInboundPolicy();
    let calls = 0;
    const received: InboundServerPolicy[] = [];
    discovery.watch(web, 8080, () => {
      calls += 1;
      if (calls > 1) throw new Error('listener failed');
    });
    discovery.watch(web, 8080, (policy) => received.push(policy));
    expect(() => discovery.setPolicy(web, 8080, closed)).toThrow('listener failed');
    expect(received.at(-1)).toEqual(closed);
  });

  it('delivers changes made by a listener after the current one, in order', () => {
    const discovery = new InMemoryDiscoverInboundPolicy();
    const seen: string[] = [];
    discovery.watch(web, 8080, (policy) => {
      seen.push(`a:${policy.server.name}`);
      if (policy.server.name === 'web-closed') discovery.clearPolicy(web, 8080);
    });
    discovery.watch(web, 8080, (policy) => seen.push(`b:${policy.server.name}`));
    discovery.setPolicy(web, 8080, closed);
    expect(seen).toEqual([
      'a:all-unauthenticated',
      'b:all-unauthenticated',
      'a:web-closed',
      'b:web-closed',
      'a:all-unauthenticated',
      'b:all-unauthenticated',
    ]);
  });

  it('forgets closed watches, and clearing an unset port sends nothing', () => {
    const discovery = new InMemoryDiscoverInboundPolicy();
    const received: InboundServerPolicy[] = [];
    const subscription = discovery.watch(web, 8080, (policy) => received.push(policy));
    expect(discovery.watcherCount(web, 8080)).toBe(1);
    discovery.clearPolicy(web, 8080);
    expect(received).toHaveLength(1);
    subscription.close();
    subscription.close();
    expect(discovery.watcherCount(web, 8080)).toBe(0);
    discovery.setPolicy(web, 8080, closed);
    expect(received).toHaveLength(1);
  });

  it('does not call a watch that another listener closed during the same delivery', () => {
    const discovery = new InMemoryDiscoverInboundPolicy();
    const received: InboundServerPolicy[] = [];
    const later: { close(): void }[] = [];
    discovery.watch(web, 8080, (policy) => {
      if (policy === closed) for (const subscription of later) subscription.close();
    });
    later.push(discovery.watch(web, 8080, (policy) => received.push(policy)));
    discovery.setPolicy(web, 8080, closed);
    expect(received).toHaveLength(1);
  });

  it('keeps workloads whose names contain separators apart', () => {
    const discovery = new InMemoryDiscoverInboundPolicy();
    const received: InboundServerPolicy[] = [];
    discovery.watch({ namespace: 'a/b', name: 'c' }, 80, (policy) => received.push(policy));
    discovery.setPolicy({ namespace: 'a', name: 'b/c' }, 80, closed);
    expect(received).toHaveLength(1);
  });
});
