// InMemoryDiscoverInboundPolicy: inbound port policies from a map that tests change, pushed whole to watchers.
import {
  defaultClusterNetworks,
  defaultInboundServerPolicy,
  type Cidr,
  type DefaultPolicy,
  type DiscoverInboundPolicy,
  type InboundServerPolicy,
  type PolicyWorkloadRef,
  type Subscription,
} from '@weft/core';
import { injectable } from 'inversify';

type PolicyListener = (policy: InboundServerPolicy) => void;

interface Watch {
  readonly listener: PolicyListener;
  open: boolean;
}

interface Delivery {
  readonly watches: readonly Watch[];
  readonly policy: InboundServerPolicy;
}

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
  private readonly watches = new Map<string, Set<Watch>>();
  private readonly queue: Delivery[] = [];
  private delivering = false;

  /** An instance with another default policy or other cluster networks. */
  static create(options: InMemoryDiscoverInboundPolicyOptions = {}): InMemoryDiscoverInboundPolicy {
    const discovery = new InMemoryDiscoverInboundPolicy();
    discovery.defaultPolicyName = options.defaultPolicy ?? discovery.defaultPolicyName;
    discovery.clusterNetworks = options.clusterNetworks ?? discovery.clusterNetworks;
    return discovery;
  }

  watch(workload: PolicyWorkloadRef, port: number, listener: PolicyListener): Subscription {
    const key = keyOf(workload, port);
    listener(this.current(key, port));
    const watch: Watch = { listener, open: true };
    const watches = this.watches.get(key) ?? new Set<Watch>();
    this.watches.set(key, watches.add(watch));
    return {
      close: () => {
        watch.open = false;
        watches.delete(watch);
        if (watches.size === 0 && this.watches.get(key) === watches) this.watches.delete(key);
      },
    };
  }

  /** Makes `policy` the policy of the workload's port; its watchers get it. */
  setPolicy(workload: PolicyWorkloadRef, port: number, policy: InboundServerPolicy): void {
    const key = keyOf(workload, port);
    this.policies.set(key, policy);
    this.publish(key, policy);
  }

  /** Forgets the policy of the workload's port; its watchers get the default one. An unset port stays quiet. */
  clearPolicy(workload: PolicyWorkloadRef, port: number): void {
    const key = keyOf(workload, port);
    if (this.policies.delete(key)) this.publish(key, this.defaultPolicyFor(port));
  }

  /** The policy watchers of `port` get when nothing is set for it. */
  defaultPolicyFor(port: number): InboundServerPolicy {
    return defaultInboundServerPolicy(port, this.defaultPolicyName, this.clusterNetworks);
  }

  /** How many open watches the workload's port has. */
  watcherCount(workload: PolicyWorkloadRef, port: number): number {
    return this.watches.get(keyOf(workload, port))?.size ?? 0;
  }

  private current(key: string, port: number): InboundServerPolicy {
    return this.policies.get(key) ?? this.defaultPolicyFor(port);
  }

  // Changes made by a listener during delivery are queued behind it, so every watcher sees them in order.
  private publish(key: string, policy: InboundServerPolicy): void {
    this.queue.push({ watches: [...(this.watches.get(key) ?? [])], policy });
    if (this.delivering) return;
    this.delivering = true;
    const errors: unknown[] = [];
    try {
      for (let delivery = this.queue.shift(); delivery; delivery = this.queue.shift()) {
        for (const watch of delivery.watches) {
          if (!watch.open) continue;
          try {
            watch.listener(delivery.policy);
          } catch (error) {
            errors.push(error);
          }
        }
      }
    } finally {
      this.delivering = false;
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      throw new AggregateError(errors, `${errors.length} inbound policy listeners of ${key} threw`);
    }
  }
}

// JSON keeps names with any characters apart: no separator can be forged by a namespace or a name.
function keyOf(workload: PolicyWorkloadRef, port: number): string {
  return JSON.stringify([workload.namespace, workload.name, port]);
}
