// `weft up`: runs a whole mesh on this machine (control plane, apps and their proxies) with live figures, until stopped.
import { access, constants, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import type { CliCommand, CliIo } from '../cli-command.js';
import { runMesh } from '../up/mesh-runner.js';
import type { SupervisedChild } from '../up/supervised-child.js';
import { weftPaths, type WeftPaths } from '../up/weft-paths.js';
import { UsageError } from './identity-args.js';
import { parseUpArgs, type UpArgs } from './up-args.js';

export const UP_USAGE = `Usage: weft up [mesh.yaml] [--state-dir DIR] [--grpc-port N] [--no-table] [--duration D]

Runs a whole mesh on this machine: the control plane, then for every instance of the mesh file that has a command,
its app and its sidecar proxy, all on 127.0.0.1. The proxies get their certificates from the control plane and talk
to each other over mTLS. Without a file, runs the built-in demo (apps/demo/mesh.yaml of the Weft repository).

Options:
  --state-dir DIR   where the trust anchor, issuer, token key and logs are kept (default: .weft/ beside the mesh
                    file, or a folder in the system's temporary folder when that one cannot be written)
  --grpc-port N     the control plane's gRPC port (default: 8086 when it is free, else a free port)
  --no-table        print one line per service every few seconds instead of the live table (always so when the
                    output is not a terminal)
  --duration D      stop by itself after D, e.g. 30s or 5m (default: run until Ctrl-C)

What it does:
  - checks the mesh file (errors name the file, line, column and field) and that the ports it fixes are free;
  - makes the mesh's trust anchor and issuer (ca.crt, ca.key, issuer.crt, issuer.key, as weft identity init
    writes them) and the token key (token.key) in the state folder, unless they are there;
  - starts weft-control with the file adapter and waits until it is ready;
  - starts each instance's app (its command, in its cwd, with its env, PORT=<port> unless env sets it, and
    <upstream env>=127.0.0.1:<local port> for each upstream; a command list whose program is "node" runs with the
    Node.js that runs weft) and its proxy, with a workload token weft up signs; ports the file leaves open are
    picked free; then waits until every proxy is ready;
  - prints where everything listens, the log file of each process (<state>/logs/), and the entry points;
  - shows, per service, inbound success rate, requests per second, p50/p95/p99 latency, open TCP connections,
    the share of traffic over mTLS and the state of each instance, from the proxies' metrics;
  - restarts a process that dies (the control plane too; the proxies keep serving meanwhile), waiting 0.5s,
    1s, 2s, ... up to 30s between tries;
  - on Ctrl-C or SIGTERM stops the apps, then the proxies, then the control plane (SIGTERM, then SIGKILL after
    5s) and exits 0.

Exit codes: 0 stopped as asked; 1 could not start; 2 a bad command line or mesh file.`;

export interface UpCommandOptions {
  readonly paths?: WeftPaths;
  /** Whether stdout is a terminal; process.stdout.isTTY by default. */
  readonly interactive?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  readonly nodePath?: string;
  /** Stops the run when aborted, besides SIGINT and SIGTERM. */
  readonly stopSignal?: AbortSignal;
  /** Whether to handle SIGINT and SIGTERM (true by default; tests running in-process turn it off). */
  readonly handleSignals?: boolean;
  /** How often the figures are shown, and how far back their rates look (tests shorten them). */
  readonly refreshMs?: number;
  readonly windowMs?: number;
}

export function upCommand(options: UpCommandOptions = {}): CliCommand {
  return {
    name: 'up',
    summary: 'run a whole mesh on this machine, with live figures (the built-in demo without a file)',
    usage: UP_USAGE,
    async run(args: readonly string[], io: CliIo): Promise<number> {
      let parsed: UpArgs;
      try {
        parsed = parseUpArgs(args);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        io.err(`weft up: ${error.message}`);
        io.err('run weft up --help for the usage');
        return 2;
      }
      return runUp(parsed, io, options);
    },
  };
}

async function runUp(args: UpArgs, io: CliIo, options: UpCommandOptions): Promise<number> {
  const cwd = options.cwd ?? process.cwd();
  const paths = options.paths ?? weftPaths();
  const meshFile = args.meshFile === undefined ? paths.demoMesh : resolve(cwd, args.meshFile);
  const stateDir = args.stateDir === undefined ? await defaultStateDir(meshFile) : resolve(cwd, args.stateDir);
  const controller = new AbortController();
  options.stopSignal?.addEventListener('abort', () => controller.abort());
  let children: readonly SupervisedChild[] = [];
  let signals = 0;
  // The first Ctrl-C stops in order; a second one does not wait.
  const stop = () => {
    if (++signals === 1) return controller.abort();
    io.err('weft up: stopping at once');
    killChildren();
    process.exit(130);
  };
  // Should weft up itself die, no child may outlive it.
  const killChildren = () => {
    for (const child of children) child.killNow();
  };
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) {
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }
  process.on('exit', killChildren);
  try {
    return await runMesh(
      {
        meshFile,
        stateDir,
        ...(args.grpcPort === undefined ? {} : { grpcPort: args.grpcPort }),
        interactive: args.table && (options.interactive ?? process.stdout.isTTY === true),
        ...(args.durationMs === undefined ? {} : { durationMs: args.durationMs }),
        paths,
        nodePath: options.nodePath ?? process.execPath,
        env: options.env ?? process.env,
        cwd,
        stopSignal: controller.signal,
        onChildren: (running) => (children = running),
        ...(options.refreshMs === undefined ? {} : { refreshMs: options.refreshMs }),
        ...(options.windowMs === undefined ? {} : { windowMs: options.windowMs }),
      },
      io,
    );
  } finally {
    if (handleSignals) {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    process.off('exit', killChildren);
  }
}

/** `.weft/` beside the mesh file when that folder can be written, else one folder per mesh file in the temp folder. */
async function defaultStateDir(meshFile: string): Promise<string> {
  const beside = join(dirname(meshFile), '.weft');
  try {
    await mkdir(beside, { recursive: true, mode: 0o700 });
    await access(beside, constants.W_OK);
    return beside;
  } catch {
    const hash = createHash('sha256').update(meshFile).digest('hex').slice(0, 12);
    return join(tmpdir(), `weft-up-${basename(meshFile).replace(/[^a-zA-Z0-9.-]/g, '_')}-${hash}`);
  }
}
