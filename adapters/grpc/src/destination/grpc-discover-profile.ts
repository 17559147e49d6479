// GrpcDiscoverProfile: the proxy's DiscoverProfile over the control plane's Destination.GetProfile streams.
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { destination } from '@weft/contracts';
import {
  type Authority,
  defaultServiceProfile,
  type DiscoverProfile,
  formatAuthority,
  ok,
  type Result,
  type ServiceProfile,
  serviceProfileName,
  type Subscription,
} from '@weft/core';
import type { ControlChannel } from '../control-client/control-channel.js';
import { ControlWatchHub, type WatchedState } from '../control-client/control-watch-hub.js';
import type { InvalidWireMessageError } from '../control-client/invalid-wire-message-error.js';
import { sameValue } from '../control-client/same-value.js';
import { destinationRequestFor } from './destination-request.js';
import { serviceProfileFromWire } from './profile-from-wire.js';

export interface GrpcDiscoverProfileOptions {
  /** The JSON object naming this proxy's workload, sent with every request, e.g. {"ns":"shop","workload":"web-0"}. */
  readonly contextToken?: string;
}

/**
 * One GetProfile stream per authority, shared by all its listeners. Listeners get the first profile, then each
 * profile that differs from the last one they got. Across a broken stream they keep their profile; the new stream's
 * first profile reaches them only if it differs. A profile the client refuses (see serviceProfileFromWire) is logged,
 * counted and skipped: the stream stays open and the next good profile replaces the last good one. If the control
 * plane stays away longer than the channel's lastKnownTtlMs, listeners get the default profile (no routes, default
 * retry budget), and the expiry is logged and counted.
 */
export class GrpcDiscoverProfile implements DiscoverProfile {
  private readonly hub: ControlWatchHub<destination.DestinationProfile, ServiceProfile>;

  constructor(
    private readonly channel: ControlChannel,
    private readonly options: GrpcDiscoverProfileOptions = {},
  ) {
    this.hub = new ControlWatchHub({
      settings: channel.settings,
      labels: { service: 'destination', rpc: 'GetProfile' },
      onRefused: 'skip',
    });
  }

  watch(target: Authority, listener: (profile: ServiceProfile) => void): Subscription {
    const request = destinationRequestFor(target, this.options.contextToken);
    const open = () => this.channel.destination().getProfile(request);
    return this.hub.watch(formatAuthority(target), () => new WatchedProfile(open, serviceProfileName(target)), listener);
  }

  /** How many GetProfile streams are open (connected or connecting). */
  openStreamCount(): number {
    return this.hub.openStreamCount();
  }

  /** Cancels every stream; the channel stays open for the other clients. */
  close(): void {
    this.hub.close();
  }
}

class WatchedProfile implements WatchedState<destination.DestinationProfile, ServiceProfile> {
  private held: ServiceProfile | undefined;

  constructor(
    readonly open: () => ClientReadableStream<destination.DestinationProfile>,
    private readonly name: string,
  ) {}

  receive(message: destination.DestinationProfile): Result<readonly ServiceProfile[], InvalidWireMessageError> {
    const read = serviceProfileFromWire(message, this.name);
    return read.ok ? ok(this.replace(read.value)) : read;
  }

  snapshot(): ServiceProfile | undefined {
    return this.held;
  }

  expire(): { readonly messages: readonly ServiceProfile[]; readonly replacement: string } {
    return { messages: this.replace(defaultServiceProfile(this.name)), replacement: 'default profile' };
  }

  private replace(profile: ServiceProfile): ServiceProfile[] {
    if (this.held !== undefined && sameValue(this.held, profile)) return [];
    this.held = profile;
    return [profile];
  }
}
