// InMemoryDiscoverInboundPolicy: inbound port policies from a map that tests change, pushed whole to watchers.
import {
  type Cidr,
  defaultClusterNetworks,
  defaultInboundServerPolicy,
  type DefaultPolicy,
  type DiscoverInboundPolicy,
  type InboundServerPolicy,
  KeyedPublisher,
  type PolicyWorkloadRef,
  type Subscription,
} from '@weft/core';
import { injectable } from 'inversify';

export interface InMemoryDiscoverInboundPolicyOptions {
  /** The policy of ports nothing is set for; 'all-unauthenticated' when unset. */
  readonly defaultPolicy?: DefaultPolicy;
  /** The networks of the cluster-* policies; Linkerd's (RFC 1918, 100.64.0.0/10, fd00::/8) when unset. */
  readonly clusterNetworks?: readonly Cidr[];
}

/**
 * Policies are kept per workload and port. A watch gets its first message synchronously (the set policy, or the
 * default policy), then a whole policy on every change. A listener that throws does not stop delivery to the
 * others; once all are served, the call that made the change (setPolicy, clearPolicy) throws the listener's
 * error, so the test sees it. The container builds it with the defaults; `create` sets other ones.
 */
@injectable()
export class InMemoryDiscoverInboundPolicy implements DiscoverInboundPolicy {
  private defaultPolicyName: DefaultPolicy = 'all-unauthenticated';
  private clusterNetworks: readonly Cidr[] = defaultClusterNetworks;
  private readonly policies = new Map<string, InboundServerPolicy>();
  private readonly publisher = new KeyedPublisher<string, InboundServerPolicy>('inbound policy');

  /** An instance with another default policy or other cluster networks. */
  static create(options: InMemoryDiscoverInboundPolicyOptions = {}): InMemoryDiscoverInboundPolicy {
    const discovery = new InMemoryDiscoverInboundPolicy();
    discovery.defaultPolicyName = options.defaultPolicy ?? discovery.defaultPolicyName;
    discovery.clusterNetworks = options.clusterNetworks ?? discovery.clusterNetworks;
    return discovery;
  }

  watch(workload: PolicyWorkloadRef, port: number, listener: (policy: InboundServerPolicy) => void): Subscription {
    const key = keyOf(workload, port);
    return this.publisher.subscribe(key, this.current(key, port), listener);
  }

  /** Makes `policy` the policy of the workload's port; its watchers get it. */
  setPolicy(workload: PolicyWorkloadRef, port: number, policy: InboundServerPolicy): void {
    const key = keyOf(workload, port);
    this.policies.set(key, policy);
    this.publisher.publish(key, policy);
  }

  /** Forgets the policy of the workload's port; its watchers get the default one. An unset port stays quiet. */
  clearPolicy(workload: PolicyWorkloadRef, port: number): void {
    const key = keyOf(workload, port);
    if (this.policies.delete(key)) this.publisher.publish(key, this.defaultPolicyFor(port));
  }

  /** The policy watchers of `port` get when nothing is set for it. */
  defaultPolicyFor(port: number): InboundServerPolicy {
    return defaultInboundServerPolicy(port, this.defaultPolicyName, this.clusterNetworks);
  }

  /** How many open watches the workload's port has. */
  watcherCount(workload: PolicyWorkloadRef, port: number): number {
    return this.publisher.watcherCount(keyOf(workload, port));
  }

  private current(key: string, port: number): InboundServerPolicy {
    return this.policies.get(key) ?? this.defaultPolicyFor(port);
  }
}

// JSON keeps names with any characters apart: no separator can be forged by a namespace or a name.
function keyOf(workload: PolicyWorkloadRef, port: number): string {
  return JSON.stringify([workload.namespace, workload.name, port]);
}
