// CliCommand: the shape of one `weft` verb, and the streams it writes to.
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export interface CliCommand {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The full usage text shown by `weft <name> --help`. */
  readonly usage: string;
  /** Runs the verb and gives the process exit code. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** The token under which the composition root binds the list of verbs. */
export const CliCommands = Symbol('CliCommands');
export type CliCommands = readonly CliCommand[];
