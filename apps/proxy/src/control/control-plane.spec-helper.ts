// A control plane for the proxy's tests: the real Destination and Policy gRPC services over in-memory discovery, on 127.0.0.1.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { GrpcDestinationService, GrpcInboundPolicyService } from '@weft/adapter-grpc';
import { InMemoryDiscoverEndpoints, InMemoryDiscoverInboundPolicy, InMemoryDiscoverProfile } from '@weft/adapter-memory';

interface Serving {
  readonly server: Server;
  readonly destination: GrpcDestinationService;
  readonly policy: GrpcInboundPolicyService;
}

/**
 * The source of truth (`endpoints`, `profiles`, `policies`) outlives the gRPC server: stop or kill it, change the
 * truth, and start() serves the changed truth again on the same port, as a restarted weft-control would.
 */
export class InProcessControlPlane {
  readonly endpoints = new InMemoryDiscoverEndpoints();
  readonly profiles = new InMemoryDiscoverProfile();
  readonly policies = new InMemoryDiscoverInboundPolicy();
  private serving: Serving | undefined;
  private boundPort = 0;

  /** A control plane serving on an ephemeral port of 127.0.0.1. */
  static async start(): Promise<InProcessControlPlane> {
    const controlPlane = new InProcessControlPlane();
    await controlPlane.start();
    return controlPlane;
  }

  /** `ip:port`, as WEFT_PROXY_CONTROL_ADDR takes it. */
  get address(): string {
    return `127.0.0.1:${this.boundPort}`;
  }

  /** Destination (Get, GetProfile) and WatchPort streams open now; 0 while stopped. */
  get openStreams(): number {
    return this.serving === undefined ? 0 : this.serving.destination.openStreams + this.serving.policy.openStreams;
  }

  /** Serves again, on the port of the first start. */
  async start(): Promise<void> {
    if (this.serving !== undefined) return;
    const server = new Server();
    const destination = new GrpcDestinationService({ endpoints: this.endpoints, profiles: this.profiles });
    const policy = new GrpcInboundPolicyService({ policies: this.policies });
    server.addService(destination.definition, destination.implementation);
    server.addService(policy.definition, policy.implementation);
    this.boundPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${this.boundPort}`, ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port)));
    });
    this.serving = { server, destination, policy };
  }

  /** As weft-control dying: every connection is cut with no goodbye. */
  kill(): void {
    this.serving?.server.forceShutdown();
    this.serving = undefined;
  }

  /** As weft-control shutting down: streams end with UNAVAILABLE, then the server stops. */
  async stop(): Promise<void> {
    const serving = this.serving;
    if (serving === undefined) return;
    this.serving = undefined;
    serving.destination.close();
    serving.policy.close();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => serving.server.forceShutdown(), 500);
      serving.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}
