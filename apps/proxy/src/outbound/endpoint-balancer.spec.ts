import { FixedClock, fixedTimeModule, InMemoryDiscoverEndpoints, InMemoryResolveName, memoryModule, SeededRandom } from '@weft/adapter-memory';
import { type Authority, type Endpoint, makeEndpoint, parseAuthority, type ResolveName, unwrap } from '@weft/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { EndpointBalancer } from './endpoint-balancer.js';
import { createProxyContainer } from '../proxy-container.js';
import { EndpointBalancerFactory } from '../proxy.module.js';
import type { NameFallbackOptions } from './name-fallback.js';

const books: Authority = unwrap(parseAuthority('books.shop.svc.cluster.local:7000'));
const endpoint = (address: string, weight?: number): Endpoint =>
  unwrap(makeEndpoint(weight === undefined ? { address } : { address, weight }));

describe('EndpointBalancer', () => {
  let discovery: InMemoryDiscoverEndpoints;
  let clock: FixedClock;

  beforeEach(() => {
    discovery = new InMemoryDiscoverEndpoints();
    clock = new FixedClock(0);
  });

  const balancerFor = (target = books) => new EndpointBalancer(discovery, target, clock, new SeededRandom(3));

  it('knows a name that discovery does not', () => {
    const balancer = balancerFor();
    expect(balancer.state()).toBe('does-not-exist');
    expect(balancer.pick()).toBeUndefined();
  });

  it('follows endpoints as discovery adds and removes them', () => {
    discovery.setEndpoints(books, [endpoint('10.0.0.1:7000')]);
    const balancer = balancerFor();
    expect(balancer.state()).toBe('ready');
    discovery.setEndpoints(books, [endpoint('10.0.0.1:7000'), endpoint('10.0.0.2:7000')]);
    expect(balancer.endpoints().map((e) => e.address.ip).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
    discovery.setEndpoints(books, []);
    expect(balancer.state()).toBe('empty');
    expect(balancer.pick()).toBeUndefined();
  });

  it('sends most requests to the faster of two endpoints', () => {
    discovery.setEndpoints(books, [endpoint('10.0.0.1:7000'), endpoint('10.0.0.2:7000')]);
    const balancer = balancerFor();
    const counts = new Map<string, number>();
    for (let i = 0; i < 1_000; i++) {
      const lease = balancer.pick();
      if (!lease) throw new Error('no endpoint picked');
      const ip = lease.endpoint.address.ip;
      counts.set(ip, (counts.get(ip) ?? 0) + 1);
      clock.advance(5);
      lease.finish({ rttMs: ip === '10.0.0.1' ? 2 : 200, failed: false });
    }
    expect(counts.get('10.0.0.1') ?? 0).toBeGreaterThan(900);
  });

  it('keeps what it learned about an endpoint when discovery re-sends it', () => {
    discovery.setEndpoints(books, [endpoint('10.0.0.1:7000'), endpoint('10.0.0.2:7000')]);
    const balancer = balancerFor();
    for (let i = 0; i < 50; i++) {
      const lease = balancer.pick();
      lease?.finish({ rttMs: lease.endpoint.address.ip === '10.0.0.1' ? 500 : 1, failed: false });
    }
    discovery.setEndpoints(books, [endpoint('10.0.0.1:7000', 20_000), endpoint('10.0.0.2:7000')]);
    const picks = Array.from({ length: 200 }, () => {
      const lease = balancer.pick();
      lease?.finish({ rttMs: lease.endpoint.address.ip === '10.0.0.1' ? 500 : 1, failed: false });
      return lease?.endpoint.address.ip;
    });
    expect(picks.filter((ip) => ip === '10.0.0.2').length).toBeGreaterThan(150);
  });

  it('skips a failing endpoint while a healthy one exists, then tries it again after a backoff', () => {
    discovery.setEndpoints(books, [endpoint('10.0.0.1:7000'), endpoint('10.0.0.2:7000')]);
    const balancer = balancerFor();
    balancer.recordOutcome({ ip: '10.0.0.1', port: 7000 }, true);
    for (let i = 0; i < 100; i++) {
      const lease = balancer.pick();
      expect(lease?.endpoint.address.ip).toBe('10.0.0.2');
      lease?.finish({ rttMs: 30, failed: false });
    }
    clock.advance(1_001);
    const ips = new Set(Array.from({ length: 50 }, () => balancer.pick()?.endpoint.address.ip));
    expect(ips).toContain('10.0.0.1');
  });

  it('backs off longer after each consecutive failure, and forgets after a success', () => {
    discovery.setEndpoints(books, [endpoint('10.0.0.1:7000'), endpoint('10.0.0.2:7000')]);
    const balancer = balancerFor();
    const slow = { ip: '10.0.0.1', port: 7000 };
    const picksOfSlow = () => Array.from({ length: 50 }, () => balancer.pick()?.endpoint.address.ip).filter((ip) => ip === '10.0.0.1').length;
    balancer.recordOutcome(slow, true);
    balancer.recordOutcome(slow, true);
    clock.advance(1_500);
    expect(picksOfSlow()).toBe(0);
    clock.advance(1_000);
    expect(picksOfSlow()).toBeGreaterThan(0);
    balancer.recordOutcome(slow, false);
    balancer.recordOutcome(slow, true);
    clock.advance(1_001);
    expect(picksOfSlow()).toBeGreaterThan(0);
  });

  it('still sends to failing endpoints when every endpoint is failing, least recently failed first', () => {
    discovery.setEndpoints(books, [endpoint('10.0.0.1:7000'), endpoint('10.0.0.2:7000')]);
    const balancer = balancerFor();
    balancer.recordOutcome({ ip: '10.0.0.2', port: 7000 }, true);
    clock.advance(10);
    balancer.recordOutcome({ ip: '10.0.0.1', port: 7000 }, true);
    expect(balancer.state()).toBe('ready');
    expect(balancer.pick()?.endpoint.address.ip).toBe('10.0.0.2');
  });

  it('keeps a failing mark across a discovery re-send of the same endpoint', () => {
    discovery.setEndpoints(books, [endpoint('10.0.0.1:7000'), endpoint('10.0.0.2:7000')]);
    const balancer = balancerFor();
    balancer.recordOutcome({ ip: '10.0.0.1', port: 7000 }, true);
    discovery.setEndpoints(books, [endpoint('10.0.0.1:7000', 5_000), endpoint('10.0.0.2:7000')]);
    for (let i = 0; i < 20; i++) expect(balancer.pick()?.endpoint.address.ip).toBe('10.0.0.2');
  });

  it('never sends to an endpoint of weight zero', () => {
    discovery.setEndpoints(books, [endpoint('10.0.0.1:7000', 0), endpoint('10.0.0.2:7000')]);
    const balancer = balancerFor();
    for (let i = 0; i < 100; i++) expect(balancer.pick()?.endpoint.address.ip).toBe('10.0.0.2');
  });

  it('picks among the endpoints of the latest update, whatever it picked before', () => {
    discovery.setEndpoints(books, [endpoint('10.0.0.1:7000')]);
    const balancer = balancerFor();
    for (let i = 0; i < 5; i++) expect(balancer.pick()?.endpoint.address.ip).toBe('10.0.0.1');
    discovery.setEndpoints(books, [endpoint('10.0.0.1:7000', 0), endpoint('10.0.0.2:7000')]);
    for (let i = 0; i < 20; i++) expect(balancer.pick()?.endpoint.address.ip).toBe('10.0.0.2');
    discovery.setEndpoints(books, [endpoint('10.0.0.3:7000')]);
    for (let i = 0; i < 20; i++) expect(balancer.pick()?.endpoint.address.ip).toBe('10.0.0.3');
    discovery.setEndpoints(books, []);
    expect(balancer.pick()).toBeUndefined();
  });

  it('stops following discovery once closed', () => {
    discovery.setEndpoints(books, [endpoint('10.0.0.1:7000')]);
    const balancer = balancerFor();
    balancer.close();
    discovery.setEndpoints(books, []);
    expect(balancer.state()).toBe('ready');
    expect(discovery.watcherCount(books)).toBe(0);
  });
});

describe('EndpointBalancer falling back to DNS', () => {
  const api: Authority = unwrap(parseAuthority('api.weft.test:8443'));
  const apiHost = 'api.weft.test';
  let discovery: InMemoryDiscoverEndpoints;
  let names: InMemoryResolveName;
  let clock: FixedClock;

  beforeEach(() => {
    discovery = new InMemoryDiscoverEndpoints();
    names = new InMemoryResolveName();
    clock = new FixedClock(0);
  });

  const balancerFor = (target: Authority, fallback: Partial<NameFallbackOptions> = {}) =>
    new EndpointBalancer(discovery, target, clock, new SeededRandom(3), undefined, undefined, { resolver: names, ...fallback });
  /** Lets answers already on their way arrive. */
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  const addresses = (balancer: EndpointBalancer) => balancer.endpoints().map((e) => `${e.address.ip}:${e.address.port}`).sort();
  const pickedIps = (balancer: EndpointBalancer, times = 50) =>
    new Set(Array.from({ length: times }, () => balancer.pick()?.endpoint.address.ip));

  it('balances a DNS name discovery does not know over the addresses it resolves to, at the target port', async () => {
    names.set(apiHost, ['10.1.0.1', '10.1.0.2'], 30_000);
    const balancer = balancerFor(api);
    expect(balancer.state()).toBe('waiting');
    expect(balancer.pick()).toBeUndefined();
    await settle();
    expect(balancer.state()).toBe('dns');
    expect(addresses(balancer)).toEqual(['10.1.0.1:8443', '10.1.0.2:8443']);
    expect(pickedIps(balancer)).toEqual(new Set(['10.1.0.1', '10.1.0.2']));
  });

  it('resolves a service discovery does not know by its fully qualified name', async () => {
    names.set('books.shop.svc.cluster.local', ['10.2.0.1'], 30_000);
    const balancer = balancerFor(books);
    await settle();
    expect(balancer.state()).toBe('dns');
    expect(balancer.pick()?.endpoint.address).toEqual({ ip: '10.2.0.1', port: 7000 });
  });

  it('sends an IP target that discovery does not know to the IP itself, without resolving anything', () => {
    const balancer = balancerFor(unwrap(parseAuthority('[2001:db8::7]:9000')));
    expect(balancer.state()).toBe('dns');
    expect(balancer.pick()?.endpoint.address).toEqual({ ip: '2001:db8::7', port: 9000 });
    const v4 = balancerFor(unwrap(parseAuthority('10.9.8.7:9000')));
    expect(v4.pick()?.endpoint.address).toEqual({ ip: '10.9.8.7', port: 9000 });
  });

  it('resolves again once the TTL has run out, and uses the new addresses', async () => {
    names.set(apiHost, ['10.1.0.1'], 30_000);
    const balancer = balancerFor(api);
    await settle();
    names.set(apiHost, ['10.1.0.9'], 30_000);
    clock.advance(29_999);
    balancer.pick();
    await settle();
    expect(names.lookups(apiHost)).toBe(1);
    expect(addresses(balancer)).toEqual(['10.1.0.1:8443']);
    clock.advance(1);
    // The expired answer still serves while the new one is on its way.
    expect(balancer.pick()?.endpoint.address.ip).toBe('10.1.0.1');
    await settle();
    expect(names.lookups(apiHost)).toBe(2);
    expect(addresses(balancer)).toEqual(['10.1.0.9:8443']);
  });

  it('asks once at a time however many requests arrive, and not before the shortest refresh', async () => {
    names.set(apiHost, ['10.1.0.1'], 1);
    const balancer = balancerFor(api, { minRefreshMs: 2_000 });
    await settle();
    clock.advance(1_999);
    for (let i = 0; i < 20; i++) balancer.pick();
    await settle();
    expect(names.lookups(apiHost)).toBe(1);
    clock.advance(1);
    for (let i = 0; i < 20; i++) balancer.pick();
    await settle();
    expect(names.lookups(apiHost)).toBe(2);
  });

  it('keeps the last good addresses while resolution fails, and retries after the retry pause', async () => {
    names.set(apiHost, ['10.1.0.1'], 10_000);
    const balancer = balancerFor(api, { retryMs: 3_000 });
    await settle();
    names.fail(apiHost, 'unavailable');
    clock.advance(10_000);
    balancer.pick();
    await settle();
    expect(balancer.state()).toBe('dns');
    expect(balancer.pick()?.endpoint.address.ip).toBe('10.1.0.1');
    names.remove(apiHost);
    clock.advance(2_999);
    balancer.pick();
    await settle();
    expect(names.lookups(apiHost)).toBe(2);
    clock.advance(1);
    balancer.pick();
    await settle();
    expect(names.lookups(apiHost)).toBe(3);
    expect(balancer.pick()?.endpoint.address.ip).toBe('10.1.0.1');
    names.set(apiHost, ['10.1.0.2'], 10_000);
    clock.advance(3_000);
    balancer.pick();
    await settle();
    expect(addresses(balancer)).toEqual(['10.1.0.2:8443']);
  });

  it('counts as unknown while a name has never resolved, and recovers once it does', async () => {
    const balancer = balancerFor(api);
    await settle();
    expect(balancer.state()).toBe('does-not-exist');
    expect(balancer.pick()).toBeUndefined();
    names.set(apiHost, ['10.1.0.1'], 10_000);
    clock.advance(5_000);
    expect(balancer.state()).toBe('does-not-exist');
    await settle();
    expect(balancer.state()).toBe('dns');
    expect(balancer.pick()?.endpoint.address.ip).toBe('10.1.0.1');
  });

  it('lets discovery win as soon as it knows the target, and stops resolving', async () => {
    names.set(apiHost, ['10.1.0.1'], 10_000);
    const balancer = balancerFor(api);
    await settle();
    discovery.setEndpoints(api, [endpoint('10.3.0.1:8443')]);
    expect(balancer.state()).toBe('ready');
    expect(addresses(balancer)).toEqual(['10.3.0.1:8443']);
    clock.advance(60_000);
    expect(pickedIps(balancer)).toEqual(new Set(['10.3.0.1']));
    await settle();
    expect(names.lookups(apiHost)).toBe(1);
  });

  it('drops an answer that arrives after discovery took over', async () => {
    names.set(apiHost, ['10.1.0.1'], 10_000);
    const balancer = balancerFor(api);
    discovery.setEndpoints(api, []);
    await settle();
    expect(balancer.state()).toBe('empty');
    expect(balancer.endpoints()).toEqual([]);
  });

  it('falls back again when discovery deletes the service', async () => {
    names.set(apiHost, ['10.1.0.1'], 10_000);
    discovery.setEndpoints(api, [endpoint('10.3.0.1:8443')]);
    const balancer = balancerFor(api);
    discovery.deleteService(api);
    expect(balancer.state()).toBe('waiting');
    await settle();
    expect(addresses(balancer)).toEqual(['10.1.0.1:8443']);
  });

  it('never falls back for a service that exists without endpoints', async () => {
    discovery.setEndpoints(books, []);
    const balancer = balancerFor(books);
    await settle();
    expect(balancer.state()).toBe('empty');
    expect(names.lookups('books.shop.svc.cluster.local')).toBe(0);
  });

  it('keeps what it learned about an address across a refresh that returns it again', async () => {
    names.set(apiHost, ['10.1.0.1', '10.1.0.2'], 10_000);
    const backoff = { initialMs: 60_000, maxMs: 60_000 };
    const balancer = new EndpointBalancer(discovery, api, clock, new SeededRandom(3), undefined, backoff, { resolver: names });
    await settle();
    balancer.recordOutcome({ ip: '10.1.0.1', port: 8443 }, true);
    clock.advance(10_000);
    balancer.pick();
    await settle();
    expect(names.lookups(apiHost)).toBe(2);
    expect(pickedIps(balancer)).toEqual(new Set(['10.1.0.2']));
  });

  it('tells its listeners when DNS or discovery changes the endpoints, until they close', async () => {
    names.set(apiHost, ['10.1.0.1'], 10_000);
    const balancer = balancerFor(api);
    const seen: string[] = [];
    const subscription = balancer.onChange(() => seen.push(balancer.state()));
    await settle();
    discovery.setEndpoints(api, [endpoint('10.3.0.1:8443')]);
    subscription.close();
    discovery.setEndpoints(api, []);
    expect(seen).toEqual(['dns', 'ready']);
  });

  it('stops resolving once closed, and drops an answer on its way', async () => {
    names.set(apiHost, ['10.1.0.1'], 10_000);
    const balancer = balancerFor(api);
    balancer.close();
    await settle();
    expect(balancer.endpoints()).toEqual([]);
    clock.advance(60_000);
    balancer.pick();
    await settle();
    expect(names.lookups(apiHost)).toBe(1);
  });

  it('treats a resolver that rejects as one that could not answer', async () => {
    const rejecting: ResolveName = { resolve: () => Promise.reject(new Error('boom')) };
    const balancer = new EndpointBalancer(discovery, api, clock, new SeededRandom(3), undefined, undefined, { resolver: rejecting });
    await settle();
    expect(balancer.state()).toBe('does-not-exist');
  });

  it('falls back through the ResolveName of the container when the proxy module makes it', async () => {
    const container = createProxyContainer([fixedTimeModule(), memoryModule()]);
    container.get(InMemoryResolveName).set(apiHost, ['10.1.0.5'], 10_000);
    const balancer = container.get<EndpointBalancerFactory>(EndpointBalancerFactory)(api);
    await settle();
    expect(balancer.state()).toBe('dns');
    expect(balancer.pick()?.endpoint.address).toEqual({ ip: '10.1.0.5', port: 8443 });
  });

  it('does not fall back without a resolver, not even for an IP', () => {
    const balancer = new EndpointBalancer(discovery, unwrap(parseAuthority('10.9.8.7:9000')), clock, new SeededRandom(3));
    expect(balancer.state()).toBe('does-not-exist');
    expect(balancer.pick()).toBeUndefined();
  });
});
