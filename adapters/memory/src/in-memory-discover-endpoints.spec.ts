import { type Endpoint, type EndpointUpdate, makeEndpoint, parseAuthority, unwrap } from '@weft/core';
import { describeDiscoverEndpointsContract } from '@weft/fixtures';
import { describe, expect, it } from 'vitest';
import { InMemoryDiscoverEndpoints } from './in-memory-discover-endpoints.js';

describeDiscoverEndpointsContract('InMemoryDiscoverEndpoints', () => {
  const port = new InMemoryDiscoverEndpoints();
  return {
    port,
    setEndpoints: async (target, endpoints) => port.setEndpoints(target, endpoints),
    deleteService: async (target) => port.deleteService(target),
    close: async () => undefined,
  };
});

const web = unwrap(parseAuthority('web.shop:8080'));
const a = endpoint('10.0.0.1:8080');
const b = endpoint('10.0.0.2:8080');

function endpoint(address: string): Endpoint {
  return unwrap(makeEndpoint({ address }));
}

describe('InMemoryDiscoverEndpoints', () => {
  it('sends the first message before watch returns, and later ones before the change returns', () => {
    const discovery = new InMemoryDiscoverEndpoints();
    const updates: EndpointUpdate[] = [];
    discovery.watch(web, (update) => updates.push(update));
    expect(updates).toEqual([{ kind: 'doesNotExist' }]);
    discovery.setEndpoints(web, [a]);
    expect(updates).toEqual([{ kind: 'doesNotExist' }, { kind: 'reset', endpoints: [a] }]);
    discovery.setEndpoints(web, [a]);
    expect(updates).toHaveLength(2);
  });

  it('treats every spelling of one authority as the same service', () => {
    const discovery = new InMemoryDiscoverEndpoints();
    discovery.setEndpoints(unwrap(parseAuthority('WEB.shop.svc.cluster.local.:8080')), [a]);
    const updates: EndpointUpdate[] = [];
    discovery.watch(web, (update) => updates.push(update));
    expect(updates).toEqual([{ kind: 'reset', endpoints: [a] }]);
    expect(discovery.watcherCount(unwrap(parseAuthority('web.shop.svc:8080')))).toBe(1);
    expect(discovery.watcherCount(unwrap(parseAuthority('web.shop:80')))).toBe(0);
  });

  it('counts open watches', () => {
    const discovery = new InMemoryDiscoverEndpoints();
    const first = discovery.watch(web, () => undefined);
    const second = discovery.watch(web, () => undefined);
    expect(discovery.watcherCount(web)).toBe(2);
    first.close();
    first.close();
    expect(discovery.watcherCount(web)).toBe(1);
    second.close();
    expect(discovery.watcherCount(web)).toBe(0);
  });

  it('keeps delivering to the other listeners when one throws, then reports the error to the caller', () => {
    const discovery = new InMemoryDiscoverEndpoints();
    const failure = new Error('listener bug');
    const received: EndpointUpdate[] = [];
    let calls = 0;
    discovery.watch(web, () => {
      if (calls++ > 0) throw failure;
    });
    discovery.watch(web, (update) => received.push(update));
    expect(() => discovery.setEndpoints(web, [a])).toThrow(failure);
    expect(received.at(-1)).toEqual({ kind: 'reset', endpoints: [a] });
    expect(() => discovery.setEndpoints(web, [a, b])).toThrow(failure);
    expect(received.at(-1)).toEqual({ kind: 'add', endpoints: [b] });
  });

  it('delivers changes made by a listener after the update that caused them', () => {
    const discovery = new InMemoryDiscoverEndpoints();
    const seenByFirst: EndpointUpdate[] = [];
    const seenBySecond: EndpointUpdate[] = [];
    discovery.watch(web, (update) => {
      seenByFirst.push(update);
      if (update.kind === 'reset' && update.endpoints.length === 1) discovery.setEndpoints(web, [a, b]);
    });
    discovery.watch(web, (update) => seenBySecond.push(update));
    discovery.setEndpoints(web, [a]);
    const expected = [{ kind: 'doesNotExist' }, { kind: 'reset', endpoints: [a] }, { kind: 'add', endpoints: [b] }];
    expect(seenByFirst).toEqual(expected);
    expect(seenBySecond).toEqual(expected);
  });

  it('stops delivery to a subscription closed by an earlier listener during the same update', () => {
    const discovery = new InMemoryDiscoverEndpoints();
    const late: EndpointUpdate[] = [];
    discovery.watch(web, (update) => {
      if (update.kind === 'reset') subscription.close();
    });
    const subscription = discovery.watch(web, (update) => late.push(update));
    discovery.setEndpoints(web, [a]);
    expect(late).toEqual([{ kind: 'doesNotExist' }]);
  });

  it('changes nothing when an unknown service is deleted', () => {
    const discovery = new InMemoryDiscoverEndpoints();
    const updates: EndpointUpdate[] = [];
    discovery.watch(web, (update) => updates.push(update));
    discovery.deleteService(web);
    expect(updates).toEqual([{ kind: 'doesNotExist' }]);
  });
});
