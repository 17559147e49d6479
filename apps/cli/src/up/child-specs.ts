// What weft up runs for the control plane, each app and each proxy: program, arguments, folder, environment and log.
import { join } from 'node:path';
import type { UpInstance } from './mesh-plan.js';
import type { ControlPorts } from './port-assignment.js';
import type { ChildSpec } from './supervised-child.js';

export interface ControlPlaneLaunch {
  readonly nodePath: string;
  readonly controlMain: string;
  /** The file the control plane serves the mesh from (and watches). */
  readonly meshFile: string;
  readonly ports: ControlPorts;
  readonly stateDir: string;
  readonly trustDomain: string;
  readonly env: Readonly<Record<string, string>>;
  readonly logFile: string;
}

export function controlPlaneSpec(launch: ControlPlaneLaunch): ChildSpec {
  return {
    name: 'control plane',
    command: launch.nodePath,
    args: [
      launch.controlMain,
      '--orchestrator',
      'file',
      '--mesh-file',
      launch.meshFile,
      '--grpc-addr',
      `127.0.0.1:${launch.ports.grpc}`,
      '--admin-addr',
      `127.0.0.1:${launch.ports.admin}`,
      '--identity-dir',
      launch.stateDir,
      '--token-key',
      join(launch.stateDir, 'token.key'),
      '--trust-domain',
      launch.trustDomain,
    ],
    env: launch.env,
    logFile: launch.logFile,
  };
}

/**
 * The app as the file says: a list runs without a shell, a string in the shell. A list whose program is `node` runs
 * with the Node.js that runs weft, so apps get the version the repository needs whatever PATH says.
 */
export function appSpec(instance: UpInstance, env: Readonly<Record<string, string>>, nodePath: string, logFile: string): ChildSpec {
  const { command, shell, cwd } = instance.launch;
  const [program = '', ...args] = command;
  const base = { name: `${instance.key} app`, cwd, env, logFile };
  if (shell) return { ...base, command: program, args: [], shell: true };
  return { ...base, command: program === 'node' ? nodePath : program, args };
}

export function proxySpec(instance: UpInstance, env: Readonly<Record<string, string>>, launcher: string, logFile: string): ChildSpec {
  return { name: `${instance.key} proxy`, command: launcher, args: [], env, logFile };
}

/** `<state>/logs/<namespace>.<name>.<app|proxy>.log`, and `control-plane.log`. */
export function logFileOf(stateDir: string, instance: UpInstance | undefined, role: 'app' | 'proxy' | 'control-plane'): string {
  if (instance === undefined) return join(stateDir, 'logs', 'control-plane.log');
  return join(stateDir, 'logs', `${instance.namespace}.${instance.name}.${role}.log`);
}
