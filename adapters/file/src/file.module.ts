// The file adapter as one inversify ContainerModule: endpoints, profiles and inbound policies from a watched mesh.yaml.
import { DiscoverEndpoints, DiscoverInboundPolicy, DiscoverProfile } from '@weft/core';
import { ContainerModule } from 'inversify';
import { FileDiscoverEndpoints } from './file-discover-endpoints.js';
import { FileDiscoverInboundPolicy } from './file-discover-inbound-policy.js';
import { FileDiscoverProfile } from './file-discover-profile.js';
import { FileMeshSource, type FileMeshSourceOptions } from './file-mesh-source.js';

export type FileModuleOptions = FileMeshSourceOptions;

/**
 * Binds DiscoverEndpoints, DiscoverProfile and DiscoverInboundPolicy (and their File* classes) to adapters over one
 * FileMeshSource, which reads the file when first resolved and watches it until the container unbinds it.
 */
export function fileModule(options: FileModuleOptions): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(FileMeshSource)
      .toResolvedValue(() => {
        const source = new FileMeshSource(options);
        source.start();
        return source;
      })
      .inSingletonScope()
      .onDeactivation((source) => source.close());
    bind(FileDiscoverEndpoints).toSelf().inSingletonScope().onDeactivation((adapter) => adapter.close());
    bind(FileDiscoverProfile).toSelf().inSingletonScope().onDeactivation((adapter) => adapter.close());
    bind(FileDiscoverInboundPolicy).toSelf().inSingletonScope().onDeactivation((adapter) => adapter.close());
    bind<DiscoverEndpoints>(DiscoverEndpoints).toService(FileDiscoverEndpoints);
    bind<DiscoverProfile>(DiscoverProfile).toService(FileDiscoverProfile);
    bind<DiscoverInboundPolicy>(DiscoverInboundPolicy).toService(FileDiscoverInboundPolicy);
  });
}
