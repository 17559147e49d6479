import {
  ControlChannel,
  GrpcDiscoverEndpoints,
  GrpcDiscoverInboundPolicy,
  GrpcDiscoverProfile,
  GrpcIdentityClient,
} from '@weft/adapter-grpc';
import { InMemoryDiscoverEndpoints, InMemoryDiscoverInboundPolicy, InMemoryDiscoverProfile } from '@weft/adapter-memory';
import { PrometheusControlClientMetrics, PrometheusProxyMetrics } from '@weft/adapter-prometheus';
import { DiscoverEndpoints, DiscoverInboundPolicy, DiscoverProfile, parseAuthority, ProxyMetrics, unwrap, WorkloadCertifier } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { readProxyConfig } from '../proxy-config.js';
import { composeProxyContainer } from './compose-proxy-container.js';

const log = (): void => undefined;

describe('composeProxyContainer', () => {
  it('runs standalone without WEFT_PROXY_CONTROL_ADDR: memory discovery, seeded from WEFT_PROXY_ENDPOINTS', () => {
    const config = readProxyConfig({ WEFT_PROXY_ENDPOINTS: 'books.shop:7000=127.0.0.1:9001' }, 'web-1');
    const { container, staticDiscovery, close } = composeProxyContainer(config, { version: 'test', log });
    expect(staticDiscovery).toBeInstanceOf(InMemoryDiscoverEndpoints);
    expect(container.get(DiscoverEndpoints)).toBe(staticDiscovery);
    expect(container.get(DiscoverProfile)).toBeInstanceOf(InMemoryDiscoverProfile);
    expect(container.get(DiscoverInboundPolicy)).toBeInstanceOf(InMemoryDiscoverInboundPolicy);
    expect(container.get(ProxyMetrics)).toBeInstanceOf(PrometheusProxyMetrics);
    expect(container.isBound(ControlChannel)).toBe(false);
    expect(container.isBound(WorkloadCertifier)).toBe(false);
    close();
  });

  it('takes endpoints, profiles and inbound policy from the control plane\'s gRPC clients, on one channel with the configured time to live', async () => {
    const config = readProxyConfig({ WEFT_PROXY_CONTROL_ADDR: '127.0.0.1:18086', WEFT_PROXY_CONTROL_STATE_TTL: '2m' }, 'web-1');
    const { container, staticDiscovery, close } = composeProxyContainer(config, { version: 'test', log });
    expect(staticDiscovery).toBeUndefined();
    expect(container.get(DiscoverEndpoints)).toBeInstanceOf(GrpcDiscoverEndpoints);
    expect(container.get(DiscoverProfile)).toBeInstanceOf(GrpcDiscoverProfile);
    expect(container.get(DiscoverInboundPolicy)).toBeInstanceOf(GrpcDiscoverInboundPolicy);
    const { settings } = container.get(ControlChannel);
    expect(settings.address).toBe('127.0.0.1:18086');
    expect(settings.lastKnownTtlMs).toBe(120_000);
    // The clients report into the registry /metrics renders.
    expect(settings.metrics).toBeInstanceOf(PrometheusControlClientMetrics);
    settings.metrics.streamRequested({ service: 'destination', rpc: 'Get', addr: settings.address });
    expect(await container.get(PrometheusProxyMetrics).metricsText()).toMatch(
      /^control_stream_requests_total\{service="destination",rpc="Get",addr="127\.0\.0\.1:18086"\} 1$/m,
    );
    close();
    const books = unwrap(parseAuthority('books.shop:7000'));
    expect(() => container.get<DiscoverEndpoints>(DiscoverEndpoints).watch(books, () => undefined)).toThrow(/client is closed/);
  });

  it('points the identity client at the control plane when WEFT_PROXY_IDENTITY_ADDR is unset, and closes it', () => {
    const config = readProxyConfig(
      {
        WEFT_PROXY_CONTROL_ADDR: '127.0.0.1:18086',
        WEFT_PROXY_IDENTITY_NAMESPACE: 'shop',
        WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT: 'web',
        WEFT_PROXY_IDENTITY_TOKEN: 'token',
        WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE: '/tmp/ca.crt',
      },
      'web-1',
    );
    expect(config.identity?.certifierAddr).toEqual({ ip: '127.0.0.1', port: 18086 });
    const { container, close } = composeProxyContainer(config, { version: 'test', log });
    expect(container.get(WorkloadCertifier)).toBeInstanceOf(GrpcIdentityClient);
    close();
  });
});
