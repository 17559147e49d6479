// `weft identity`: the mesh's certificate authority from the command line (init, inspect).
import { CaMaterialError } from '@weft/adapter-x509';
import type { CliCommand, CliIo } from '../cli-command.js';
import { UsageError } from './identity-args.js';
import { IDENTITY_INIT_USAGE, runIdentityInit } from './identity-init.js';
import { IDENTITY_INSPECT_USAGE, runIdentityInspect } from './identity-inspect.js';

const USAGE = `Usage: weft identity <init|inspect> [options]

Manages the certificates of the mesh's identity: a trust anchor (root) signs an issuer (intermediate), which the
control plane uses to sign each proxy's short-lived workload certificate.

Subcommands:
  init       write a new trust anchor and issuer to a folder
  inspect    print what a certificate file holds and whether it chains to the trust anchors

${IDENTITY_INIT_USAGE}

${IDENTITY_INSPECT_USAGE}`;

export interface IdentityCommandOptions {
  /** The current time in epoch ms; the system clock by default. */
  readonly now?: () => number;
}

export function identityCommand(options: IdentityCommandOptions = {}): CliCommand {
  const now = options.now ?? (() => Date.now());
  return {
    name: 'identity',
    summary: 'create the trust anchor and issuer, and inspect certificates',
    usage: USAGE,
    async run(args: readonly string[], io: CliIo): Promise<number> {
      const [sub, ...rest] = args;
      const run = sub === 'init' ? runIdentityInit : sub === 'inspect' ? runIdentityInspect : undefined;
      if (run === undefined) {
        const missing = 'weft identity needs a subcommand: init or inspect';
        io.err(sub === undefined ? missing : `weft identity: no subcommand ${JSON.stringify(sub)}; use init or inspect`);
        io.err('run weft identity --help for the usage');
        return 2;
      }
      try {
        return await run(rest, io, now);
      } catch (error) {
        return report(error, sub ?? '', io);
      }
    },
  };
}

function report(error: unknown, sub: string, io: CliIo): number {
  if (error instanceof UsageError) {
    io.err(`weft identity ${sub}: ${error.message}`);
    io.err('run weft identity --help for the usage');
    return 2;
  }
  if (error instanceof CaMaterialError) {
    io.err(`weft identity ${sub}: ${error.toString()}`);
    return 1;
  }
  const code = (error as { code?: unknown }).code;
  const path = (error as { path?: unknown }).path;
  if (typeof code === 'string' && typeof path === 'string') {
    io.err(`weft identity ${sub}: cannot write ${JSON.stringify(path)} (${code})`);
    return 1;
  }
  throw error;
}
