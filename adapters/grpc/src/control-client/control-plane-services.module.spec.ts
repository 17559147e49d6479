import { DiscoverEndpoints, DiscoverInboundPolicy, DiscoverProfile } from '@weft/core';
import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { TruthEndpoints, TruthProfiles } from '../destination/destination-truth.spec-helper.js';
import { GrpcDestinationService } from '../destination/grpc-destination-service.js';
import { GrpcInboundPolicyService } from '../policy/grpc-inbound-policy-service.js';
import { TruthInboundPolicy } from '../policy/inbound-policy-truth.spec-helper.js';
import { controlPlaneServicesModule } from './control-plane-services.module.js';

describe('controlPlaneServicesModule', () => {
  it('builds the services over whatever discovery ports the orchestrator bound', async () => {
    const container = new Container();
    container.bind(DiscoverEndpoints).toConstantValue(new TruthEndpoints());
    container.bind(DiscoverProfile).toConstantValue(new TruthProfiles());
    container.bind(DiscoverInboundPolicy).toConstantValue(new TruthInboundPolicy());
    await container.load(controlPlaneServicesModule());
    const destination = container.get(GrpcDestinationService);
    expect(destination).toBeInstanceOf(GrpcDestinationService);
    expect(container.get(GrpcDestinationService)).toBe(destination);
    expect(container.get(GrpcInboundPolicyService).openStreams).toBe(0);
  });
});
