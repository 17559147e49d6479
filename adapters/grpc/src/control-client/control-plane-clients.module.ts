// The proxy's discovery clients as an inversify ContainerModule: DiscoverEndpoints, DiscoverProfile and DiscoverInboundPolicy over gRPC.
import { DiscoverEndpoints, DiscoverInboundPolicy, DiscoverProfile } from '@weft/core';
import { ContainerModule } from 'inversify';
import { GrpcDiscoverEndpoints } from '../destination/grpc-discover-endpoints.js';
import { GrpcDiscoverProfile } from '../destination/grpc-discover-profile.js';
import { GrpcDiscoverInboundPolicy, type GrpcDiscoverInboundPolicyOptions } from '../policy/grpc-discover-inbound-policy.js';
import { ControlChannel, type ControlChannelOptions } from './control-channel.js';

export interface ControlPlaneClientsOptions extends ControlChannelOptions {
  /** The JSON object naming this proxy's workload for Destination requests, e.g. {"ns":"shop","workload":"web-0"}. */
  readonly contextToken?: string;
  readonly inboundPolicy?: GrpcDiscoverInboundPolicyOptions;
}

/**
 * Binds one ControlChannel (under its class) and, on it, GrpcDiscoverEndpoints, GrpcDiscoverProfile and
 * GrpcDiscoverInboundPolicy (under their classes and the core port tokens), all singletons. To shut down, close the
 * three clients, then the channel.
 */
export function controlPlaneClientsModule(options: ControlPlaneClientsOptions): ContainerModule {
  const token = options.contextToken === undefined ? {} : { contextToken: options.contextToken };
  return new ContainerModule(({ bind }) => {
    bind(ControlChannel).toResolvedValue(() => new ControlChannel(options)).inSingletonScope();
    bind(GrpcDiscoverEndpoints)
      .toResolvedValue((channel: ControlChannel) => new GrpcDiscoverEndpoints(channel, token), [ControlChannel])
      .inSingletonScope();
    bind(GrpcDiscoverProfile)
      .toResolvedValue((channel: ControlChannel) => new GrpcDiscoverProfile(channel, token), [ControlChannel])
      .inSingletonScope();
    bind(GrpcDiscoverInboundPolicy)
      .toResolvedValue((channel: ControlChannel) => new GrpcDiscoverInboundPolicy(channel, options.inboundPolicy), [ControlChannel])
      .inSingletonScope();
    bind<DiscoverEndpoints>(DiscoverEndpoints).toService(GrpcDiscoverEndpoints);
    bind<DiscoverProfile>(DiscoverProfile).toService(GrpcDiscoverProfile);
    bind<DiscoverInboundPolicy>(DiscoverInboundPolicy).toService(GrpcDiscoverInboundPolicy);
  });
}
