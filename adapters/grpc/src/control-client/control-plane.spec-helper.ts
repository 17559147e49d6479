// A control plane for tests: the Destination and policy services over in-process truths, on a real grpc-js server.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { expect, vi } from 'vitest';
import { TruthEndpoints, TruthProfiles } from '../destination/destination-truth.spec-helper.js';
import { type DestinationServiceEvent, GrpcDestinationService } from '../destination/grpc-destination-service.js';
import { GrpcInboundPolicyService } from '../policy/grpc-inbound-policy-service.js';
import { TruthInboundPolicy } from '../policy/inbound-policy-truth.spec-helper.js';
import { ControlChannel, type ControlChannelOptions } from './control-channel.js';
import type { ControlClientEvent } from './control-client-event.js';
import type { ControlCallLabels, ControlClientMetrics } from './control-client-metrics.js';

export interface ControlPlaneTruth {
  readonly endpoints: TruthEndpoints;
  readonly profiles: TruthProfiles;
  readonly policies: TruthInboundPolicy;
}

export function newTruth(): ControlPlaneTruth {
  return { endpoints: new TruthEndpoints(), profiles: new TruthProfiles(), policies: new TruthInboundPolicy() };
}

export class TestControlPlane {
  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly destination: GrpcDestinationService,
    readonly policy: GrpcInboundPolicyService,
    /** What the Destination service logged. */
    readonly destinationEvents: readonly DestinationServiceEvent[],
  ) {}

  /** Serves `truth` on 127.0.0.1, on `port` (0: an ephemeral one). */
  static async start(truth: ControlPlaneTruth, port = 0): Promise<TestControlPlane> {
    const server = new Server();
    const events: DestinationServiceEvent[] = [];
    const destination = new GrpcDestinationService({
      endpoints: truth.endpoints,
      profiles: truth.profiles,
      log: (event) => events.push(event),
    });
    const policy = new GrpcInboundPolicyService({ policies: truth.policies });
    server.addService(destination.definition, destination.implementation);
    server.addService(policy.definition, policy.implementation);
    const bound = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, value) => (error ? reject(error) : resolve(value)));
    });
    return new TestControlPlane(server, bound, destination, policy, events);
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** As a control plane that shuts down: every stream ends with UNAVAILABLE, then the server stops. */
  async stop(): Promise<void> {
    this.destination.close();
    this.policy.close();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => this.server.forceShutdown(), 500);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  /** As a control plane that dies: connections are cut with no goodbye. */
  kill(): void {
    this.server.forceShutdown();
  }
}

/** Records what the clients report, for assertions. */
export class ControlClientRecorder implements ControlClientMetrics {
  readonly events: ControlClientEvent[] = [];
  readonly requested: ControlCallLabels[] = [];
  readonly connected: { labels: ControlCallLabels; reconnect: boolean }[] = [];
  readonly errors: { labels: ControlCallLabels; reason: string }[] = [];
  readonly expired: ControlCallLabels[] = [];
  readonly log = (event: ControlClientEvent): void => {
    this.events.push(event);
  };

  streamRequested(labels: ControlCallLabels): void {
    this.requested.push(labels);
  }

  streamConnected(labels: ControlCallLabels, reconnect: boolean): void {
    this.connected.push({ labels, reconnect });
  }

  errorObserved(labels: ControlCallLabels, reason: string): void {
    this.errors.push({ labels, reason });
  }

  staleStateExpired(labels: ControlCallLabels): void {
    this.expired.push(labels);
  }

  eventsOf<E extends ControlClientEvent['event']>(name: E): Extract<ControlClientEvent, { event: E }>[] {
    return this.events.filter((event): event is Extract<ControlClientEvent, { event: E }> => event.event === name);
  }
}

/** A channel to `address` with quick retries (20 ms doubling to 200 ms), reporting to a recorder. */
export function testChannel(
  address: string,
  overrides: Partial<ControlChannelOptions> = {},
): { readonly channel: ControlChannel; readonly recorder: ControlClientRecorder } {
  const recorder = new ControlClientRecorder();
  const channel = new ControlChannel({
    address,
    backoff: { initialMs: 20, maxMs: 200, jitter: 0.5 },
    metrics: recorder,
    log: recorder.log,
    ...overrides,
  });
  return { channel, recorder };
}

/**
 * Waits until every stream the client has open is being served (the server holds one watch on the truth for each).
 * The contract harnesses call it before changing the truth: a watch whose request is still on its way would otherwise
 * start from the changed truth and miss the change as a change, which an in-process adapter never does.
 */
export async function allStreamsServed(serverWatches: () => number, clientStreams: () => number): Promise<void> {
  await vi.waitFor(() => expect(serverWatches()).toBe(clientStreams()), { timeout: 2_000, interval: 2 });
}
