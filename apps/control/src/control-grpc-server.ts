// weft-control's gRPC server: one grpc-js server on --grpc-addr hosting the Identity service.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { type IdentityServiceEvent, MAX_CERTIFY_MESSAGE_BYTES, serveIdentity } from '@weft/adapter-grpc';
import { type CertifyRateLimiterOptions, type Clock, formatSocketAddress, type SocketAddress, type WorkloadCertifier } from '@weft/core';

export interface ControlGrpcServerOptions {
  readonly address: SocketAddress;
  readonly certifier: WorkloadCertifier;
  readonly clock: Clock;
  readonly rateLimit?: Partial<CertifyRateLimiterOptions>;
  readonly log?: (event: IdentityServiceEvent) => void;
}

export interface ControlGrpcServer {
  /** The port bound, useful when the address asked for port 0. */
  readonly port: number;
  close(): Promise<void>;
}

/** How long close() lets calls in flight finish before it drops the connections. */
const closeGraceMs = 5_000;

/** Binds the server; rejects with an error naming the address when it cannot listen there. */
export async function startControlGrpcServer(options: ControlGrpcServerOptions): Promise<ControlGrpcServer> {
  const server = new Server({
    // Every call this server takes is small; a larger message is refused before it is decoded.
    'grpc.max_receive_message_length': MAX_CERTIFY_MESSAGE_BYTES,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
  });
  serveIdentity(server, options.certifier, {
    clock: options.clock,
    ...(options.rateLimit !== undefined && { rateLimit: options.rateLimit }),
    ...(options.log !== undefined && { log: options.log }),
  });
  const address = formatSocketAddress(options.address);
  // Plaintext h2c: the control plane listens on loopback by default. TLS for it would go here
  // (ServerCredentials.createSsl with the control plane's own certificate) together with GrpcIdentityClient's
  // `credentials` option on the proxy side.
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(new Error(`cannot serve gRPC on ${address}: ${error.message}`, { cause: error })) : resolve(bound),
    );
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), closeGraceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
