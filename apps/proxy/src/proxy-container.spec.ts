import { fixedTimeModule, InMemoryDiscoverEndpoints, InMemoryProxyMetrics, memoryModule } from '@weft/adapter-memory';
import { systemModule } from '@weft/adapter-system';
import { makeEndpoint, parseAuthority, ProxyMetrics, unwrap } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { createProxyContainer } from './proxy-container.js';
import { EndpointBalancerFactory } from './proxy.module.js';

describe('proxy container', () => {
  it('wires outbound balancing to the discovery adapter it was given', () => {
    const container = createProxyContainer([fixedTimeModule(), memoryModule()]);
    const books = unwrap(parseAuthority('books.shop:7000'));
    container.get(InMemoryDiscoverEndpoints).setEndpoints(books, [unwrap(makeEndpoint({ address: '10.0.0.7:7000' }))]);

    const balancer = container.get<EndpointBalancerFactory>(EndpointBalancerFactory)(books);
    expect(balancer.state()).toBe('ready');
    expect(balancer.pick()?.endpoint.address).toEqual({ ip: '10.0.0.7', port: 7000 });
    expect(container.get(ProxyMetrics)).toBe(container.get(InMemoryProxyMetrics));
  });

  it('resolves with the system clock and randomness, as main.ts composes it', () => {
    const container = createProxyContainer([systemModule(), memoryModule()]);
    const balancer = container.get<EndpointBalancerFactory>(EndpointBalancerFactory)(unwrap(parseAuthority('web:80')));
    expect(balancer.state()).toBe('does-not-exist');
  });
});
