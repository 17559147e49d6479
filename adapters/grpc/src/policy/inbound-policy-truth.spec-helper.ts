// The tests' source of truth for the policy service: a real, map-backed DiscoverInboundPolicy.
import {
  defaultInboundServerPolicy,
  type DefaultPolicy,
  type DiscoverInboundPolicy,
  type InboundServerPolicy,
  type PolicyWorkloadRef,
  type Subscription,
} from '@weft/core';
import { TruthTopics } from '../control-client/truth-topics.spec-helper.js';

export class TruthInboundPolicy implements DiscoverInboundPolicy {
  private readonly policies = new Map<string, InboundServerPolicy>();
  private readonly topics = new TruthTopics<InboundServerPolicy>();

  constructor(private readonly defaultPolicyName: DefaultPolicy = 'all-unauthenticated') {}

  watch(workload: PolicyWorkloadRef, port: number, listener: (policy: InboundServerPolicy) => void): Subscription {
    const key = keyOf(workload, port);
    return this.topics.subscribe(key, this.policies.get(key) ?? this.defaultPolicy(port), listener);
  }

  setPolicy(workload: PolicyWorkloadRef, port: number, policy: InboundServerPolicy): void {
    this.policies.set(keyOf(workload, port), policy);
    this.topics.publish(keyOf(workload, port), policy);
  }

  clearPolicy(workload: PolicyWorkloadRef, port: number): void {
    if (this.policies.delete(keyOf(workload, port))) this.topics.publish(keyOf(workload, port), this.defaultPolicy(port));
  }

  defaultPolicy(port: number): InboundServerPolicy {
    return defaultInboundServerPolicy(port, this.defaultPolicyName);
  }

  watcherCount(workload?: PolicyWorkloadRef, port?: number): number {
    return workload === undefined || port === undefined ? this.topics.total() : this.topics.count(keyOf(workload, port));
  }
}

function keyOf(workload: PolicyWorkloadRef, port: number): string {
  return JSON.stringify([workload.namespace, workload.name, port]);
}
