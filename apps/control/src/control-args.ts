// Reads weft-control's command line: which orchestrator to mesh and where to serve.
import { parseSocketAddress, type SocketAddress } from '@weft/core';

export const ORCHESTRATORS = ['memory', 'file', 'docker', 'kubernetes'] as const;
export type Orchestrator = (typeof ORCHESTRATORS)[number];

export interface ControlArgs {
  readonly orchestrator: Orchestrator;
  /** ip:port of the admin server (/live, /ready). */
  readonly adminAddr: SocketAddress;
  readonly help: boolean;
}

export const CONTROL_USAGE = `Usage: weft-control [options]

Options:
  --orchestrator <name>   where workloads come from: ${ORCHESTRATORS.join(' | ')} (default: memory)
  --admin-addr <ip:port>   admin server for /live and /ready (default: 127.0.0.1:9990)
  -h, --help              show this help`;

export class ControlArgsError extends Error {
  override readonly name = 'ControlArgsError';
}

export function parseControlArgs(argv: readonly string[]): ControlArgs {
  let orchestrator: Orchestrator = 'memory';
  let adminAddr: SocketAddress = { ip: '127.0.0.1', port: 9990 };
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = splitFlag(argv[i] as string);
    const value = (): string => {
      const next = inline ?? argv[++i];
      if (next === undefined || next.startsWith('--')) throw new ControlArgsError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--orchestrator': {
        const name = value();
        if (!(ORCHESTRATORS as readonly string[]).includes(name)) {
          throw new ControlArgsError(`--orchestrator ${JSON.stringify(name)} is not one of ${ORCHESTRATORS.join(', ')}`);
        }
        orchestrator = name as Orchestrator;
        break;
      }
      case '--admin-addr': {
        const raw = value();
        const parsed = parseSocketAddress(raw);
        if (!parsed.ok) throw new ControlArgsError(`--admin-addr ${JSON.stringify(raw)}: ${parsed.error.reason}`);
        adminAddr = parsed.value;
        break;
      }
      case '-h':
      case '--help':
        help = true;
        break;
      default:
        throw new ControlArgsError(`unknown option ${JSON.stringify(flag)}; see weft-control --help`);
    }
  }
  return { orchestrator, adminAddr, help };
}

function splitFlag(arg: string): [string, string | undefined] {
  const eq = arg.indexOf('=');
  return arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
}
