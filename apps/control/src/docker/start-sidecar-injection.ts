// Starts sidecar injection for weft-control --orchestrator docker: the Docker engine, the identity folder's credentials, the injector.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ControlArgs } from '../control-args.js';
import type { ControlLog } from '../control-log.js';
import type { ControlMetrics } from '../control-metrics.js';
import { DockerodeSidecarEngine } from './dockerode-sidecar-engine.js';
import { loadSidecarCredentials, type SidecarCredentials } from './sidecar-credentials.js';
import type { SidecarEngine } from './sidecar-engine.js';
import { SidecarInjector, type SidecarInjectorOptions } from './sidecar-injector.js';
import { sidecarMetrics } from './sidecar-metrics.js';

export interface RunningSidecarInjection {
  /** Stops watching the engine; the sidecars keep running and are adopted by the next control plane. */
  close(): Promise<void>;
}

export interface SidecarInjectionOptions {
  /** The engine; the one at --docker-socket when absent. */
  readonly engine?: SidecarEngine;
  /** The credentials; those of --identity-dir when absent. */
  readonly credentials?: SidecarCredentials;
  /** Timings of the injector (tests). */
  readonly timings?: Pick<SidecarInjectorOptions, 'resyncIntervalMs' | 'retryBaseMs' | 'maxRetryMs' | 'initTimeoutMs' | 'tokenRefreshMs'>;
}

/**
 * Starts the injector: follows the engine's events and brings every labelled container in line once before resolving.
 * @throws SidecarCredentialsError without --identity-dir; the engine's error when it cannot be reached.
 */
export async function startSidecarInjection(
  args: ControlArgs,
  plane: { readonly trustDomain: string; readonly metrics: ControlMetrics },
  log: ControlLog,
  options: SidecarInjectionOptions = {},
): Promise<RunningSidecarInjection> {
  const credentials = options.credentials ?? (await loadSidecarCredentials(args));
  const engine = options.engine ?? new DockerodeSidecarEngine(args.dockerSocket);
  const injector = new SidecarInjector({
    engine,
    credentials,
    settings: async () => ({ image: args.sidecarImage, controlAddr: await resolveHostPort(args.sidecarControlAddr) }),
    trustDomain: plane.trustDomain,
    log,
    metrics: sidecarMetrics(plane.metrics.registry),
    ...options.timings,
  });
  await injector.start();
  log('sidecar-injection-started', { engine: engine.location, image: args.sidecarImage, controlAddr: args.sidecarControlAddr });
  return { close: () => injector.close() };
}

/**
 * `host:port` with the host resolved to an IPv4 address (the proxy takes an ip:port); an IP is kept as it is. A
 * container name resolves through the engine's DNS when the control plane runs on the sidecars' network.
 */
export async function resolveHostPort(hostPort: string): Promise<string> {
  const colon = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = hostPort.slice(colon + 1);
  if (isIP(host) === 4) return `${host}:${port}`;
  if (isIP(host) === 6) return `[${host}]:${port}`;
  try {
    const { address } = await lookup(host, { family: 4 });
    return `${address}:${port}`;
  } catch (error) {
    throw new Error(
      `--sidecar-control-addr ${hostPort}: ${host} does not resolve here (${error instanceof Error ? error.message : String(error)}); ` +
        'run weft-control on the sidecars\' network under that name, or give its IP',
      { cause: error },
    );
  }
}
