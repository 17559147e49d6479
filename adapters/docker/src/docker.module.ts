// The Docker adapter as one inversify ContainerModule: DiscoverEndpoints from the labelled containers of one engine.
import { DiscoverEndpoints } from '@weft/core';
import { ContainerModule } from 'inversify';
import { DockerDiscoverEndpoints, type DockerDiscoveryOptions } from './docker-discover-endpoints.js';
import type { DockerEngine } from './docker-engine.js';
import { DockerodeEngine } from './dockerode-engine.js';

export interface DockerModuleOptions extends DockerDiscoveryOptions {
  /** The engine's unix socket; "/var/run/docker.sock" when absent. */
  readonly socketPath?: string;
  /** The engine to use instead of the one at socketPath (tests). */
  readonly engine?: DockerEngine;
  /**
   * An adapter made (and usually started) beforehand, e.g. to fail a start early when the engine is away; the module
   * binds it instead of making one. It is closed when the container unbinds it.
   */
  readonly discovery?: DockerDiscoverEndpoints;
}

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/**
 * Binds DiscoverEndpoints (and DockerDiscoverEndpoints) to one adapter, made when first resolved and started then:
 * if the engine is away it is logged and retried in the background. The adapter stops when the container unbinds it.
 */
export function dockerModule(options: DockerModuleOptions = {}): ContainerModule {
  const { socketPath = DEFAULT_DOCKER_SOCKET, engine, discovery, ...discoveryOptions } = options;
  return new ContainerModule(({ bind }) => {
    bind(DockerDiscoverEndpoints)
      .toResolvedValue(() => {
        if (discovery) return discovery;
        const made = new DockerDiscoverEndpoints(engine ?? new DockerodeEngine(socketPath), discoveryOptions);
        // A failed first sync is logged by the adapter, which keeps retrying.
        made.start().catch(() => undefined);
        return made;
      })
      .inSingletonScope()
      .onDeactivation((adapter) => adapter.close());
    bind<DiscoverEndpoints>(DiscoverEndpoints).toService(DockerDiscoverEndpoints);
  });
}
