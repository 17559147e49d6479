// The CLI's own bindings: the list of verbs it offers.
import { ContainerModule } from 'inversify';
import { CliCommands } from './cli-command.js';
import { identityCommand } from './commands/identity.js';
import { upCommand } from './commands/up.js';
import { versionCommand } from './commands/version.js';

export function cliModule(version: string): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind<CliCommands>(CliCommands).toConstantValue([versionCommand(version), identityCommand(), upCommand()]);
  });
}
