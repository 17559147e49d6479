// A Weft proxy with a real identity, started through its launcher: certified by the control plane, ready only with its certificate.
import { join } from 'node:path';
import { LOOPBACK } from '../loopback-port.js';
import type { ProcessSupervisor } from '../process-supervisor.js';
import { envArguments, WEFT_BENCH_SERVICE, WEFT_PROXY_LAUNCHER } from '../weft-contender.js';
import type { WeftProxyBuild } from '../weft-proxy-build.js';
import { waitForReady } from './wait-for-ready.js';

/** The port of the benchmark service in the mesh file; the client proxy's upstream listener targets it. */
export const BENCH_SERVICE_PORT = 80;

export interface IdentityProxyPorts {
  readonly outbound: number;
  readonly inbound: number;
  readonly tap: number;
  readonly admin: number;
}

export interface IdentityProxyLaunch {
  /** In namespace `default`. */
  readonly serviceAccount: string;
  /** A file holding the proxy's signed token (the secret never appears on a command line). */
  readonly tokenFile: string;
  readonly trustAnchorsFile: string;
  /** ip:port of the control plane's gRPC server. */
  readonly controlAddr: string;
  readonly ports: IdentityProxyPorts;
  /** Where the inbound side delivers sessions: the app's port on 127.0.0.1. */
  readonly inboundAppPort: number;
  /** The default inbound policy, e.g. `all-authenticated` (mTLS required). */
  readonly defaultInboundPolicy: string;
  /**
   * With it, the proxy takes endpoints from the control plane (WEFT_PROXY_CONTROL_ADDR) and listens here for the
   * benchmark service; without it, it runs standalone and only its inbound side is used.
   */
  readonly upstreamListenPort?: number;
}

/** The proxy's environment, as it reads it (docs/configuration.md). */
export function identityProxyEnv(launch: IdentityProxyLaunch): Record<string, string> {
  const { ports } = launch;
  return {
    WEFT_PROXY_IDENTITY_NAMESPACE: 'default',
    WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT: launch.serviceAccount,
    WEFT_PROXY_IDENTITY_TOKEN_FILE: launch.tokenFile,
    WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE: launch.trustAnchorsFile,
    WEFT_PROXY_IDENTITY_ADDR: launch.controlAddr,
    ...(launch.upstreamListenPort === undefined
      ? {}
      : {
          WEFT_PROXY_CONTROL_ADDR: launch.controlAddr,
          WEFT_PROXY_UPSTREAMS: `bench=${WEFT_BENCH_SERVICE}:${BENCH_SERVICE_PORT}@${launch.upstreamListenPort}`,
        }),
    WEFT_PROXY_DEFAULT_INBOUND_POLICY: launch.defaultInboundPolicy,
    WEFT_PROXY_OUTBOUND_ADDR: `${LOOPBACK}:${ports.outbound}`,
    WEFT_PROXY_INBOUND_ADDR: `${LOOPBACK}:${ports.inbound}`,
    WEFT_PROXY_INBOUND_APP_ADDR: `${LOOPBACK}:${launch.inboundAppPort}`,
    WEFT_PROXY_TAP_ADDR: `${LOOPBACK}:${ports.tap}`,
    WEFT_PROXY_ADMIN_ADDR: `${LOOPBACK}:${ports.admin}`,
    WEFT_PROXY_SHUTDOWN_GRACE_PERIOD: '1s',
  };
}

export interface IdentityProxyOptions {
  readonly repoRoot: string;
  /** The build the launcher runs (bundle or dist). */
  readonly build: WeftProxyBuild;
  readonly supervisor: ProcessSupervisor;
  readonly cpu: number | undefined;
  /** The Node that runs the proxy (the harness's own). */
  readonly nodePath: string;
  /** Node/V8 flags added to the launcher's own (--weft-node-flags), e.g. ["--cpu-prof"]. */
  readonly nodeFlags: readonly string[];
  readonly label: string;
  /** Keeps the environment for the report's "Generated configs". */
  recordConfig(title: string, text: string): void;
}

export interface RunningIdentityProxy {
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** Starts the proxy through apps/proxy/bin/weft-proxy and waits until /ready is 200, i.e. it holds a certificate. */
export async function startIdentityProxy(launch: IdentityProxyLaunch, options: IdentityProxyOptions): Promise<RunningIdentityProxy> {
  const env = {
    ...identityProxyEnv(launch),
    WEFT_PROXY_MAIN: options.build.main(),
    WEFT_NODE: options.nodePath,
    ...(options.nodeFlags.length > 0 ? { WEFT_PROXY_NODE_FLAGS: options.nodeFlags.join(' ') } : {}),
  };
  options.recordConfig(`${options.label}: environment`, envArguments(env).join('\n'));
  // env(1) carries the variables, so the logged command line is complete; env and the launcher exec Node, keeping the pid.
  const child = options.supervisor.start({
    label: options.label,
    command: 'env',
    args: [...envArguments(env), join(options.repoRoot, WEFT_PROXY_LAUNCHER)],
    cpu: options.cpu,
  });
  try {
    await waitForReady(launch.ports.admin, child);
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { pid: child.pid, stop: () => child.stop() };
}
