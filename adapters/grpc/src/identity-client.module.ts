// The proxy side of the gRPC adapter as an inversify ContainerModule: WorkloadCertifier is a GrpcIdentityClient.
import { WorkloadCertifier } from '@weft/core';
import { ContainerModule } from 'inversify';
import { GrpcIdentityClient, type GrpcIdentityClientOptions } from './grpc-identity-client.js';

/** Binds GrpcIdentityClient (under its class) and WorkloadCertifier to one client of `options.address`. */
export function grpcIdentityClientModule(options: GrpcIdentityClientOptions): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(GrpcIdentityClient).toResolvedValue(() => new GrpcIdentityClient(options)).inSingletonScope();
    bind<WorkloadCertifier>(WorkloadCertifier).toService(GrpcIdentityClient);
  });
}
