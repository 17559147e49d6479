import { WorkloadCertifier } from '@weft/core';
import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { GrpcIdentityClient } from './grpc-identity-client.js';
import { grpcIdentityClientModule } from './identity-client.module.js';

describe('grpcIdentityClientModule', () => {
  it('binds WorkloadCertifier to one GrpcIdentityClient', () => {
    const container = new Container();
    container.load(grpcIdentityClientModule({ address: { ip: '127.0.0.1', port: 8086 } }));
    const certifier = container.get<WorkloadCertifier>(WorkloadCertifier);
    expect(certifier).toBeInstanceOf(GrpcIdentityClient);
    expect(container.get(GrpcIdentityClient)).toBe(certifier);
    (certifier as GrpcIdentityClient).close();
  });
});
