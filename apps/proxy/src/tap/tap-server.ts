// The proxy's Tap gRPC server: Observe streams the hub's matching request events to each caller.
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import { tap } from '@weft/contracts';
import { formatSocketAddress, type SocketAddress, type Subscription } from '@weft/core';
import { type TapCallEnd, TapCallWriter, type TapObserveCall } from './tap-call-writer.js';
import type { TapHub } from './tap-hub.js';
import { parseObserveRequest, TAP_OBSERVE_LIMITS, type TapObserveLimits } from './tap-observe-request.js';
import { TapObservation } from './tap-observation.js';

export const PROXY_TAP_DEFAULT_ADDRESS: SocketAddress = { ip: '0.0.0.0', port: 4290 };

export type TapServerEvent =
  | { readonly event: 'tap-observe-started'; readonly peer: string; readonly base: number; readonly limit: number }
  | { readonly event: 'tap-observe-refused'; readonly peer: string; readonly reason: string }
  | { readonly event: 'tap-observe-ended'; readonly peer: string; readonly base: number; readonly reason: TapCallEnd };

export interface TapServerOptions {
  /** Where to listen; 0.0.0.0:4290 when absent. */
  readonly address?: SocketAddress;
  readonly hub: TapHub;
  /** Bounds on `limit`, the header names and the match tree. */
  readonly limits?: Partial<TapObserveLimits>;
  /** Events waiting to be sent to one client before its stream is ended with RESOURCE_EXHAUSTED. */
  readonly queueCap?: number;
  /** Observe calls at once; more are refused with RESOURCE_EXHAUSTED. */
  readonly maxObservers?: number;
  readonly log?: (event: TapServerEvent) => void;
}

export interface ProxyTapServer {
  /** The port bound, useful when the address asked for port 0. */
  readonly port: number;
  /** Ends every observation with UNAVAILABLE, then stops the server. */
  close(): Promise<void>;
}

export const TAP_DEFAULT_QUEUE_CAP = 1_000;
export const TAP_DEFAULT_MAX_OBSERVERS = 16;

/** How long close() lets clients read their final status before it drops the connections. */
const closeGraceMs = 2_000;

export async function startTapServer(options: TapServerOptions): Promise<ProxyTapServer> {
  const server = new Server({
    // Finds clients that vanished without cancelling, so that their observations stop.
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
  });
  const observe = new ObserveHandler(options);
  server.addService(tap.TapService, { observe: (call: TapObserveCall) => observe.handle(call) } satisfies tap.TapServer);
  // TODO(identity): serve over mTLS and accept only the control plane's tap identity, once proxies have certificates.
  const address = formatSocketAddress(options.address ?? PROXY_TAP_DEFAULT_ADDRESS);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  return {
    port,
    close: async () => {
      observe.shutdown();
      await shutdown(server);
    },
  };
}

class ObserveHandler {
  /** Each open stream and its attachment to the hub. */
  private readonly observers = new Map<TapCallWriter, Subscription>();
  private readonly limits: TapObserveLimits;
  private readonly queueCap: number;
  private readonly maxObservers: number;
  private readonly log: (event: TapServerEvent) => void;
  private lastBase = 0;
  private closed = false;

  constructor(private readonly options: TapServerOptions) {
    this.limits = { ...TAP_OBSERVE_LIMITS, ...options.limits };
    this.queueCap = Math.max(1, options.queueCap ?? TAP_DEFAULT_QUEUE_CAP);
    this.maxObservers = options.maxObservers ?? TAP_DEFAULT_MAX_OBSERVERS;
    this.log = options.log ?? (() => undefined);
  }

  handle(call: TapObserveCall): void {
    const peer = call.getPeer();
    if (this.closed) return this.refuse(call, peer, status.UNAVAILABLE, 'the proxy is shutting down');
    const plan = parseObserveRequest(call.request, this.options.hub.denyList, this.limits);
    if (!plan.ok) return this.refuse(call, peer, status.INVALID_ARGUMENT, plan.error.toString());
    if (this.observers.size >= this.maxObservers) {
      return this.refuse(call, peer, status.RESOURCE_EXHAUSTED, `${this.maxObservers} taps are already observing this proxy; try again later`);
    }
    const base = this.nextBase();
    const writer = new TapCallWriter(call, this.queueCap, (reason) => {
      this.observers.get(writer)?.close();
      this.observers.delete(writer);
      this.log({ event: 'tap-observe-ended', peer, base, reason });
    });
    this.observers.set(writer, this.options.hub.attach(new TapObservation({ base, ...plan.value }, writer)));
    this.log({ event: 'tap-observe-started', peer, base, limit: plan.value.limit });
    // Defensive: grpc-js does not repeat 'cancelled' for a client that left before the handler ran.
    if (call.cancelled) writer.fail('cancelled', status.CANCELLED, 'cancelled by the client');
  }

  shutdown(): void {
    this.closed = true;
    for (const writer of [...this.observers.keys()]) writer.fail('shutdown', status.UNAVAILABLE, 'the proxy is shutting down');
  }

  private refuse(call: TapObserveCall, peer: string, code: status, details: string): void {
    this.log({ event: 'tap-observe-refused', peer, reason: details });
    call.emit('error', { code, details });
  }

  private nextBase(): number {
    this.lastBase = this.lastBase >= 0xffff_ffff ? 1 : this.lastBase + 1;
    return this.lastBase;
  }
}

function shutdown(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.forceShutdown(), closeGraceMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
