// ControlChannel: one gRPC channel to the control plane, shared by the proxy's clients, with their common settings.
import { Channel, type ChannelCredentials, type ChannelOptions, credentials as grpcCredentials } from '@grpc/grpc-js';
import { destination, policy } from '@weft/contracts';
import { type Clock, InvalidInputError, type RandomSource } from '@weft/core';
import { type ControlBackoff, controlBackoffProblem, DEFAULT_CONTROL_BACKOFF } from './control-backoff.js';
import type { ControlClientLog } from './control-client-event.js';
import { type ControlClientMetrics, noControlClientMetrics } from './control-client-metrics.js';
import { type ControlTimers, systemControlTimers } from './control-timers.js';

/**
 * How long a watch keeps serving its last known state while the control plane stays away: 10 minutes. After that the
 * state is replaced (endpoints: does-not-exist, so names fall back to DNS; profiles: the default profile; policies:
 * the configured expiry policy) and the event is logged and counted; it is never dropped silently.
 */
export const DEFAULT_LAST_KNOWN_TTL_MS = 10 * 60_000;

export interface ControlChannelOptions {
  /** The control plane's gRPC address, "host:port", e.g. "127.0.0.1:8086". */
  readonly address: string;
  /** Insecure (plaintext) when unset. */
  readonly credentials?: ChannelCredentials;
  /** Extra grpc-js channel options; they override the ones set here. */
  readonly channelOptions?: ChannelOptions;
  /** Delays between attempts, for the streams and for the channel's own connection attempts. */
  readonly backoff?: Partial<ControlBackoff>;
  /** See DEFAULT_LAST_KNOWN_TTL_MS; counted from the last moment the control plane confirmed the state. */
  readonly lastKnownTtlMs?: number;
  readonly clock?: Clock;
  /** Draws the backoff jitter. */
  readonly random?: RandomSource;
  readonly timers?: ControlTimers;
  readonly metrics?: ControlClientMetrics;
  readonly log?: ControlClientLog;
}

/** What every client of the channel shares. */
export interface ControlClientSettings {
  readonly address: string;
  readonly backoff: ControlBackoff;
  readonly lastKnownTtlMs: number;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly timers: ControlTimers;
  readonly metrics: ControlClientMetrics;
  readonly log: ControlClientLog;
}

/** A ControlChannel option that makes no sense; the input is the option's value as text. */
export class InvalidControlChannelOptionError extends InvalidInputError {
  readonly kind = 'control channel option';
}

const systemClock: Clock = { now: () => Date.now() };
const systemRandom: RandomSource = { next: () => Math.random() };

/**
 * Create one per proxy and give it to GrpcDiscoverEndpoints, GrpcDiscoverProfile and GrpcDiscoverInboundPolicy; their
 * streams then share one HTTP/2 connection. close() closes the connection; close the clients first.
 */
export class ControlChannel {
  readonly settings: ControlClientSettings;
  private readonly channel: Channel;
  private readonly credentials: ChannelCredentials;
  private destinationClient: destination.DestinationClient | undefined;
  private policyClient: policy.InboundServerPoliciesClient | undefined;

  /** Throws InvalidControlChannelOptionError (at start-up, from configuration) for a backoff or time to live that makes no sense. */
  constructor(options: ControlChannelOptions) {
    const backoff = { ...DEFAULT_CONTROL_BACKOFF, ...options.backoff };
    const problem = controlBackoffProblem(backoff);
    if (problem !== undefined) throw new InvalidControlChannelOptionError(JSON.stringify(options.backoff), `backoff: ${problem}`);
    const lastKnownTtlMs = options.lastKnownTtlMs ?? DEFAULT_LAST_KNOWN_TTL_MS;
    if (!(lastKnownTtlMs > 0 && Number.isFinite(lastKnownTtlMs))) {
      throw new InvalidControlChannelOptionError(
        String(lastKnownTtlMs),
        `lastKnownTtlMs is not a positive number of ms; the default is ${DEFAULT_LAST_KNOWN_TTL_MS} (10 minutes)`,
      );
    }
    this.settings = {
      address: options.address,
      backoff,
      lastKnownTtlMs,
      clock: options.clock ?? systemClock,
      random: options.random ?? systemRandom,
      timers: options.timers ?? systemControlTimers,
      metrics: options.metrics ?? noControlClientMetrics,
      log: options.log ?? (() => undefined),
    };
    this.credentials = options.credentials ?? grpcCredentials.createInsecure();
    this.channel = new Channel(options.address, this.credentials, {
      // The channel's own reconnects follow the same bounds, so a call made after our backoff finds a fresh attempt.
      'grpc.initial_reconnect_backoff_ms': Math.round(backoff.initialMs),
      'grpc.max_reconnect_backoff_ms': Math.round(backoff.maxMs),
      // Finds a control plane that vanished without closing the connection (a partition, a frozen host).
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      ...options.channelOptions,
    });
  }

  /** The Destination client on this channel. */
  destination(): destination.DestinationClient {
    this.destinationClient ??= new destination.DestinationClient(this.settings.address, this.credentials, {
      channelOverride: this.channel,
    });
    return this.destinationClient;
  }

  /** The InboundServerPolicies client on this channel. */
  policy(): policy.InboundServerPoliciesClient {
    this.policyClient ??= new policy.InboundServerPoliciesClient(this.settings.address, this.credentials, {
      channelOverride: this.channel,
    });
    return this.policyClient;
  }

  /** Closes the connection; calls still open on it fail with CANCELLED or UNAVAILABLE. */
  close(): void {
    this.channel.close();
  }
}
