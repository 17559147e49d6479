// Builds weft-control's inversify container: the runtime, the orchestrator's adapters and the control plane's own services.
import { Container, type ContainerModule } from 'inversify';
import { controlModule, type ControlModuleOptions } from './control.module.js';

export function createControlContainer(
  adapterModules: readonly ContainerModule[],
  options: ControlModuleOptions = {},
): Container {
  const container = new Container({ defaultScope: 'Singleton' });
  container.load(...adapterModules, controlModule(options));
  return container;
}
