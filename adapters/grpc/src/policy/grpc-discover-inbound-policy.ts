// GrpcDiscoverInboundPolicy: the proxy's DiscoverInboundPolicy over the control plane's WatchPort streams.
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { policy } from '@weft/contracts';
import {
  type Cidr,
  defaultClusterNetworks,
  defaultInboundServerPolicy,
  type DefaultPolicy,
  type DiscoverInboundPolicy,
  type InboundServerPolicy,
  ok,
  type PolicyWorkloadRef,
  type Result,
  type Subscription,
} from '@weft/core';
import type { ControlChannel } from '../control-client/control-channel.js';
import { ControlWatchHub, type WatchedState } from '../control-client/control-watch-hub.js';
import type { InvalidWireMessageError } from '../control-client/invalid-wire-message-error.js';
import { sameValue } from '../control-client/same-value.js';
import { inboundPolicyFromWire } from './inbound-policy-from-wire.js';
import { portSpecFor } from './port-spec.js';

export interface GrpcDiscoverInboundPolicyOptions {
  /**
   * The default policy enforced on a port whose last known policy outlived the channel's lastKnownTtlMs while the
   * control plane stayed away. 'deny' when unset: a proxy that cannot learn its policy fails closed.
   */
  readonly expiredPolicy?: DefaultPolicy;
  /** The networks of the cluster-* expiry policies; Linkerd's defaults when unset. */
  readonly clusterNetworks?: readonly Cidr[];
}

/**
 * One WatchPort stream per workload port, shared by all its listeners. Listeners get the first policy, then each
 * policy that differs from the last one they got. Across a broken stream they keep enforcing their policy; the new
 * stream's first policy reaches them only if it differs. A policy the client refuses (see inboundPolicyFromWire) is
 * logged, counted and skipped, keeping the last good one. If the control plane stays away longer than the channel's
 * lastKnownTtlMs, listeners get the expiry policy, and the expiry is logged and counted.
 */
export class GrpcDiscoverInboundPolicy implements DiscoverInboundPolicy {
  private readonly hub: ControlWatchHub<policy.Server, InboundServerPolicy>;

  constructor(
    private readonly channel: ControlChannel,
    private readonly options: GrpcDiscoverInboundPolicyOptions = {},
  ) {
    this.hub = new ControlWatchHub({
      settings: channel.settings,
      labels: { service: 'policy', rpc: 'WatchPort' },
      onRefused: 'skip',
    });
  }

  watch(workload: PolicyWorkloadRef, port: number, listener: (policy: InboundServerPolicy) => void): Subscription {
    const request = portSpecFor(workload, port);
    const open = () => this.channel.policy().watchPort(request);
    const expiry = () =>
      defaultInboundServerPolicy(port, this.options.expiredPolicy ?? 'deny', this.options.clusterNetworks ?? defaultClusterNetworks);
    // JSON keeps names apart: no separator can be forged by a namespace or a name.
    const key = JSON.stringify([workload.namespace, workload.name, port]);
    return this.hub.watch(key, () => new WatchedPolicy(open, port, expiry), listener);
  }

  /** How many WatchPort streams are open (connected or connecting). */
  openStreamCount(): number {
    return this.hub.openStreamCount();
  }

  /** Cancels every stream; the channel stays open for the other clients. */
  close(): void {
    this.hub.close();
  }
}

class WatchedPolicy implements WatchedState<policy.Server, InboundServerPolicy> {
  private held: InboundServerPolicy | undefined;

  constructor(
    readonly open: () => ClientReadableStream<policy.Server>,
    private readonly port: number,
    private readonly expiry: () => InboundServerPolicy,
  ) {}

  receive(message: policy.Server): Result<readonly InboundServerPolicy[], InvalidWireMessageError> {
    const read = inboundPolicyFromWire(message, this.port);
    return read.ok ? ok(this.replace(read.value)) : read;
  }

  snapshot(): InboundServerPolicy | undefined {
    return this.held;
  }

  expire(): { readonly messages: readonly InboundServerPolicy[]; readonly replacement: string } {
    const replacement = this.expiry();
    return { messages: this.replace(replacement), replacement: `default policy ${replacement.server.name}` };
  }

  private replace(current: InboundServerPolicy): InboundServerPolicy[] {
    if (this.held !== undefined && sameValue(this.held, current)) return [];
    this.held = current;
    return [current];
  }
}
