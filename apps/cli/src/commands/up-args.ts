// Reads `weft up`'s command line: the mesh file, the state folder, the gRPC port, the table switch and the duration.
import { parseDuration } from '@weft/core';
import { parseArgs, UsageError } from './identity-args.js';

export interface UpArgs {
  /** The mesh file as given; absent for the built-in demo. */
  readonly meshFile?: string;
  readonly stateDir?: string;
  readonly grpcPort?: number;
  readonly table: boolean;
  readonly durationMs?: number;
}

/** @throws UsageError naming the bad flag or value. */
export function parseUpArgs(args: readonly string[]): UpArgs {
  const parsed = parseArgs(args, { valued: ['state-dir', 'grpc-port', 'duration'], switches: ['no-table'] });
  const [meshFile, stray] = parsed.positionals;
  if (stray !== undefined) throw new UsageError(`weft up takes one mesh file; got another argument ${JSON.stringify(stray)}`);
  const stateDir = parsed.values.get('state-dir');
  const grpcPort = parsed.values.get('grpc-port');
  const duration = parsed.values.get('duration');
  return {
    ...(meshFile === undefined ? {} : { meshFile }),
    ...(stateDir === undefined ? {} : { stateDir }),
    ...(grpcPort === undefined ? {} : { grpcPort: portArg(grpcPort) }),
    table: !parsed.switches.has('no-table'),
    ...(duration === undefined ? {} : { durationMs: durationArg(duration) }),
  };
}

function portArg(text: string): number {
  const port = Number(text);
  if (!/^[1-9][0-9]*$/.test(text) || port > 65_535) {
    throw new UsageError(`--grpc-port ${JSON.stringify(text)} is not a port; write a number from 1 to 65535, e.g. 8086`);
  }
  return port;
}

function durationArg(text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new UsageError(`--duration ${parsed.error.toString()}`);
  if (parsed.value <= 0) throw new UsageError(`--duration ${JSON.stringify(text)} must be longer than 0, e.g. 30s or 5m`);
  return parsed.value;
}
