// Builds the inbound policy resources of a mesh file with the core's parsers, checking every reference between them.
import {
  type AuthenticationRef,
  type AuthorizationPolicy,
  type AuthorizationTarget,
  type AuthorizedNetwork,
  type Cidr,
  cidrIncludes,
  defaultClusterNetworks,
  dnsLabelProblem,
  formatCidr,
  type HttpRouteMatch,
  type IdentityPattern,
  compileInboundHttpRoutes,
  makeWorkloadIdentity,
  type MeshTlsAuthentication,
  type MeshTlsIdentityRef,
  type NetworkAuthentication,
  parseCidr,
  parseIdentityPattern,
  type PolicyHttpRoute,
  type PolicyServer,
} from '@weft/core';
import { atPath, type BuildContext } from './build-context.js';
import { checkNamespace } from './build-services.js';
import type { MeshNamespace, MeshPolicy, MeshService } from './mesh-config.js';
import type {
  MeshFile,
  MeshFileAuthorizationPolicy,
  MeshFileHttpRoute,
  MeshFileHttpRouteMatch,
  MeshFileMeshTlsAuthentication,
  MeshFileNetworkAuthentication,
  MeshFilePolicies,
  MeshFileServer,
} from './mesh-file.js';
import { closest } from './schema-problems.js';
import type { FieldPath } from './yaml-locator.js';

export interface BuiltPolicies {
  readonly policy: MeshPolicy;
  /** Where each resource was written, by "<Kind> <namespace>/<name>" as PolicyConfigError names it. */
  readonly resourcePaths: ReadonlyMap<string, FieldPath>;
}

/** How the policies are checked against the rest of the file. */
export interface PolicyBuildOptions {
  /**
   * The services live elsewhere (e.g. Docker containers): a Server may select a `service` or a named `port` the file
   * does not declare. Every other check stays.
   */
  readonly externalServices?: boolean;
}

type Named = { readonly name: string; readonly namespace?: string };

/** "<namespace>/<name>" of the declared resources that policies can refer to. */
interface KnownResources {
  readonly servers: ReadonlySet<string>;
  readonly httpRoutes: ReadonlySet<string>;
  readonly meshTLS: ReadonlySet<string>;
  readonly network: ReadonlySet<string>;
}

/** The policy resources of the file, each checked where it was written. */
export function buildPolicies(
  context: BuildContext,
  file: MeshFile,
  namespaces: ReadonlyMap<string, MeshNamespace>,
  services: readonly MeshService[],
  options: PolicyBuildOptions = {},
): BuiltPolicies {
  const builder = new PolicyBuilder(context, file.policies ?? {}, namespaces, services, options.externalServices ?? false);
  return builder.build();
}

class PolicyBuilder {
  private readonly resourcePaths = new Map<string, FieldPath>();

  constructor(
    private readonly context: BuildContext,
    private readonly policies: MeshFilePolicies,
    private readonly namespaces: ReadonlyMap<string, MeshNamespace>,
    private readonly services: readonly MeshService[],
    private readonly externalServices: boolean,
  ) {}

  build(): BuiltPolicies {
    const servers = this.each('servers', 'Server', this.policies.servers, (path, entry) => this.server(path, entry));
    const httpRoutes = this.each('httpRoutes', 'HttpRoute', this.policies.httpRoutes, (path, entry) => this.httpRoute(path, entry, this.declared('Server')));
    const meshTlsAuthentications = this.each('meshTLSAuthentications', 'MeshTLSAuthentication', this.policies.meshTLSAuthentications, (path, entry) =>
      this.meshTls(path, entry),
    );
    const networkAuthentications = this.each('networkAuthentications', 'NetworkAuthentication', this.policies.networkAuthentications, (path, entry) =>
      this.network(path, entry),
    );
    // References are checked against what is declared, so a broken resource is not also reported as missing.
    const known = {
      servers: this.declared('Server'),
      httpRoutes: this.declared('HttpRoute'),
      meshTLS: this.declared('MeshTLSAuthentication'),
      network: this.declared('NetworkAuthentication'),
    };
    const authorizationPolicies = this.each('authorizationPolicies', 'AuthorizationPolicy', this.policies.authorizationPolicies, (path, entry) =>
      this.authorizationPolicy(path, entry, known),
    ).flat();
    return {
      policy: {
        defaultInboundPolicy: this.policies.defaultInboundPolicy ?? 'all-unauthenticated',
        clusterNetworks: this.clusterNetworks(),
        servers,
        authorizationPolicies,
        meshTlsAuthentications,
        networkAuthentications,
        httpRoutes,
      },
      resourcePaths: this.resourcePaths,
    };
  }

  /** Builds each entry of a list, after checking its namespace and that its name is unique in it. */
  private each<E extends Named, R>(
    field: string,
    kind: string,
    entries: readonly E[] | undefined,
    build: (path: FieldPath, entry: E) => R | undefined,
  ): R[] {
    const built: R[] = [];
    for (const [index, entry] of (entries ?? []).entries()) {
      const path: FieldPath = ['policies', field, index];
      const namespace = entry.namespace ?? 'default';
      if (entry.namespace !== undefined && !checkNamespace(this.context, this.namespaces, [...path, 'namespace'], namespace)) continue;
      const key = `${kind} ${namespace}/${entry.name}`;
      const first = this.resourcePaths.get(key);
      if (first) {
        this.context.fail([...path, 'name'], `${kind} "${entry.name}" is already declared in namespace "${namespace}" ${atPath(first)}`);
        continue;
      }
      this.resourcePaths.set(key, path);
      const result = build(path, entry);
      if (result !== undefined) built.push(result);
    }
    return built;
  }

  /** "<namespace>/<name>" of each declared resource of a kind. */
  private declared(kind: string): Set<string> {
    const prefix = `${kind} `;
    return new Set([...this.resourcePaths.keys()].filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length)));
  }

  private clusterNetworks(): readonly Cidr[] {
    if (this.policies.clusterNetworks === undefined) return defaultClusterNetworks;
    return this.policies.clusterNetworks.flatMap((text, index) => this.cidr(['policies', 'clusterNetworks', index], text) ?? []);
  }

  private cidr(path: FieldPath, text: string): Cidr | undefined {
    const parsed = parseCidr(text);
    if (parsed.ok) return parsed.value;
    this.context.failWith(path, parsed.error);
    return undefined;
  }

  private server(path: FieldPath, entry: MeshFileServer): PolicyServer | undefined {
    const namespace = entry.namespace ?? 'default';
    const inNamespace = this.services.filter((service) => service.namespace === namespace);
    // External services are not listed here, nor are their port names: the workloads' own labels tell at runtime.
    if (typeof entry.port === 'string' && !this.externalServices) {
      const names = inNamespace.flatMap((service) => service.ports.flatMap((port) => (port.name === undefined ? [] : [port.name])));
      if (!names.includes(entry.port)) {
        const near = closest(entry.port, names);
        const hint = near ? ` (did you mean "${near}"?)` : '';
        const reason = `no service port in namespace "${namespace}" is named "${entry.port}"${hint}`;
        this.context.fail([...path, 'port'], `${reason}; write a port number or the name of a service port`);
        return undefined;
      }
    }
    if (entry.service !== undefined && !this.externalServices && !inNamespace.some((service) => service.name === entry.service)) {
      this.missing([...path, 'service'], 'service', entry.service, namespace, inNamespace.map((service) => service.name));
      return undefined;
    }
    return {
      name: entry.name,
      namespace,
      port: entry.port,
      workloadSelector: { ...entry.selector, ...(entry.service === undefined ? {} : { 'weft.io/service': entry.service }) },
      proxyProtocol: entry.proxyProtocol ?? 'unknown',
      ...(entry.accessPolicy === undefined ? {} : { accessPolicy: entry.accessPolicy }),
    };
  }

  private httpRoute(path: FieldPath, entry: MeshFileHttpRoute, servers: ReadonlySet<string>): PolicyHttpRoute | undefined {
    const namespace = entry.namespace ?? 'default';
    const parents = this.references([...path, 'server'], entry.server, 'server', namespace, servers);
    const matches: HttpRouteMatch[] = [];
    for (const [index, match] of (entry.matches ?? []).entries()) {
      const converted = httpRouteMatch(match);
      const checked = compileInboundHttpRoutes([{ name: entry.name, matches: [converted] }]);
      if (checked.ok) matches.push(converted);
      else this.context.failWith([...path, 'matches', index], checked.error);
    }
    if (parents === undefined || matches.length < (entry.matches ?? []).length) return undefined;
    return { name: entry.name, namespace, parentRefs: parents.map((name) => ({ kind: 'Server', name })), matches };
  }

  private meshTls(path: FieldPath, entry: MeshFileMeshTlsAuthentication): MeshTlsAuthentication | undefined {
    const namespace = entry.namespace ?? 'default';
    const before = this.context.errors.length;
    const identities: IdentityPattern[] = [];
    for (const [index, text] of (entry.identities ?? []).entries()) {
      const parsed = parseIdentityPattern(text);
      if (parsed.ok) identities.push(parsed.value);
      else this.context.failWith([...path, 'identities', index], parsed.error);
    }
    const identityRefs: MeshTlsIdentityRef[] = [];
    for (const [index, text] of (entry.serviceAccounts ?? []).entries()) {
      const ref = this.serviceAccountRef([...path, 'serviceAccounts', index], text, namespace);
      if (ref) identityRefs.push(ref);
    }
    for (const name of entry.namespaces ?? []) identityRefs.push({ kind: 'Namespace', name });
    if (identities.length + identityRefs.length === 0 && this.context.errors.length === before) {
      this.context.fail(path, `MeshTLSAuthentication "${entry.name}" lists no identities, so it admits nobody; add identities, serviceAccounts or namespaces`);
    }
    if (this.context.errors.length > before) return undefined;
    return { name: entry.name, namespace, identities, ...(identityRefs.length === 0 ? {} : { identityRefs }) };
  }

  /** "web" (in the authentication's namespace) or "shop/web". */
  private serviceAccountRef(path: FieldPath, text: string, namespace: string): MeshTlsIdentityRef | undefined {
    const parts = text.split('/');
    const [account, accountNamespace] = parts.length === 2 ? [parts[1] as string, parts[0] as string] : [text, namespace];
    const problem = parts.length > 2 ? 'has more than one "/"' : (dnsLabelProblem(accountNamespace) ?? dnsLabelProblem(account));
    if (problem !== undefined) {
      this.context.fail(path, `service account "${text}" ${problem}; write "name" (in this namespace) or "namespace/name", e.g. "shop/web"`);
      return undefined;
    }
    return { kind: 'ServiceAccount', name: account, namespace: accountNamespace };
  }

  private network(path: FieldPath, entry: MeshFileNetworkAuthentication): NetworkAuthentication | undefined {
    const before = this.context.errors.length;
    const networks: AuthorizedNetwork[] = [];
    for (const [index, network] of entry.networks.entries()) {
      const at: FieldPath = [...path, 'networks', index];
      const spec = typeof network === 'string' ? { cidr: network } : network;
      const cidr = this.cidr(typeof network === 'string' ? at : [...at, 'cidr'], spec.cidr);
      const except = (spec.except ?? []).flatMap((text, exceptIndex) => {
        const exceptPath: FieldPath = [...at, 'except', exceptIndex];
        const parsed = this.cidr(exceptPath, text);
        if (parsed && cidr && !cidrIncludes(cidr, parsed)) {
          this.context.fail(exceptPath, `${formatCidr(parsed)} is not inside ${formatCidr(cidr)}; an exception must be part of the network it is taken from`);
        }
        return parsed ?? [];
      });
      if (cidr) networks.push({ cidr, except });
    }
    if (entry.networks.length === 0) {
      this.context.fail([...path, 'networks'], `NetworkAuthentication "${entry.name}" lists no networks, so it admits nobody; add one, e.g. 10.0.0.0/8`);
    }
    if (this.context.errors.length > before) return undefined;
    return { name: entry.name, namespace: entry.namespace ?? 'default', networks };
  }

  private authorizationPolicy(
    path: FieldPath,
    entry: MeshFileAuthorizationPolicy,
    known: KnownResources,
  ): AuthorizationPolicy[] | undefined {
    const namespace = entry.namespace ?? 'default';
    const targets = this.targets([...path, 'target'], entry, namespace, known);
    const required: AuthenticationRef[] = [];
    for (const [index, ref] of (entry.requiredAuthentications ?? []).entries()) {
      const at: FieldPath = [...path, 'requiredAuthentications', index];
      const refNamespace = ref.namespace ?? namespace;
      if (ref.meshTLS !== undefined) {
        if (this.exists([...at, 'meshTLS'], 'MeshTLSAuthentication', ref.meshTLS, refNamespace, known.meshTLS)) {
          required.push({ kind: 'MeshTLSAuthentication', name: ref.meshTLS, namespace: refNamespace });
        }
      } else if (ref.network !== undefined) {
        if (this.exists([...at, 'network'], 'NetworkAuthentication', ref.network, refNamespace, known.network)) {
          required.push({ kind: 'NetworkAuthentication', name: ref.network, namespace: refNamespace });
        }
      } else if (ref.serviceAccount !== undefined) {
        const made = makeWorkloadIdentity({ trustDomain: this.context.trustDomain, namespace: refNamespace, serviceAccount: ref.serviceAccount });
        if (made.ok) required.push({ kind: 'ServiceAccount', name: ref.serviceAccount, namespace: refNamespace });
        else this.context.failWith([...at, 'serviceAccount'], made.error);
      }
    }
    if (targets === undefined || required.length < (entry.requiredAuthentications ?? []).length) return undefined;
    return targets.map((target) => ({ name: entry.name, namespace, target, requiredAuthentications: required }));
  }

  private targets(
    path: FieldPath,
    entry: MeshFileAuthorizationPolicy,
    namespace: string,
    known: KnownResources,
  ): AuthorizationTarget[] | undefined {
    const { target } = entry;
    if (target.server !== undefined) {
      const names = this.references([...path, 'server'], target.server, 'server', namespace, known.servers);
      return names?.map((name) => ({ kind: 'Server', name }));
    }
    if (target.httpRoute !== undefined) {
      const ok = this.exists([...path, 'httpRoute'], 'HTTP route', target.httpRoute, namespace, known.httpRoutes);
      return ok ? [{ kind: 'HttpRoute', name: target.httpRoute }] : undefined;
    }
    if (target.namespace !== namespace) {
      const reason = `a policy protects only its own namespace; write "${namespace}"`;
      this.context.fail([...path, 'namespace'], `${reason}, or move the policy to namespace "${String(target.namespace)}"`);
      return undefined;
    }
    return [{ kind: 'Namespace' }];
  }

  /** One name or a list of names of resources of the namespace; undefined when one of them does not exist. */
  private references(path: FieldPath, value: string | readonly string[], what: string, namespace: string, known: ReadonlySet<string>): string[] | undefined {
    const names = typeof value === 'string' ? [value] : [...value];
    const found = names.filter((name, index) => this.exists(typeof value === 'string' ? path : [...path, index], what, name, namespace, known));
    return found.length === names.length ? names : undefined;
  }

  private exists(path: FieldPath, what: string, name: string, namespace: string, known: ReadonlySet<string>): boolean {
    if (known.has(`${namespace}/${name}`)) return true;
    const candidates = [...known].filter((key) => key.startsWith(`${namespace}/`)).map((key) => key.slice(namespace.length + 1));
    this.missing(path, what, name, namespace, candidates);
    return false;
  }

  private missing(path: FieldPath, what: string, name: string, namespace: string, candidates: readonly string[]): void {
    const near = closest(name, candidates);
    const hint = near ? ` (did you mean "${near}"?)` : '';
    this.context.fail(path, `there is no ${what} "${name}" in namespace "${namespace}"${hint}`);
  }
}

function httpRouteMatch(match: MeshFileHttpRouteMatch): HttpRouteMatch {
  return {
    ...(match.path === undefined ? {} : { path: { type: match.path.type ?? 'PathPrefix', value: match.path.value } }),
    ...(match.method === undefined ? {} : { method: match.method }),
    ...(match.headers === undefined
      ? {}
      : { headers: match.headers.map((header) => ({ type: header.type ?? 'Exact', name: header.name, value: header.value })) }),
    ...(match.queryParams === undefined
      ? {}
      : { queryParams: match.queryParams.map((param) => ({ type: param.type ?? 'Exact', name: param.name, value: param.value })) }),
  };
}
