// weft-control's gRPC server: one grpc-js server on --grpc-addr hosting Destination, Policy and Identity.
import { Server, ServerCredentials, type ServerInterceptor, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { type IdentityServiceEvent, MAX_CERTIFY_MESSAGE_BYTES, serveIdentity } from '@weft/adapter-grpc';
import { type CertifyRateLimiterOptions, type Clock, formatSocketAddress, type SocketAddress, type WorkloadCertifier } from '@weft/core';

/** A streaming service (GrpcDestinationService, GrpcInboundPolicyService): added to the server, closed before it stops. */
export interface ControlStreamingService {
  readonly definition: ServiceDefinition;
  readonly implementation: object;
  /** Ends every open stream with UNAVAILABLE (the proxies keep their state and reconnect) and refuses new ones. */
  close(): void;
}

export interface ControlGrpcServerOptions {
  readonly address: SocketAddress;
  readonly certifier: WorkloadCertifier;
  readonly clock: Clock;
  readonly rateLimit?: Partial<CertifyRateLimiterOptions>;
  readonly log?: (event: IdentityServiceEvent) => void;
  /** Served beside Identity on the same port. */
  readonly services?: readonly ControlStreamingService[];
  readonly interceptors?: readonly ServerInterceptor[];
  /** How long close() lets unary calls in flight finish before it drops the connections; 5 s when absent. */
  readonly closeGraceMs?: number;
}

export interface ControlGrpcServer {
  /** The port bound, useful when the address asked for port 0. */
  readonly port: number;
  /** Whether the server listens and has not begun to stop. */
  readonly listening: boolean;
  /**
   * Stops accepting calls, ends the open streams (UNAVAILABLE: the proxies keep their state and reconnect, here or
   * elsewhere), lets unary calls in flight finish for up to the grace period, then drops what is left. Resolves once
   * every connection is closed; calling it again returns the same promise.
   */
  close(): Promise<void>;
}

const DEFAULT_CLOSE_GRACE_MS = 5_000;

/** Binds the server; rejects with an error naming the address when it cannot listen there. */
export async function startControlGrpcServer(options: ControlGrpcServerOptions): Promise<ControlGrpcServer> {
  const server = new Server({
    // Every call this server takes is small; a larger message is refused before it is decoded.
    'grpc.max_receive_message_length': MAX_CERTIFY_MESSAGE_BYTES,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    interceptors: [...(options.interceptors ?? [])],
  });
  serveIdentity(server, options.certifier, {
    clock: options.clock,
    ...(options.rateLimit !== undefined && { rateLimit: options.rateLimit }),
    ...(options.log !== undefined && { log: options.log }),
  });
  const services = options.services ?? [];
  for (const service of services) server.addService(service.definition, service.implementation as UntypedServiceImplementation);
  const address = formatSocketAddress(options.address);
  // Plaintext h2c: the control plane listens on loopback by default. TLS for it would go here
  // (ServerCredentials.createSsl with the control plane's own certificate) together with the `credentials` options of
  // ControlChannel and GrpcIdentityClient on the proxy side.
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(new Error(`cannot serve gRPC on ${address}: ${error.message}`, { cause: error })) : resolve(bound),
    );
  });
  const graceMs = options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
  let closing: Promise<void> | undefined;
  return {
    port,
    get listening() {
      return closing === undefined;
    },
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        for (const service of services) service.close();
        const force = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      })),
  };
}
