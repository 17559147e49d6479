// FileDiscoverInboundPolicy: the compiled inbound policy of each workload port from the mesh file, sent whole on change.
import { type DiscoverInboundPolicy, type InboundServerPolicy, KeyedPublisher, type PolicyWorkloadRef, type Subscription } from '@weft/core';
import { inject, injectable } from 'inversify';
import { FileMeshSource } from './file-mesh-source.js';
import { type MeshConfig, meshInboundPolicyOf } from './mesh-config.js';

interface WatchedPort {
  readonly workload: PolicyWorkloadRef;
  readonly port: number;
}

/**
 * The workload is an instance of the file (by namespace and instance name), selected by Servers through its labels
 * and named ports. A port no Server selects gets its namespace's default policy. A watch gets the policy first, then
 * the whole new policy each time an applied edit changes it.
 *
 * The file is only applied when the policy of every listed instance port compiles, so compiling here does not fail;
 * should it, the port gets a policy that admits nobody (failing closed) and the error is logged.
 */
@injectable()
export class FileDiscoverInboundPolicy implements DiscoverInboundPolicy {
  private readonly listeners: KeyedPublisher<string, InboundServerPolicy>;
  private readonly targets = new Map<string, WatchedPort>();
  private readonly changes: Subscription;

  constructor(@inject(FileMeshSource) private readonly source: FileMeshSource) {
    this.listeners = new KeyedPublisher('inbound policy', (error) => source.reportListenerError('an inbound policy watch listener', error));
    this.changes = source.onChange((config, previous) => this.publishChanges(config, previous));
  }

  watch(workload: PolicyWorkloadRef, port: number, listener: (policy: InboundServerPolicy) => void): Subscription {
    const key = JSON.stringify([workload.namespace, workload.name, port]);
    this.targets.set(key, { workload: { namespace: workload.namespace, name: workload.name }, port });
    return this.listeners.subscribe(key, this.policyOf(this.source.current(), workload, port), listener);
  }

  /** How many open watches the workload's port has. */
  watcherCount(workload: PolicyWorkloadRef, port: number): number {
    return this.listeners.watcherCount(JSON.stringify([workload.namespace, workload.name, port]));
  }

  /** Stops following the file; open watches get nothing more. */
  close(): void {
    this.changes.close();
  }

  private publishChanges(config: MeshConfig, previous: MeshConfig): void {
    const watched = new Set(this.listeners.keys());
    for (const [key, { workload, port }] of this.targets) {
      if (!watched.has(key)) {
        this.targets.delete(key);
        continue;
      }
      const after = this.policyOf(config, workload, port);
      if (JSON.stringify(after) !== JSON.stringify(this.policyOf(previous, workload, port))) this.listeners.publish(key, after);
    }
  }

  private policyOf(config: MeshConfig, workload: PolicyWorkloadRef, port: number): InboundServerPolicy {
    const compiled = meshInboundPolicyOf(config, workload, port);
    if (compiled.ok) return compiled.value;
    this.source.reportListenerError(`the inbound policy of ${workload.namespace}/${workload.name} port ${port}`, compiled.error);
    return {
      port,
      protocol: 'unknown',
      server: { kind: 'Server', name: compiled.error.resource.name },
      authorizations: [],
      httpRoutes: [],
      audit: false,
    };
  }
}
