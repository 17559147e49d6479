// The control plane's Destination and policy gRPC services as an inversify ContainerModule, over the bound discovery ports.
import { DiscoverEndpoints, DiscoverInboundPolicy, DiscoverProfile } from '@weft/core';
import { ContainerModule } from 'inversify';
import {
  type DestinationServiceEvent,
  GrpcDestinationService,
  type GrpcDestinationServiceOptions,
} from '../destination/grpc-destination-service.js';
import { GrpcInboundPolicyService, type InboundPolicyServiceEvent } from '../policy/grpc-inbound-policy-service.js';

export interface ControlPlaneServicesOptions {
  readonly authorityOptions?: GrpcDestinationServiceOptions['authorityOptions'];
  readonly log?: (event: DestinationServiceEvent | InboundPolicyServiceEvent) => void;
}

/**
 * Binds GrpcDestinationService (over DiscoverEndpoints and DiscoverProfile) and GrpcInboundPolicyService (over
 * DiscoverInboundPolicy) as singletons; the orchestrator's module binds the ports. The app adds both to its gRPC
 * server (`server.addService(service.definition, service.implementation)`) and closes them before shutting it down.
 */
export function controlPlaneServicesModule(options: ControlPlaneServicesOptions = {}): ContainerModule {
  const log = options.log === undefined ? {} : { log: options.log };
  const authority = options.authorityOptions === undefined ? {} : { authorityOptions: options.authorityOptions };
  return new ContainerModule(({ bind }) => {
    bind(GrpcDestinationService)
      .toResolvedValue(
        (endpoints: DiscoverEndpoints, profiles: DiscoverProfile) => new GrpcDestinationService({ endpoints, profiles, ...authority, ...log }),
        [DiscoverEndpoints, DiscoverProfile],
      )
      .inSingletonScope();
    bind(GrpcInboundPolicyService)
      .toResolvedValue((policies: DiscoverInboundPolicy) => new GrpcInboundPolicyService({ policies, ...log }), [DiscoverInboundPolicy])
      .inSingletonScope();
  });
}
