// Builds the CLI's inversify container from the adapter modules and the CLI's own module.
import { Container, type ContainerModule } from 'inversify';
import { cliModule } from './cli.module.js';

export function createCliContainer(version: string, adapterModules: readonly ContainerModule[] = []): Container {
  const container = new Container({ defaultScope: 'Singleton' });
  container.load(...adapterModules, cliModule(version));
  return container;
}
