import { DiscoverEndpoints, DiscoverInboundPolicy, DiscoverProfile } from '@weft/core';
import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { GrpcDiscoverEndpoints } from '../destination/grpc-discover-endpoints.js';
import { GrpcDiscoverProfile } from '../destination/grpc-discover-profile.js';
import { GrpcDiscoverInboundPolicy } from '../policy/grpc-discover-inbound-policy.js';
import { ControlChannel } from './control-channel.js';
import { controlPlaneClientsModule } from './control-plane-clients.module.js';

describe('controlPlaneClientsModule', () => {
  it('binds the three discovery ports to gRPC clients sharing one channel', async () => {
    const container = new Container();
    await container.load(controlPlaneClientsModule({ address: '127.0.0.1:8086', lastKnownTtlMs: 300_000 }));
    const endpoints = container.get<DiscoverEndpoints>(DiscoverEndpoints);
    const profiles = container.get<DiscoverProfile>(DiscoverProfile);
    const policies = container.get<DiscoverInboundPolicy>(DiscoverInboundPolicy);
    expect(endpoints).toBeInstanceOf(GrpcDiscoverEndpoints);
    expect(profiles).toBeInstanceOf(GrpcDiscoverProfile);
    expect(policies).toBeInstanceOf(GrpcDiscoverInboundPolicy);
    expect(container.get(GrpcDiscoverEndpoints)).toBe(endpoints);
    const channel = container.get(ControlChannel);
    expect(container.get(ControlChannel)).toBe(channel);
    expect(channel.settings.lastKnownTtlMs).toBe(300_000);
    channel.close();
  });
});
