// MeshConfig: a loaded mesh file as core values, and the lookups the file adapters serve from it.
import {
  type Authority,
  type AuthorizationPolicy,
  type Cidr,
  compileInboundServerPolicy,
  DEFAULT_TRUST_DOMAIN,
  defaultClusterNetworks,
  type DefaultPolicy,
  defaultServiceProfile,
  type Endpoint,
  type InboundServerPolicy,
  type MeshTlsAuthentication,
  type NetworkAuthentication,
  type PolicyConfigError,
  type PolicyHttpRoute,
  type PolicyServer,
  type PolicyWorkloadRef,
  type Result,
  type ServiceProfile,
  serviceProfileName,
  type WorkloadIdentity,
} from '@weft/core';

/** What a service port speaks, as declared; `detect` leaves it to the proxy. */
export type MeshPortProtocol = 'detect' | 'http1' | 'http2' | 'grpc' | 'websocket' | 'opaque';

export interface MeshNamespace {
  readonly name: string;
  /** The namespace's own default policy, or the mesh-wide one. */
  readonly defaultInboundPolicy: DefaultPolicy;
}

export interface MeshServicePort {
  readonly port: number;
  readonly name?: string;
  readonly protocol: MeshPortProtocol;
}

export interface MeshService {
  readonly name: string;
  readonly namespace: string;
  /** `<name>.<namespace>.svc.<clusterDomain>`. */
  readonly fqdn: string;
  readonly serviceAccount: string;
  readonly ports: readonly MeshServicePort[];
  readonly labels: Readonly<Record<string, string>>;
}

/** How `weft up` launches an instance. */
export interface MeshLaunch {
  /** The program and its arguments; with `shell`, one command line for the shell. */
  readonly command: readonly string[];
  readonly shell: boolean;
  /** Absolute working directory. */
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

/** A service an instance's app calls, reached through a loopback port of its proxy in local mode. */
export interface MeshUpstream {
  readonly authority: Authority;
  /** The authority as text, e.g. "api.demo.svc.cluster.local:8080". */
  readonly target: string;
  /** The environment variable through which the app learns `127.0.0.1:<localPort>`. */
  readonly env: string;
  /** Fixed in the file, else chosen by weft up. */
  readonly localPort?: number;
}

export interface MeshInstancePort {
  /** The service port this instance port serves. */
  readonly servicePort: number;
  readonly name?: string;
  /** Where the instance listens for it. */
  readonly port: number;
}

export interface MeshInstance {
  /** The workload name, unique in the namespace. */
  readonly name: string;
  readonly namespace: string;
  readonly service: string;
  readonly ip: string;
  readonly ports: readonly MeshInstancePort[];
  readonly serviceAccount: string;
  readonly meshed: boolean;
  /** Set when meshed. */
  readonly identity?: WorkloadIdentity;
  /** The DNS-like identity name, set when meshed. */
  readonly identityName?: string;
  readonly proxyInboundPort?: number;
  /** Set for instances that weft up launches. */
  readonly launch?: MeshLaunch;
  readonly upstreams: readonly MeshUpstream[];
  readonly weight: number;
  /** Labels for server selectors, with `weft.io/service` and `weft.io/instance`. */
  readonly workloadLabels: Readonly<Record<string, string>>;
  readonly metricLabels: Readonly<Record<string, string>>;
}

/** The inputs of compileInboundServerPolicy that come from the file. */
export interface MeshPolicy {
  readonly defaultInboundPolicy: DefaultPolicy;
  readonly clusterNetworks: readonly Cidr[];
  readonly servers: readonly PolicyServer[];
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  readonly meshTlsAuthentications: readonly MeshTlsAuthentication[];
  readonly networkAuthentications: readonly NetworkAuthentication[];
  readonly httpRoutes: readonly PolicyHttpRoute[];
}

/** A service port by its authority key. */
export interface MeshServicePortRef {
  readonly service: MeshService;
  readonly port: MeshServicePort;
}

export interface MeshConfig {
  /** The file it was read from. */
  readonly file: string;
  readonly trustDomain: string;
  readonly clusterDomain: string;
  readonly namespaces: ReadonlyMap<string, MeshNamespace>;
  readonly services: readonly MeshService[];
  readonly instances: readonly MeshInstance[];
  /** Each service port by `<fqdn>:<port>`. */
  readonly servicePorts: ReadonlyMap<string, MeshServicePortRef>;
  /** The endpoints of each service port, by `<fqdn>:<port>`. */
  readonly endpoints: ReadonlyMap<string, readonly Endpoint[]>;
  /** Configured profiles by the service's FQDN. */
  readonly profiles: ReadonlyMap<string, ServiceProfile>;
  readonly policy: MeshPolicy;
  /** Instances by `<namespace>/<name>`. */
  readonly workloads: ReadonlyMap<string, MeshInstance>;
}

/** The configuration before any file was loaded: no services, default profiles and policies. */
export function emptyMeshConfig(file: string): MeshConfig {
  return {
    file,
    trustDomain: DEFAULT_TRUST_DOMAIN,
    clusterDomain: 'cluster.local',
    namespaces: new Map([['default', { name: 'default', defaultInboundPolicy: 'all-unauthenticated' }]]),
    services: [],
    instances: [],
    servicePorts: new Map(),
    endpoints: new Map(),
    profiles: new Map(),
    policy: {
      defaultInboundPolicy: 'all-unauthenticated',
      clusterNetworks: defaultClusterNetworks,
      servers: [],
      authorizationPolicies: [],
      meshTlsAuthentications: [],
      networkAuthentications: [],
      httpRoutes: [],
    },
    workloads: new Map(),
  };
}

/**
 * The key of a service port: "<fqdn>:<port>". A DNS authority spelling a service's FQDN (as one written for another
 * cluster domain parses) gets the same key; IP authorities get none.
 */
export function meshAuthorityKey(target: Authority): string | undefined {
  switch (target.kind) {
    case 'service':
      return `${target.fqdn}:${target.port}`;
    case 'dns':
      return `${target.host}:${target.port}`;
    case 'ip':
      return undefined;
  }
}

/** The endpoints of `target`, or undefined when the file has no such service port. */
export function meshEndpointsOf(config: MeshConfig, target: Authority): readonly Endpoint[] | undefined {
  const key = meshAuthorityKey(target);
  return key === undefined ? undefined : config.endpoints.get(key);
}

/** The profile of `target`: the configured one or the default, marked opaque when the port is declared opaque. */
export function meshProfileOf(config: MeshConfig, target: Authority): ServiceProfile {
  const name = serviceProfileName(target);
  const profile = config.profiles.get(name) ?? defaultServiceProfile(name);
  const key = meshAuthorityKey(target);
  const opaque = key !== undefined && config.servicePorts.get(key)?.port.protocol === 'opaque';
  return opaque && !profile.opaqueProtocol ? { ...profile, opaqueProtocol: true } : profile;
}

/**
 * The policy of `port` on `workload`. An instance the file lists is selected by its labels and named ports; another
 * workload has no labels, so only the Servers of its namespace with an empty selector can select it.
 */
export function meshInboundPolicyOf(
  config: MeshConfig,
  workload: PolicyWorkloadRef,
  port: number,
): Result<InboundServerPolicy, PolicyConfigError> {
  const instance = config.workloads.get(`${workload.namespace}/${workload.name}`);
  const selection = { namespace: workload.namespace, labels: instance?.workloadLabels ?? {}, portNames: instance ? instancePortNames(instance) : {} };
  return meshWorkloadInboundPolicy(config, selection, port);
}

/** What Servers select a workload by, for a workload the file does not list (e.g. a Docker container). */
export interface MeshWorkloadSelection {
  readonly namespace: string;
  /** Its labels, with `weft.io/service` and `weft.io/instance` as the file's instances have them. */
  readonly labels: Readonly<Record<string, string>>;
  /** Its named ports, for Servers that select a port by name. */
  readonly portNames: Readonly<Record<string, number>>;
}

/** The policy of `port` on a workload known by its namespace, labels and named ports, under the file's policies. */
export function meshWorkloadInboundPolicy(
  config: MeshConfig,
  workload: MeshWorkloadSelection,
  port: number,
): Result<InboundServerPolicy, PolicyConfigError> {
  const { policy } = config;
  return compileInboundServerPolicy({
    port,
    portNames: workload.portNames,
    workloadLabels: workload.labels,
    namespace: workload.namespace,
    servers: policy.servers,
    authorizationPolicies: policy.authorizationPolicies,
    meshTlsAuthentications: policy.meshTlsAuthentications,
    networkAuthentications: policy.networkAuthentications,
    httpRoutes: policy.httpRoutes,
    defaultPolicy: config.namespaces.get(workload.namespace)?.defaultInboundPolicy ?? policy.defaultInboundPolicy,
    clusterNetworks: policy.clusterNetworks,
    trustDomain: config.trustDomain,
  });
}

/** The instance's named ports, for Servers that select a port by name. */
export function instancePortNames(instance: MeshInstance): Record<string, number> {
  const names: Record<string, number> = {};
  for (const port of instance.ports) if (port.name !== undefined) names[port.name] = port.port;
  return names;
}
