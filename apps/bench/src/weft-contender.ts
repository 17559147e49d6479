// The built-in Weft contender: the built proxy, started by its launcher (apps/proxy/bin/weft-proxy) in local mode, one upstream listener in front of the backend.
import { join } from 'node:path';
import type { ProxyMode } from './contender-command.js';
import { startListening } from './builtin-contenders.js';
import type { Contender, ContenderStartContext } from './contender.js';
import { freeLoopbackPort, LOOPBACK } from './loopback-port.js';
import type { WeftProxyBuild } from './weft-proxy-build.js';

/** The service the benchmark upstream stands for; its endpoint is the backend (or the TCP sink). */
export const WEFT_BENCH_SERVICE = 'bench.default.svc.cluster.local';
/** Port of the service in HTTP modes; in tcp mode the service port is the sink's own port, listed as opaque. */
const HTTP_SERVICE_PORT = 80;
/** How users start the proxy: its main file (WEFT_PROXY_MAIN, default dist/main.js) under the V8 settings it is tuned for. */
export const WEFT_PROXY_LAUNCHER = 'apps/proxy/bin/weft-proxy';

export interface WeftPorts {
  /** Where the upstream listener takes clients (the contender's port). */
  readonly listen: number;
  /** The backend's port for this mode (HTTP/1.1, h2c) or the TCP sink. */
  readonly upstream: number;
  /** Free loopback ports for the listeners the benchmark does not use. */
  readonly outbound: number;
  readonly inbound: number;
  readonly tap: number;
  readonly admin: number;
}

/**
 * The proxy's environment for one mode, as the proxy reads it (docs/configuration.md). In tcp mode the service's
 * port is in WEFT_PROXY_OPAQUE_PORTS, so connections skip protocol detection, as for a real opaque service.
 */
export function weftProxyEnv(mode: ProxyMode, ports: WeftPorts): Record<string, string> {
  const servicePort = mode === 'tcp' ? ports.upstream : HTTP_SERVICE_PORT;
  const env: Record<string, string> = {
    WEFT_PROXY_UPSTREAMS: `bench=${WEFT_BENCH_SERVICE}:${servicePort}@${ports.listen}`,
    WEFT_PROXY_ENDPOINTS: `bench.default:${servicePort}=${LOOPBACK}:${ports.upstream}`,
    WEFT_PROXY_OUTBOUND_ADDR: `${LOOPBACK}:${ports.outbound}`,
    WEFT_PROXY_INBOUND_ADDR: `${LOOPBACK}:${ports.inbound}`,
    WEFT_PROXY_TAP_ADDR: `${LOOPBACK}:${ports.tap}`,
    WEFT_PROXY_ADMIN_ADDR: `${LOOPBACK}:${ports.admin}`,
    WEFT_PROXY_SHUTDOWN_GRACE_PERIOD: '1s',
  };
  if (mode === 'tcp') env['WEFT_PROXY_OPAQUE_PORTS'] = String(servicePort);
  return env;
}

/** `env A=1 B=2`: the variables as arguments of env(1), so the logged command line can be pasted as it is. */
export function envArguments(env: Readonly<Record<string, string>>): string[] {
  return Object.entries(env).map(([name, value]) => `${name}=${value}`);
}

export interface WeftContenderOptions {
  /** The repository root, which holds the launcher. */
  readonly repoRoot: string;
  /** The build the launcher runs (bundle or dist). */
  readonly build: WeftProxyBuild;
  /** Node/V8 flags added to the launcher's own (WEFT_PROXY_NODE_FLAGS), e.g. ["--cpu-prof"]. */
  readonly nodeFlags: readonly string[];
  /** The Node that runs the proxy (the harness's own: Node 24 under `npm run bench`). */
  readonly nodePath: string;
}

export function weftContender(options: WeftContenderOptions): Contender {
  const launcher = join(options.repoRoot, WEFT_PROXY_LAUNCHER);
  const flags = options.nodeFlags.length === 0 ? 'no extra Node flags' : `extra Node flags \`${options.nodeFlags.join(' ')}\``;
  return {
    name: 'weft',
    label: 'Weft',
    modes: ['http1', 'h2c', 'tcp'],
    setup:
      `${options.build.description}, started by \`${WEFT_PROXY_LAUNCHER}\` (with its \`--max-semi-space-size=8\`; ${flags}) in local mode: one upstream listener for \`${WEFT_BENCH_SERVICE}\` ` +
      'with a static endpoint on the backend (HTTP/1.1 via its own keep-alive pools on llhttp; h2c via pooled h2 sessions; tcp: the service port is opaque, ' +
      'so detection is skipped), its other listeners on free loopback ports, one process',
    start: async (context) => {
      const env = {
        ...weftProxyEnv(context.mode, await weftPorts(context)),
        WEFT_PROXY_MAIN: options.build.main(),
        WEFT_NODE: options.nodePath,
        ...(options.nodeFlags.length > 0 ? { WEFT_PROXY_NODE_FLAGS: options.nodeFlags.join(' ') } : {}),
      };
      context.recordConfig(`Weft (${context.mode}): environment`, envArguments(env).join('\n'));
      // env(1) carries the variables, so the logged command line is complete; env and the launcher exec Node, keeping the pid.
      return startListening(context, { label: `weft (${context.mode})`, command: 'env', args: [...envArguments(env), launcher] });
    },
  };
}

/** Four free loopback ports, distinct from each other and from the ports the run already uses. */
async function weftPorts(context: ContenderStartContext): Promise<WeftPorts> {
  const taken = new Set([context.listenPort, context.upstreamPort, context.backendHttp1Port]);
  const free: number[] = [];
  while (free.length < 4) {
    const port = await freeLoopbackPort();
    if (!taken.has(port)) free.push(port);
    taken.add(port);
  }
  const [outbound, inbound, tap, admin] = free as [number, number, number, number];
  return { listen: context.listenPort, upstream: context.upstreamPort, outbound, inbound, tap, admin };
}
