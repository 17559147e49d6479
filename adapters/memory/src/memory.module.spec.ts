import { Clock, DiscoverEndpoints, ProxyMetrics, RandomSource, ResolveName } from '@weft/core';
import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { FixedClock } from './fixed-clock.js';
import { InMemoryDiscoverEndpoints } from './in-memory-discover-endpoints.js';
import { InMemoryProxyMetrics } from './in-memory-proxy-metrics.js';
import { fixedTimeModule, memoryModule } from './memory.module.js';

describe('memoryModule', () => {
  it('binds every port token to the one instance of its in-memory class', () => {
    const container = new Container();
    container.load(memoryModule(), fixedTimeModule({ startTimeMs: 5 }));
    expect(container.get(DiscoverEndpoints)).toBe(container.get(InMemoryDiscoverEndpoints));
    expect(container.get(ProxyMetrics)).toBe(container.get(InMemoryProxyMetrics));
    expect(container.get<Clock>(Clock)).toBe(container.get(FixedClock));
    expect(container.get<Clock>(Clock).now()).toBe(5);
    expect(container.isBound(RandomSource)).toBe(true);
    expect(container.isBound(ResolveName)).toBe(true);
  });

  it('leaves omitted ports to another module while still offering the class', () => {
    const container = new Container();
    container.load(memoryModule({ omit: [ProxyMetrics] }));
    expect(container.isBound(ProxyMetrics)).toBe(false);
    expect(container.isBound(InMemoryProxyMetrics)).toBe(true);
    expect(container.isBound(DiscoverEndpoints)).toBe(true);
  });
});
