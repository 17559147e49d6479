// FileDiscoverEndpoints: the endpoints of each service port of the mesh file, streamed as the file changes.
import {
  type Authority,
  diffEndpoints,
  type DiscoverEndpoints,
  type Endpoint,
  endpointSetOf,
  type EndpointUpdate,
  type EndpointUpdateListener,
  formatAuthority,
  KeyedPublisher,
  type Subscription,
} from '@weft/core';
import { inject, injectable } from 'inversify';
import { FileMeshSource } from './file-mesh-source.js';
import { type MeshConfig, meshEndpointsOf } from './mesh-config.js';

/**
 * A service port (`<name>.<namespace>.svc.<clusterDomain>:<port>`) has one endpoint per instance of the service;
 * a name the file does not declare, or a port the service does not list, does not exist. A watch gets `reset` or
 * `doesNotExist` first, then, on each applied edit of the file, the incremental `remove` and `add` that turn what it
 * holds into the new endpoints (`doesNotExist` when the service is removed, `reset` when it comes back).
 */
@injectable()
export class FileDiscoverEndpoints implements DiscoverEndpoints {
  private readonly listeners: KeyedPublisher<string, EndpointUpdate>;
  private readonly targets = new Map<string, Authority>();
  private readonly changes: Subscription;

  constructor(@inject(FileMeshSource) private readonly source: FileMeshSource) {
    this.listeners = new KeyedPublisher('endpoint', (error) => source.reportListenerError('an endpoint watch listener', error));
    this.changes = source.onChange((config, previous) => this.publishChanges(config, previous));
  }

  watch(target: Authority, listener: EndpointUpdateListener): Subscription {
    const key = formatAuthority(target);
    this.targets.set(key, target);
    const endpoints = meshEndpointsOf(this.source.current(), target);
    const first: EndpointUpdate = endpoints ? { kind: 'reset', endpoints } : { kind: 'doesNotExist' };
    return this.listeners.subscribe(key, first, listener);
  }

  /** How many open watches `target` has. */
  watcherCount(target: Authority): number {
    return this.listeners.watcherCount(formatAuthority(target));
  }

  /** Stops following the file; open watches get nothing more. */
  close(): void {
    this.changes.close();
  }

  private publishChanges(config: MeshConfig, previous: MeshConfig): void {
    const watched = new Set(this.listeners.keys());
    for (const [key, target] of this.targets) {
      if (!watched.has(key)) {
        this.targets.delete(key);
        continue;
      }
      const updates = endpointChanges(meshEndpointsOf(previous, target), meshEndpointsOf(config, target));
      if (updates.length > 0) this.listeners.publish(key, ...updates);
    }
  }
}

/** The updates from one state of a service port to the next; undefined means the service port does not exist. */
export function endpointChanges(before: readonly Endpoint[] | undefined, after: readonly Endpoint[] | undefined): EndpointUpdate[] {
  if (after === undefined) return before === undefined ? [] : [{ kind: 'doesNotExist' }];
  if (before === undefined) return [{ kind: 'reset', endpoints: after }];
  return diffEndpoints(endpointSetOf(before), endpointSetOf(after));
}
