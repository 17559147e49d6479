// Builds the namespaces, services, instances and endpoints of a mesh file, checking names, ports and references.
import { dirname, resolve } from 'node:path';
import {
  type Authority,
  DEFAULT_ENDPOINT_WEIGHT,
  type DefaultPolicy,
  dnsLabelProblem,
  type Endpoint,
  type EndpointProtocolHint,
  formatAuthority,
  formatSocketAddress,
  identityName,
  makeEndpoint,
  makeWorkloadIdentity,
  parseAuthority,
  type WorkloadIdentity,
} from '@weft/core';
import { atPath, type BuildContext } from './build-context.js';
import type {
  MeshInstance,
  MeshInstancePort,
  MeshLaunch,
  MeshNamespace,
  MeshPortProtocol,
  MeshService,
  MeshServicePort,
  MeshServicePortRef,
  MeshUpstream,
} from './mesh-config.js';
import type { MeshFile, MeshFileInstance, MeshFileService } from './mesh-file.js';
import { closest } from './schema-problems.js';
import type { FieldPath } from './yaml-locator.js';

export interface BuiltServices {
  readonly services: readonly MeshService[];
  readonly servicePorts: ReadonlyMap<string, MeshServicePortRef>;
  readonly instances: readonly MeshInstance[];
  readonly endpoints: ReadonlyMap<string, readonly Endpoint[]>;
  readonly workloads: ReadonlyMap<string, MeshInstance>;
}

/** The declared namespaces plus `default`, each with its default inbound policy. */
export function buildNamespaces(context: BuildContext, file: MeshFile, meshDefault: DefaultPolicy): Map<string, MeshNamespace> {
  const namespaces = new Map<string, MeshNamespace>([['default', { name: 'default', defaultInboundPolicy: meshDefault }]]);
  const declaredAt = new Map<string, FieldPath>();
  for (const [index, entry] of (file.namespaces ?? []).entries()) {
    const path: FieldPath = ['namespaces', index];
    const namespace = typeof entry === 'string' ? { name: entry } : entry;
    const first = declaredAt.get(namespace.name);
    if (first) {
      context.fail(typeof entry === 'string' ? path : [...path, 'name'], `namespace "${namespace.name}" is already listed ${atPath(first)}`);
      continue;
    }
    declaredAt.set(namespace.name, path);
    namespaces.set(namespace.name, { name: namespace.name, defaultInboundPolicy: namespace.defaultInboundPolicy ?? meshDefault });
  }
  return namespaces;
}

/** Reports a namespace that is not declared; true when it is. */
export function checkNamespace(
  context: BuildContext,
  namespaces: ReadonlyMap<string, MeshNamespace>,
  path: FieldPath,
  namespace: string,
): boolean {
  if (namespaces.has(namespace)) return true;
  const near = closest(namespace, [...namespaces.keys()]);
  const hint = near ? ` (did you mean "${near}"?)` : '';
  context.fail(path, `namespace "${namespace}" is not declared${hint}; add it to namespaces at the top of the file`);
  return false;
}

/** Services, their instances and the endpoints of every service port. */
export function buildServices(context: BuildContext, file: MeshFile, namespaces: ReadonlyMap<string, MeshNamespace>): BuiltServices {
  const services: MeshService[] = [];
  const servicePorts = new Map<string, MeshServicePortRef>();
  const declared: { readonly path: FieldPath; readonly entry: MeshFileService; readonly service: MeshService }[] = [];
  const seen = new Map<string, FieldPath>();
  for (const [index, entry] of (file.services ?? []).entries()) {
    const path: FieldPath = ['services', index];
    const service = buildService(context, path, entry);
    if (entry.namespace !== undefined) checkNamespace(context, namespaces, [...path, 'namespace'], service.namespace);
    const first = seen.get(service.fqdn);
    if (first) {
      context.fail([...path, 'name'], `service "${service.name}" is already declared in namespace "${service.namespace}" ${atPath(first)}`);
      continue;
    }
    seen.set(service.fqdn, path);
    services.push(service);
    declared.push({ path, entry, service });
    for (const port of service.ports) servicePorts.set(`${service.fqdn}:${port.port}`, { service, port });
  }
  const instances = new InstanceBuilder(context, services, servicePorts);
  for (const { path, entry, service } of declared) {
    for (const [index, instance] of (entry.instances ?? []).entries()) {
      instances.add([...path, 'instances', index], service, entry, instance, index);
    }
  }
  return { services, servicePorts, ...instances.result() };
}

function buildService(context: BuildContext, path: FieldPath, entry: MeshFileService): MeshService {
  const namespace = entry.namespace ?? 'default';
  const ports: MeshServicePort[] = [];
  for (const [index, raw] of entry.ports.entries()) {
    const port = typeof raw === 'number' ? { port: raw, protocol: 'detect' as const } : { ...raw, protocol: raw.protocol ?? 'detect' };
    const portPath: FieldPath = [...path, 'ports', index];
    const sameNumber = ports.findIndex((other) => other.port === port.port);
    const sameName = port.name === undefined ? -1 : ports.findIndex((other) => other.name === port.name);
    if (sameNumber >= 0) {
      context.fail(typeof raw === 'number' ? portPath : [...portPath, 'port'], `port ${port.port} is already listed at ports[${sameNumber}]`);
    } else if (sameName >= 0) {
      context.fail([...portPath, 'name'], `port name "${port.name}" is already used at ports[${sameName}]`);
    } else {
      ports.push(port);
    }
  }
  return {
    name: entry.name,
    namespace,
    fqdn: `${entry.name}.${namespace}.svc.${context.clusterDomain}`,
    serviceAccount: entry.serviceAccount ?? entry.name,
    ports,
    labels: { ...entry.labels },
  };
}

const HINTS: Readonly<Record<MeshPortProtocol, EndpointProtocolHint | undefined>> = {
  detect: undefined,
  http1: 'http1',
  websocket: 'http1',
  http2: 'h2',
  grpc: 'h2',
  opaque: 'opaque',
};

const LOOPBACK_IP = '127.0.0.1';

/** Builds instances one by one, keeping the cross-instance checks: unique names, endpoints and loopback ports. */
class InstanceBuilder {
  private readonly instances: MeshInstance[] = [];
  private readonly workloads = new Map<string, MeshInstance>();
  private readonly workloadPaths = new Map<string, FieldPath>();
  private readonly endpoints = new Map<string, Endpoint[]>();
  private readonly endpointPaths = new Map<string, FieldPath>();
  // Ports that weft up binds on the loopback interface: launched apps, their proxies, upstream listeners.
  private readonly loopbackPorts = new Map<number, FieldPath>();

  constructor(
    private readonly context: BuildContext,
    private readonly services: readonly MeshService[],
    private readonly servicePorts: ReadonlyMap<string, MeshServicePortRef>,
  ) {
    for (const key of servicePorts.keys()) this.endpoints.set(key, []);
  }

  result(): Pick<BuiltServices, 'instances' | 'endpoints' | 'workloads'> {
    return { instances: this.instances, endpoints: this.endpoints, workloads: this.workloads };
  }

  add(path: FieldPath, service: MeshService, serviceEntry: MeshFileService, entry: MeshFileInstance, index: number): void {
    const name = this.nameOf(path, service, entry, index);
    const where = this.placeOf(path, entry);
    if (name === undefined || where === undefined) return;
    const ports = this.portsOf(path, service, entry, where.port);
    const serviceAccount = entry.serviceAccount ?? service.serviceAccount;
    const meshed = entry.meshed ?? true;
    if (!meshed && entry.proxy) {
      this.context.fail([...path, 'proxy'], 'an instance that is not meshed has no proxy; remove proxy, or leave out meshed: false');
    }
    const identity = meshed ? this.identityOf(path, serviceEntry, entry, service, serviceAccount) : undefined;
    if (meshed && identity === undefined) return;
    const instance: MeshInstance = {
      name,
      namespace: service.namespace,
      service: service.name,
      ip: where.ip,
      ports,
      serviceAccount,
      meshed,
      ...(identity ? { identity, identityName: identityName(identity) } : {}),
      ...(meshed && entry.proxy ? { proxyInboundPort: entry.proxy.inboundPort } : {}),
      ...(entry.command === undefined ? {} : { launch: this.launchOf(entry) }),
      upstreams: this.upstreamsOf(path, service, entry),
      weight: entry.weight ?? DEFAULT_ENDPOINT_WEIGHT,
      workloadLabels: { ...service.labels, ...entry.labels, 'weft.io/service': service.name, 'weft.io/instance': name },
      metricLabels: entry.metricLabels ?? {
        namespace: service.namespace,
        service: service.name,
        pod: name,
        ...(meshed ? { serviceaccount: serviceAccount } : {}),
      },
    };
    this.claimLoopbackPorts(path, entry, instance);
    this.addEndpoints(path, entry, service, instance);
    this.instances.push(instance);
    this.workloads.set(`${instance.namespace}/${name}`, instance);
  }

  private nameOf(path: FieldPath, service: MeshService, entry: MeshFileInstance, index: number): string | undefined {
    const name = entry.name ?? `${service.name}-${index}`;
    if (entry.name === undefined && dnsLabelProblem(name) !== undefined) {
      this.context.fail(path, `the default name "${name}" is too long for a name; give the instance a shorter name`);
      return undefined;
    }
    const key = `${service.namespace}/${name}`;
    const first = this.workloadPaths.get(key);
    if (first) {
      const reason = `instance name "${name}" is already used in namespace "${service.namespace}" ${atPath(first)}`;
      this.context.fail(entry.name === undefined ? path : [...path, 'name'], reason);
      return undefined;
    }
    this.workloadPaths.set(key, path);
    return name;
  }

  /** The instance's IP and the port of the service's first port: from its address, or 127.0.0.1 and `port`. */
  private placeOf(path: FieldPath, entry: MeshFileInstance): { ip: string; port: number } | undefined {
    if (entry.address === undefined) return { ip: LOOPBACK_IP, port: entry.port as number };
    for (const field of ['port', 'cwd', 'env'] as const) {
      if (entry[field] !== undefined) {
        const instead = field === 'port' ? 'the port of an instance with an address is part of its address' : 'remove it, or use command instead of address';
        this.context.failKey([...path, field], `${field} is only used with command; ${instead}`);
      }
    }
    const endpoint = makeEndpoint({ address: entry.address });
    if (!endpoint.ok) {
      this.context.failWith([...path, 'address'], endpoint.error);
      return undefined;
    }
    return { ip: endpoint.value.address.ip, port: endpoint.value.address.port };
  }

  private portsOf(path: FieldPath, service: MeshService, entry: MeshFileInstance, firstPort: number): MeshInstancePort[] {
    const [first, ...others] = service.ports;
    for (const name of Object.keys(entry.ports ?? {})) {
      if (others.some((port) => port.name === name)) continue;
      const reason =
        first?.name === name
          ? `"${name}" is the service's first port, which the instance serves at its ${entry.address === undefined ? 'port' : 'address'}`
          : `service "${service.name}" has no further port named "${name}"; its named ports are ${namedPorts(others)}`;
      this.context.failKey([...path, 'ports', name], reason);
    }
    const mapped = (port: MeshServicePort, instancePort: number): MeshInstancePort => ({
      servicePort: port.port,
      ...(port.name === undefined ? {} : { name: port.name }),
      port: instancePort,
    });
    return [
      ...(first ? [mapped(first, firstPort)] : []),
      ...others.map((port) => mapped(port, (port.name === undefined ? undefined : entry.ports?.[port.name]) ?? port.port)),
    ];
  }

  private identityOf(
    path: FieldPath,
    serviceEntry: MeshFileService,
    entry: MeshFileInstance,
    service: MeshService,
    serviceAccount: string,
  ): WorkloadIdentity | undefined {
    const made = makeWorkloadIdentity({ trustDomain: this.context.trustDomain, namespace: service.namespace, serviceAccount });
    if (made.ok) return made.value;
    const servicePath = path.slice(0, 2);
    const at =
      entry.serviceAccount !== undefined
        ? [...path, 'serviceAccount']
        : serviceEntry.serviceAccount !== undefined
          ? [...servicePath, 'serviceAccount']
          : [...servicePath, 'name'];
    this.context.failWith(at, made.error);
    return undefined;
  }

  private launchOf(entry: MeshFileInstance): MeshLaunch {
    const command = entry.command as string | readonly string[];
    return {
      command: typeof command === 'string' ? [command] : [...command],
      shell: typeof command === 'string',
      cwd: resolve(dirname(resolve(this.context.file)), entry.cwd ?? '.'),
      env: Object.fromEntries(Object.entries(entry.env ?? {}).map(([key, value]) => [key, String(value)])),
    };
  }

  private upstreamsOf(path: FieldPath, service: MeshService, entry: MeshFileInstance): MeshUpstream[] {
    const upstreams: MeshUpstream[] = [];
    const envPaths = new Map<string, FieldPath>(Object.keys(entry.env ?? {}).map((key) => [key, [...path, 'env', key]]));
    for (const [index, upstream] of (entry.upstreams ?? []).entries()) {
      const at: FieldPath = [...path, 'upstreams', index];
      const first = envPaths.get(upstream.env);
      if (first) this.context.fail([...at, 'env'], `${upstream.env} is already set ${atPath(first)}; give each upstream its own variable`);
      envPaths.set(upstream.env, [...at, 'env']);
      const resolved = resolveMeshAuthority(this.context, [...at, 'service'], upstream.service, service.namespace, this.services, this.servicePorts);
      if (!resolved) continue;
      upstreams.push({ ...resolved, env: upstream.env, ...(upstream.localPort === undefined ? {} : { localPort: upstream.localPort }) });
    }
    return upstreams;
  }

  private claimLoopbackPorts(path: FieldPath, entry: MeshFileInstance, instance: MeshInstance): void {
    const local = entry.command !== undefined || isLoopback(instance.ip);
    const claims: [number | undefined, FieldPath][] = [];
    if (entry.command !== undefined) {
      for (const [index, port] of instance.ports.entries()) {
        claims.push([port.port, index === 0 ? [...path, 'port'] : [...path, 'ports', port.name ?? '']]);
      }
    }
    if (local) claims.push([instance.proxyInboundPort, [...path, 'proxy', 'inboundPort']]);
    for (const [index, upstream] of (entry.upstreams ?? []).entries()) claims.push([upstream.localPort, [...path, 'upstreams', index, 'localPort']]);
    for (const [port, at] of claims) {
      if (port === undefined) continue;
      const first = this.loopbackPorts.get(port);
      if (first) this.context.fail(at, `port ${port} on the loopback interface is already used ${atPath(first)}; each needs its own port`);
      else this.loopbackPorts.set(port, at);
    }
  }

  private addEndpoints(path: FieldPath, entry: MeshFileInstance, service: MeshService, instance: MeshInstance): void {
    for (const [index, port] of instance.ports.entries()) {
      const key = `${service.fqdn}:${port.servicePort}`;
      const protocol = this.servicePorts.get(key)?.port.protocol ?? 'detect';
      const hint = HINTS[protocol];
      const made = makeEndpoint({
        address: { ip: instance.ip, port: port.port },
        weight: instance.weight,
        labels: instance.metricLabels,
        ...(instance.identityName === undefined ? {} : { tlsIdentity: instance.identityName }),
        ...(hint === undefined ? {} : { protocolHint: hint }),
        ...(instance.proxyInboundPort === undefined ? {} : { proxyInboundPort: instance.proxyInboundPort }),
      });
      const at = portPath(path, entry, index, port);
      if (!made.ok) {
        this.context.failWith(at, made.error);
        continue;
      }
      const address = `${key}@${made.value.address.ip}:${made.value.address.port}`;
      const first = this.endpointPaths.get(address);
      if (first) {
        const shown = formatSocketAddress(made.value.address);
        this.context.fail(at, `${shown} is already an instance of service "${service.name}" ${atPath(first)}`);
        continue;
      }
      this.endpointPaths.set(address, at);
      this.endpoints.get(key)?.push(made.value);
    }
  }
}

// Where an instance port was written: the address or port for the first service port, else its entry under ports.
function portPath(path: FieldPath, entry: MeshFileInstance, index: number, port: MeshInstancePort): FieldPath {
  if (index === 0) return [...path, entry.address === undefined ? 'port' : 'address'];
  return port.name !== undefined && entry.ports?.[port.name] !== undefined ? [...path, 'ports', port.name] : path;
}

function namedPorts(ports: readonly MeshServicePort[]): string {
  const names = ports.flatMap((port) => (port.name === undefined ? [] : [`"${port.name}"`]));
  return names.length === 0 ? 'none (name the service port to map it)' : names.join(', ');
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.');
}

/** How resolveMeshAuthority treats a mesh service the file does not declare. */
export interface MeshAuthorityOptions {
  /** Such a service lives elsewhere (e.g. in Docker) and is accepted with a written port, its ports being unknown here. */
  readonly externalServices?: boolean;
}

/**
 * Reads an authority written in the file ("api:8080", "api.demo", "api.example.com:443") in `namespace`. A mesh
 * service must exist and have the port; its only port is used when none is written. Names outside the mesh need a port.
 * With external services, a mesh service the file does not declare needs a port too.
 */
export function resolveMeshAuthority(
  context: BuildContext,
  path: FieldPath,
  text: string,
  namespace: string,
  services: readonly MeshService[],
  servicePorts: ReadonlyMap<string, MeshServicePortRef>,
  options: MeshAuthorityOptions = {},
): { readonly authority: Authority; readonly target: string } | undefined {
  const parsed = parseAuthority(text, { defaultNamespace: namespace, clusterDomain: context.clusterDomain });
  if (!parsed.ok) {
    context.failWith(path, parsed.error);
    return undefined;
  }
  const authority = parsed.value;
  const hasPort = text.startsWith('[') ? /\]:\d+$/.test(text) : /^[^:]*:\d+$/.test(text);
  if (authority.kind !== 'service') {
    if (hasPort) return { authority, target: formatAuthority(authority) };
    context.fail(path, `"${text}" needs a port, e.g. "${text}:443"`);
    return undefined;
  }
  const service = services.find((candidate) => candidate.fqdn === authority.fqdn);
  if (!service && options.externalServices) {
    if (hasPort) return { authority, target: formatAuthority(authority) };
    const reason = `service "${authority.name}" in namespace "${authority.namespace}" is not declared in the file, so its ports are unknown here`;
    context.fail(path, `${reason}; add the port to use, e.g. "${text}:8080"`);
    return undefined;
  }
  if (!service) {
    const inNamespace = services.filter((candidate) => candidate.namespace === authority.namespace).map((candidate) => candidate.name);
    const near = closest(authority.name, inNamespace);
    const hint = near ? ` (did you mean "${near}"?)` : '';
    const reason = `there is no service "${authority.name}" in namespace "${authority.namespace}"${hint}`;
    context.fail(path, `${reason}; declare it under services, or write a DNS name with a trailing dot for a host outside the mesh`);
    return undefined;
  }
  const ports = service.ports.map((port) => port.port);
  if (!hasPort && ports.length > 1) {
    context.fail(path, `service "${service.name}" has several ports (${ports.join(', ')}); add the one to use, e.g. "${text}:${ports[0]}"`);
    return undefined;
  }
  const port = hasPort ? authority.port : (ports[0] as number);
  if (!servicePorts.has(`${service.fqdn}:${port}`)) {
    context.fail(path, `service "${service.name}" in namespace "${service.namespace}" has no port ${port}; its ports are ${ports.join(', ')}`);
    return undefined;
  }
  const resolved = { ...authority, port };
  return { authority: resolved, target: formatAuthority(resolved) };
}
