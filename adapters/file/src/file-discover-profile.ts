// FileDiscoverProfile: the service profile of each authority from the mesh file, sent whole whenever it changes.
import {
  type Authority,
  type DiscoverProfile,
  formatAuthority,
  KeyedPublisher,
  type ServiceProfile,
  type Subscription,
} from '@weft/core';
import { inject, injectable } from 'inversify';
import { FileMeshSource } from './file-mesh-source.js';
import { type MeshConfig, meshProfileOf } from './mesh-config.js';

/**
 * A service's profile applies to all its ports; an authority without one gets the default profile named after it.
 * A port declared `protocol: opaque` gets its profile with opaqueProtocol set. A watch gets the profile first, then
 * the whole new profile each time an applied edit changes it; edits that leave it as it was send nothing.
 */
@injectable()
export class FileDiscoverProfile implements DiscoverProfile {
  private readonly listeners: KeyedPublisher<string, ServiceProfile>;
  private readonly targets = new Map<string, Authority>();
  private readonly changes: Subscription;

  constructor(@inject(FileMeshSource) private readonly source: FileMeshSource) {
    this.listeners = new KeyedPublisher('profile', (error) => source.reportListenerError('a profile watch listener', error));
    this.changes = source.onChange((config, previous) => this.publishChanges(config, previous));
  }

  watch(target: Authority, listener: (profile: ServiceProfile) => void): Subscription {
    const key = formatAuthority(target);
    this.targets.set(key, target);
    return this.listeners.subscribe(key, meshProfileOf(this.source.current(), target), listener);
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
      const after = meshProfileOf(config, target);
      // Profiles are plain data: the same JSON is the same profile.
      if (JSON.stringify(after) !== JSON.stringify(meshProfileOf(previous, target))) this.listeners.publish(key, after);
    }
  }
}
