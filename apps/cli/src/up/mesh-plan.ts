// The plan of `weft up`: which instances of a loaded mesh file it launches, with their apps, proxies and upstreams.
import { type MeshConfig, type MeshInstance, type MeshLaunch, meshAuthorityKey, type MeshPortProtocol } from '@weft/adapter-file';
import type { Authority, WorkloadIdentity } from '@weft/core';

/** An upstream of a launched instance: the app reaches `target` at 127.0.0.1:<local port>, told by `env`. */
export interface UpUpstream {
  /** A lowercase DNS label, unique in the instance: the name in WEFT_PROXY_UPSTREAMS. */
  readonly name: string;
  /** The authority as text, e.g. "api.demo.svc.cluster.local:8080". */
  readonly target: string;
  readonly env: string;
  /** Fixed in the file; else weft up picks one. */
  readonly localPort?: number;
  /** What the service port speaks, when it is a service of the mesh. */
  readonly protocol?: MeshPortProtocol;
}

export interface UpInstance {
  /** `<namespace>/<name>`. */
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly service: string;
  readonly serviceAccount: string;
  /** Set when the instance is meshed: its proxy gets a certificate and speaks mTLS. */
  readonly identity?: WorkloadIdentity;
  readonly launch: MeshLaunch;
  /** Where the app listens on 127.0.0.1 (the service's first port). */
  readonly appPort: number;
  /** Every port the app listens on: appPort, then those of the service's further ports. */
  readonly appPorts: readonly number[];
  /** Whether a proxy runs beside the app: always for meshed instances, and for unmeshed ones with upstreams. */
  readonly proxied: boolean;
  /** Fixed in the file; else weft up picks one. */
  readonly proxyInboundPort?: number;
  readonly upstreams: readonly UpUpstream[];
}

export interface UpService {
  /** `<namespace>/<name>`. */
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  /** The keys of its launched instances. */
  readonly instances: readonly string[];
}

export interface UpPlan {
  readonly file: string;
  readonly trustDomain: string;
  readonly instances: readonly UpInstance[];
  /** The services with at least one launched instance, in file order. */
  readonly services: readonly UpService[];
}

/** The launched instances (those with a command) of `config`, and the services they serve. */
export function planMesh(config: MeshConfig): UpPlan {
  const instances = config.instances.flatMap((instance) => (instance.launch ? [planInstance(config, instance, instance.launch)] : []));
  const services: UpService[] = [];
  for (const service of config.services) {
    const key = `${service.namespace}/${service.name}`;
    const members = instances.filter((instance) => instance.namespace === service.namespace && instance.service === service.name);
    if (members.length > 0) services.push({ key, name: service.name, namespace: service.namespace, instances: members.map((m) => m.key) });
  }
  return { file: config.file, trustDomain: config.trustDomain, instances, services };
}

function planInstance(config: MeshConfig, instance: MeshInstance, launch: MeshLaunch): UpInstance {
  const names = new Set<string>();
  const upstreams = instance.upstreams.map((upstream) => {
    const name = uniqueName(upstreamBaseName(upstream.authority), upstream.authority.port, names);
    names.add(name);
    const key = meshAuthorityKey(upstream.authority);
    const protocol = key === undefined ? undefined : config.servicePorts.get(key)?.port.protocol;
    return {
      name,
      target: upstream.target,
      env: upstream.env,
      ...(upstream.localPort === undefined ? {} : { localPort: upstream.localPort }),
      ...(protocol === undefined ? {} : { protocol }),
    };
  });
  return {
    key: `${instance.namespace}/${instance.name}`,
    name: instance.name,
    namespace: instance.namespace,
    service: instance.service,
    serviceAccount: instance.serviceAccount,
    ...(instance.meshed && instance.identity ? { identity: instance.identity } : {}),
    launch,
    appPort: instance.ports[0]?.port ?? 0,
    appPorts: instance.ports.map((port) => port.port),
    proxied: instance.meshed || upstreams.length > 0,
    ...(instance.proxyInboundPort === undefined ? {} : { proxyInboundPort: instance.proxyInboundPort }),
    upstreams,
  };
}

const LABEL_LIMIT = 63;

/** The service's name, or the first label of a host name, or the IP, as a DNS label. */
function upstreamBaseName(authority: Authority): string {
  const raw = authority.kind === 'service' ? authority.name : authority.kind === 'dns' ? (authority.host.split('.')[0] ?? '') : `ip-${authority.ip}`;
  return dnsLabel(raw) || 'upstream';
}

function dnsLabel(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, LABEL_LIMIT)
    .replace(/^-+|-+$/g, '');
}

/** `base`, else `base-<port>`, else `base-<port>-2`, ...: two upstreams of one instance may name the same service. */
function uniqueName(base: string, port: number, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  const withPort = dnsLabel(`${base.slice(0, LABEL_LIMIT - 6)}-${port}`);
  if (!taken.has(withPort)) return withPort;
  for (let n = 2; ; n++) {
    const candidate = dnsLabel(`${withPort.slice(0, LABEL_LIMIT - 4)}-${n}`);
    if (!taken.has(candidate)) return candidate;
  }
}

/**
 * Where a user can send a first request: the upstream ports of the instances nobody calls (the mesh's callers, such as
 * a traffic generator), or, when every instance is called by another, all upstream ports.
 */
export function entryUpstreams(plan: UpPlan): { readonly instance: UpInstance; readonly upstream: UpUpstream }[] {
  const called = new Set(plan.instances.flatMap((instance) => instance.upstreams.map((upstream) => upstream.target)));
  const servesCalled = (instance: UpInstance) =>
    [...called].some((target) => target.startsWith(`${instance.service}.${instance.namespace}.svc.`));
  const roots = plan.instances.filter((instance) => !servesCalled(instance));
  const from = roots.some((instance) => instance.upstreams.length > 0) ? roots : plan.instances;
  return from.flatMap((instance) => instance.upstreams.map((upstream) => ({ instance, upstream })));
}
