// DiscoverInboundPolicy port: a proxy watches the policy of one port of its workload.
import type { InboundServerPolicy } from './inbound-server-policy.js';
import type { Subscription } from '../shared/subscription.js';

export const DiscoverInboundPolicy = Symbol('DiscoverInboundPolicy');

/** The workload a proxy runs beside: a pod, container or process instance in a namespace (or project). */
export interface PolicyWorkloadRef {
  readonly namespace: string;
  readonly name: string;
}

export interface DiscoverInboundPolicy {
  /**
   * Streams the policy of `port` on `workload` to `listener`.
   *
   * - The first message is always sent, without waiting for a change: the port's current policy, or the
   *   default policy (server kind "default") when no Server selects the port.
   * - Every later message is a whole new policy that replaces the previous one; there are no partial updates.
   *   A message is sent whenever the policy changes, including back to the default when its Server goes away.
   * - After `close()` on the returned subscription the listener is not called again.
   */
  watch(workload: PolicyWorkloadRef, port: number, listener: (policy: InboundServerPolicy) => void): Subscription;
}
