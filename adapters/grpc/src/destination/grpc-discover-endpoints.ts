// GrpcDiscoverEndpoints: the proxy's DiscoverEndpoints over the control plane's Destination.Get streams.
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { destination } from '@weft/contracts';
import {
  type Authority,
  type DiscoverEndpoints,
  type EndpointUpdate,
  type EndpointUpdateListener,
  err,
  formatAuthority,
  ok,
  type Result,
  type Subscription,
} from '@weft/core';
import type { ControlChannel } from '../control-client/control-channel.js';
import { ControlWatchHub, type WatchedState } from '../control-client/control-watch-hub.js';
import { InvalidWireMessageError } from '../control-client/invalid-wire-message-error.js';
import { destinationRequestFor } from './destination-request.js';
import { endpointUpdateFromWire } from './endpoint-from-wire.js';
import { EndpointStreamState } from './endpoint-stream-state.js';

export interface GrpcDiscoverEndpointsOptions {
  /** The JSON object naming this proxy's workload, sent with every request, e.g. {"ns":"shop","workload":"web-0"}. */
  readonly contextToken?: string;
}

/**
 * One Get stream per authority, shared by all its listeners. Listeners get the contract's stream (first `reset` or
 * `doesNotExist`, then only real changes). When the stream breaks they keep their endpoints and hear nothing until
 * the new stream's first message, which reaches them as the difference from what they hold (no reset to empty, no
 * removal of endpoints that are still there). A message the client refuses (a bad address, an `add` before any
 * `reset`...) is logged and counted, and the stream is restarted so that it starts again from a whole set. If the
 * control plane stays away longer than the channel's lastKnownTtlMs, listeners get `doesNotExist` (so names may fall
 * back to DNS), and the expiry is logged and counted.
 */
export class GrpcDiscoverEndpoints implements DiscoverEndpoints {
  private readonly hub: ControlWatchHub<destination.Update, EndpointUpdate>;

  constructor(
    private readonly channel: ControlChannel,
    private readonly options: GrpcDiscoverEndpointsOptions = {},
  ) {
    this.hub = new ControlWatchHub({
      settings: channel.settings,
      labels: { service: 'destination', rpc: 'Get' },
      onRefused: 'restart',
    });
  }

  watch(target: Authority, listener: EndpointUpdateListener): Subscription {
    const request = destinationRequestFor(target, this.options.contextToken);
    const open = () => this.channel.destination().get(request);
    return this.hub.watch(formatAuthority(target), () => new WatchedEndpoints(open), listener);
  }

  /** How many Get streams are open (connected or connecting). */
  openStreamCount(): number {
    return this.hub.openStreamCount();
  }

  /** Cancels every stream; the channel stays open for the other clients. */
  close(): void {
    this.hub.close();
  }
}

class WatchedEndpoints implements WatchedState<destination.Update, EndpointUpdate> {
  private readonly held = new EndpointStreamState();

  constructor(readonly open: () => ClientReadableStream<destination.Update>) {}

  receive(message: destination.Update, first: boolean): Result<readonly EndpointUpdate[], InvalidWireMessageError> {
    const read = endpointUpdateFromWire(message);
    if (!read.ok) return read;
    const update = read.value;
    if (update.kind === 'add' || update.kind === 'remove') {
      if (first) {
        return err(new InvalidWireMessageError('kind', update.kind, 'opens the stream; a Get stream starts with reset or does_not_exist'));
      }
      if (this.held.current() === 'doesNotExist') {
        return err(new InvalidWireMessageError('kind', update.kind, 'follows does_not_exist; a service that comes back starts with reset'));
      }
    }
    return ok(this.held.next(update));
  }

  snapshot(): EndpointUpdate | undefined {
    return this.held.snapshot();
  }

  expire(): { readonly messages: readonly EndpointUpdate[]; readonly replacement: string } {
    return { messages: this.held.next({ kind: 'doesNotExist' }), replacement: 'doesNotExist' };
  }
}
