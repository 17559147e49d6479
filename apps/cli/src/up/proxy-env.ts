// The environment of an instance's sidecar proxy in local mode: its control plane, identity, listeners and upstreams.
import type { UpInstance } from './mesh-plan.js';
import type { InstancePorts } from './port-assignment.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface ProxyEnvInput {
  readonly instance: UpInstance;
  readonly ports: InstancePorts;
  /** ip:port of the control plane's gRPC server (Destination, Policy and Identity). */
  readonly controlAddr: string;
  /** The instance's workload token; needed when the instance is meshed. */
  readonly token?: string;
  /** The PEM file of the trust anchors. */
  readonly trustAnchorsFile: string;
  /** The node binary the launcher runs the proxy with (WEFT_NODE). */
  readonly nodePath: string;
  /** How long the proxy lets in-flight work finish when stopped. */
  readonly shutdownGracePeriod: string;
}

export class ProxyEnvError extends Error {
  override readonly name = 'ProxyEnvError';
}

/**
 * `base` without any WEFT_PROXY_* variable of the caller's (a stray WEFT_PROXY_ENDPOINTS would change what the proxy
 * does), plus the proxy's settings, all listeners on 127.0.0.1.
 * @throws ProxyEnvError when the instance has no proxy ports or a meshed instance has no token (programming errors).
 */
export function proxyEnv(base: Env, input: ProxyEnvInput): Record<string, string> {
  const { instance, ports } = input;
  if (ports.proxy === undefined) throw new ProxyEnvError(`${instance.key} has no proxy ports`);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined && !name.startsWith('WEFT_PROXY_')) env[name] = value;
  }
  const loopback = (port: number) => `127.0.0.1:${port}`;
  Object.assign(env, {
    WEFT_NODE: input.nodePath,
    WEFT_PROXY_CONTROL_ADDR: input.controlAddr,
    WEFT_PROXY_POLICY_WORKLOAD: `${instance.namespace}/${instance.name}`,
    WEFT_PROXY_INBOUND_ADDR: loopback(ports.proxy.inbound),
    WEFT_PROXY_INBOUND_APP_ADDR: loopback(ports.app),
    WEFT_PROXY_UPSTREAMS: instance.upstreams.map((u) => `${u.name}=${u.target}@${ports.upstreams[u.name] ?? 0}`).join(','),
    WEFT_PROXY_ADMIN_ADDR: loopback(ports.proxy.admin),
    WEFT_PROXY_TAP_ADDR: loopback(ports.proxy.tap),
    WEFT_PROXY_OUTBOUND_ADDR: loopback(ports.proxy.outbound),
    WEFT_PROXY_SHUTDOWN_GRACE_PERIOD: input.shutdownGracePeriod,
  });
  if (instance.identity === undefined) return env;
  if (input.token === undefined) throw new ProxyEnvError(`${instance.key} is meshed but has no token`);
  return Object.assign(env, {
    WEFT_PROXY_IDENTITY_NAMESPACE: instance.identity.namespace,
    WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT: instance.identity.serviceAccount,
    WEFT_PROXY_IDENTITY_TRUST_DOMAIN: instance.identity.trustDomain,
    WEFT_PROXY_IDENTITY_TOKEN: input.token,
    WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE: input.trustAnchorsFile,
    WEFT_PROXY_IDENTITY_ADDR: input.controlAddr,
  });
}
