import { FixedClock, InMemoryDiscoverEndpoints, SeededRandom } from '@weft/adapter-memory';
import { type Authority, makeEndpoint, parseAuthority, unwrap } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { EndpointBalancer } from '../outbound/endpoint-balancer.js';
import { OutboundTargets } from './outbound-targets.js';

const books: Authority = unwrap(parseAuthority('books.shop.svc.cluster.local:7000'));

function targetsWith(clock: FixedClock, idleMs = 60_000): { targets: OutboundTargets; made: Authority[] } {
  const discovery = new InMemoryDiscoverEndpoints();
  discovery.setEndpoints(books, [unwrap(makeEndpoint({ address: '10.0.0.1:7000' }))]);
  const made: Authority[] = [];
  const factory = (target: Authority) => {
    made.push(target);
    return new EndpointBalancer(discovery, target, clock, new SeededRandom(1));
  };
  return { targets: new OutboundTargets(factory, undefined, clock, idleMs), made };
}

describe('OutboundTargets', () => {
  it('hands out one target per authority, whether the same object or an equal one is asked for', () => {
    const { targets, made } = targetsWith(new FixedClock(0));
    const first = targets.get(books);
    expect(targets.get(books)).toBe(first);
    expect(targets.get(unwrap(parseAuthority('books.shop.svc.cluster.local:7000')))).toBe(first);
    expect(made).toHaveLength(1);
    expect(targets.size()).toBe(1);
  });

  it('makes a fresh target after an idle one was swept, even for the same authority object', () => {
    const clock = new FixedClock(0);
    const { targets, made } = targetsWith(clock, 1_000);
    const first = targets.get(books);
    clock.advance(5_000);
    targets.sweep();
    expect(first.closed).toBe(true);
    expect(targets.size()).toBe(0);
    const second = targets.get(books);
    expect(second).not.toBe(first);
    expect(second.closed).toBe(false);
    expect(second.balancer.pick()?.endpoint.address.ip).toBe('10.0.0.1');
    expect(made).toHaveLength(2);
  });

  it('keeps a target that is in use past its idle time', () => {
    const clock = new FixedClock(0);
    const { targets } = targetsWith(clock, 1_000);
    const target = targets.get(books);
    target.active += 1;
    clock.advance(5_000);
    targets.sweep();
    expect(targets.get(books)).toBe(target);
  });
});
