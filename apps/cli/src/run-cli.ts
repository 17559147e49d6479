// Dispatches `weft <verb> [args]` to the verb's command, with help and clear errors for unknown verbs.
import type { CliCommands, CliIo } from './cli-command.js';

export function cliHelp(commands: CliCommands): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  return [
    'weft: a light service mesh for Kubernetes, Docker hosts and one laptop',
    '',
    'Usage: weft <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${'help'.padEnd(width)}  show this help, or a command's help with weft help <command>`,
  ].join('\n');
}

export async function runCli(argv: readonly string[], commands: CliCommands, io: CliIo): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === 'help' || verb === '--help' || verb === '-h') {
    const topic = verb === 'help' ? rest[0] : undefined;
    const command = topic === undefined ? undefined : commands.find((c) => c.name === topic);
    if (topic !== undefined && command === undefined) {
      io.err(`weft: no command ${JSON.stringify(topic)}; run weft help for the list`);
      return 2;
    }
    io.out(command ? command.usage : cliHelp(commands));
    return 0;
  }
  const command = commands.find((c) => c.name === verb);
  if (!command) {
    io.err(`weft: no command ${JSON.stringify(verb)}; run weft help for the list`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.usage);
    return 0;
  }
  return command.run(rest, io);
}
