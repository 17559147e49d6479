// `weft version`: prints the version of the CLI and the Node.js runtime it runs on.
import type { CliCommand, CliIo } from '../cli-command.js';

export function versionCommand(version: string): CliCommand {
  return {
    name: 'version',
    summary: 'print the Weft version',
    usage: 'Usage: weft version\n\nPrints the version of the weft CLI and of the Node.js runtime.',
    async run(args: readonly string[], io: CliIo): Promise<number> {
      if (args.length > 0) {
        io.err(`weft version takes no arguments; got ${JSON.stringify(args.join(' '))}`);
        return 2;
      }
      io.out(`weft ${version} (node ${process.versions.node})`);
      return 0;
    },
  };
}
