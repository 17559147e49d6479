// The built control plane (apps/control/dist/main.js) as a child of the run: X.509 identity from a folder, optionally a mesh file.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LOOPBACK } from '../loopback-port.js';
import type { ProcessSupervisor } from '../process-supervisor.js';
import { waitForReady } from './wait-for-ready.js';

export const WEFT_CONTROL_ENTRY = 'apps/control/dist/main.js';
export const WEFT_CONTROL_BUILD_COMMAND = 'npx nx run @weft/control:build';

export interface ControlPlaneLaunch {
  readonly grpcPort: number;
  readonly adminPort: number;
  /** The folder with ca.crt, issuer.crt, issuer.key and token.key. */
  readonly identityDir: string;
  /** A mesh.yaml to serve with the file orchestrator; absent, the memory orchestrator (identity only). */
  readonly meshFile?: string;
}

/** weft-control's arguments: both servers on loopback, X.509 leaves and signed tokens from the identity folder. */
export function controlPlaneArgs(launch: ControlPlaneLaunch): string[] {
  return [
    ...['--grpc-addr', `${LOOPBACK}:${launch.grpcPort}`, '--admin-addr', `${LOOPBACK}:${launch.adminPort}`],
    ...['--identity-dir', launch.identityDir],
    ...(launch.meshFile === undefined ? [] : ['--orchestrator', 'file', '--mesh-file', launch.meshFile]),
  ];
}

export interface ControlPlaneProcessOptions extends ControlPlaneLaunch {
  readonly repoRoot: string;
  readonly supervisor: ProcessSupervisor;
  readonly cpu: number | undefined;
}

export interface RunningControlPlaneProcess {
  /** ip:port of its gRPC server (Destination, Policy, Identity). */
  readonly grpcAddr: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** Starts weft-control and waits until /ready says it serves with an issuer; stops it again if it never gets there. */
export async function startControlPlaneProcess(options: ControlPlaneProcessOptions): Promise<RunningControlPlaneProcess> {
  const entry = join(options.repoRoot, WEFT_CONTROL_ENTRY);
  if (!existsSync(entry)) throw new Error(`${WEFT_CONTROL_ENTRY} is missing; build it with ${WEFT_CONTROL_BUILD_COMMAND}`);
  const child = options.supervisor.start({
    label: 'weft-control',
    command: process.execPath,
    args: [entry, ...controlPlaneArgs(options)],
    cpu: options.cpu,
  });
  try {
    await waitForReady(options.adminPort, child);
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { grpcAddr: `${LOOPBACK}:${options.grpcPort}`, pid: child.pid, stop: () => child.stop() };
}
