// Builds the proxy's inversify container from the adapter modules and the proxy's own module.
import { Container, type ContainerModule } from 'inversify';
import { proxyModule } from './proxy.module.js';

export function createProxyContainer(adapterModules: readonly ContainerModule[]): Container {
  const container = new Container({ defaultScope: 'Singleton' });
  container.load(...adapterModules, proxyModule());
  return container;
}
