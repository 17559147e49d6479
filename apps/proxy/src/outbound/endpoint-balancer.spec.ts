import { FixedClock, InMemoryDiscoverEndpoints, SeededRandom } from '@weft/adapter-memory';
import { type Authority, type Endpoint, makeEndpoint, parseAuthority, unwrap } from '@weft/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { EndpointBalancer } from './endpoint-balancer.js';

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

  it('stops following discovery once closed', () => {
    discovery.setEndpoints(books, [endpoint('10.0.0.1:7000')]);
    const balancer = balancerFor();
    balancer.close();
    discovery.setEndpoints(books, []);
    expect(balancer.state()).toBe('ready');
    expect(discovery.watcherCount(books)).toBe(0);
  });
});
