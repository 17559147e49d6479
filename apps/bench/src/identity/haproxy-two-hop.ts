// The reference for the two-hop rows: two HAProxy processes, client side -> TLS 1.3 with client certificates -> server side -> target.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningContender } from '../contender.js';
import { LOOPBACK, waitForLoopbackPort } from '../loopback-port.js';
import type { ProcessSupervisor, SupervisedProcess } from '../process-supervisor.js';
import type { WorkloadCredentials } from './mesh-identity-material.js';

export interface HaproxyTwoHopPorts {
  /** Where the load connects: the client-side HAProxy. */
  readonly clientListen: number;
  /** The server-side HAProxy's TLS port. */
  readonly serverListen: number;
  /** The backend or the TCP sink. */
  readonly target: number;
}

export interface HaproxyTwoHopFiles {
  readonly trustAnchorsFile: string;
  /** Leaf, chain and key in one PEM file, as HAProxy's `crt` takes them. */
  readonly clientPemFile: string;
  readonly serverPemFile: string;
}

export interface HaproxyTwoHopConfigs {
  readonly client: string;
  readonly server: string;
}

/**
 * Both sides as the mesh's proxies are set up: TLS 1.3 only, each side verifying the other's chain against the mesh's trust
 * anchors, the client checking the server's name (`verifyhost`, the identity's DNS SAN) and sending it as SNI. `http` keeps
 * client and upstream connections alive and reuses them; `tcp` relays each connection as it is.
 */
export function haproxyTwoHopConfigs(mode: 'http' | 'tcp', ports: HaproxyTwoHopPorts, files: HaproxyTwoHopFiles, serverName: string): HaproxyTwoHopConfigs {
  const defaults = `global
  nbthread 1
  maxconn 4096

defaults
  mode ${mode}
  timeout connect 5s
  timeout client 60s
  timeout server 60s
${mode === 'http' ? '  option http-keep-alive\n  http-reuse always\n' : ''}`;
  const tls = `ssl-min-ver TLSv1.3 ca-file ${files.trustAnchorsFile} verify required`;
  return {
    client: `${defaults}
frontend two_hop_in
  bind ${LOOPBACK}:${ports.clientListen}
  default_backend two_hop_peer

backend two_hop_peer
  server peer ${LOOPBACK}:${ports.serverListen} ssl ${tls} crt ${files.clientPemFile} sni str(${serverName}) verifyhost ${serverName}
`,
    server: `${defaults}
frontend two_hop_tls_in
  bind ${LOOPBACK}:${ports.serverListen} ssl ${tls} crt ${files.serverPemFile}
  default_backend two_hop_target

backend two_hop_target
  server target ${LOOPBACK}:${ports.target}
`,
  };
}

export interface HaproxyTwoHopLaunch {
  readonly supervisor: ProcessSupervisor;
  readonly cpu: number | undefined;
  readonly workDir: string;
  readonly mode: 'http' | 'tcp';
  readonly ports: HaproxyTwoHopPorts;
  readonly trustAnchorsFile: string;
  readonly client: WorkloadCredentials;
  readonly server: WorkloadCredentials;
  readonly serverName: string;
  recordConfig(title: string, text: string): void;
}

export interface RunningHaproxyTwoHop {
  /** The client side, where the load goes (its pid is the one the scenario samples). */
  readonly client: RunningContender;
  readonly serverPid: number | undefined;
  stop(): Promise<void>;
}

/** Writes the certificates and configs into `workDir` and starts the server side, then the client side, both on `cpu`. */
export async function startHaproxyTwoHop(launch: HaproxyTwoHopLaunch): Promise<RunningHaproxyTwoHop> {
  const pem = (name: string, credentials: WorkloadCredentials): string => {
    const file = join(launch.workDir, name);
    writeFileSync(file, `${credentials.certificateChainPem}${credentials.privateKeyPem}`, { mode: 0o600 });
    return file;
  };
  const files = { trustAnchorsFile: launch.trustAnchorsFile, clientPemFile: pem('haproxy-client.pem', launch.client), serverPemFile: pem('haproxy-server.pem', launch.server) };
  const configs = haproxyTwoHopConfigs(launch.mode, launch.ports, files, launch.serverName);
  const started: SupervisedProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((child) => child.stop()));
  };
  try {
    for (const [side, text, port] of [['server', configs.server, launch.ports.serverListen], ['client', configs.client, launch.ports.clientListen]] as const) {
      const file = join(launch.workDir, `haproxy-${side}.cfg`);
      writeFileSync(file, text);
      launch.recordConfig(`HAProxy two hops (${side} side, ${launch.mode} mode)`, text);
      const child = launch.supervisor.start({ label: `haproxy (two hops, ${side} side)`, command: 'haproxy', args: ['-db', '-f', file], cpu: launch.cpu });
      started.push(child);
      await waitForLoopbackPort(port, child);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const [server, client] = started as [SupervisedProcess, SupervisedProcess];
  return { client: { port: launch.ports.clientListen, pid: client.pid, stop: () => Promise.resolve() }, serverPid: server.pid, stop };
}
