// Compiles the policy resources that apply to one workload port into the InboundServerPolicy its proxy enforces.
import {
  allNetworks,
  intersectAuthorizedNetworks,
  type AuthorizedNetwork,
  type MeshTlsAuthentication,
  type NetworkAuthentication,
} from './authentication.js';
import {
  authenticationRefResource,
  policyTargetsHttpRoute,
  policyTargetsServer,
  type AuthenticationRef,
  type AuthorizationPolicy,
} from './authorization-policy.js';
import type { Cidr } from './cidr.js';
import { defaultPolicyAuthorizations, type DefaultPolicy } from './default-policy.js';
import { intersectIdentityPatterns, type IdentityPattern } from './identity-pattern.js';
import {
  defaultInboundServerPolicy,
  type InboundAuthorization,
  type InboundHttpRoute,
  type InboundServerPolicy,
} from './inbound-server-policy.js';
import { PolicyConfigError, type PolicyResourceRef } from './policy-config-error.js';
import { compileInboundHttpRoutes, type PolicyHttpRoute } from './policy-http-route.js';
import { serverSelectsPort, serverSelectsWorkload, type PolicyServer } from './server.js';
import { DEFAULT_TRUST_DOMAIN, identityName, makeWorkloadIdentity } from '../identity/workload-identity.js';
import { err, ok, type Result } from '../shared/result.js';

/** Everything known about one port of one workload, and the policy resources of the mesh. */
export interface CompileInboundServerPolicyInput {
  readonly port: number;
  /** The workload's named ports, so a Server can select "http" instead of 8080. */
  readonly portNames?: Readonly<Record<string, number>>;
  readonly workloadLabels: Readonly<Record<string, string>>;
  /** The workload's namespace; only Servers, policies and routes of this namespace apply. */
  readonly namespace: string;
  readonly servers: readonly PolicyServer[];
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  /** Authentications of every namespace: a policy may refer to one in another namespace. */
  readonly meshTlsAuthentications: readonly MeshTlsAuthentication[];
  readonly networkAuthentications: readonly NetworkAuthentication[];
  readonly httpRoutes: readonly PolicyHttpRoute[];
  /** Applies when no Server selects the port. */
  readonly defaultPolicy: DefaultPolicy;
  readonly clusterNetworks: readonly Cidr[];
  /** For identities of ServiceAccount references; "cluster.local" when unset. */
  readonly trustDomain?: string;
}

/**
 * The port's policy. When no Server selects the port the default policy applies. Otherwise the Server's
 * authorizations are the AuthorizationPolicies targeting it or its namespace, plus its accessPolicy; a Server
 * with none denies everything. Routes attached to the Server carry the policies targeting them.
 *
 * Only the resources that apply to this port are checked, so a broken policy elsewhere does not affect it. A
 * reference to a missing authentication, a bad route condition, or two Servers selecting the same port is a
 * PolicyConfigError naming the resource and the reference. An authorization that can admit nobody (disjoint
 * networks or identities) is left out, since an empty network list would read as "any address".
 */
export function compileInboundServerPolicy(
  input: CompileInboundServerPolicyInput,
): Result<InboundServerPolicy, PolicyConfigError> {
  const selecting = input.servers.filter(
    (server) =>
      serverSelectsWorkload(server, input.namespace, input.workloadLabels) &&
      serverSelectsPort(server, input.port, input.portNames),
  );
  const [server, other] = selecting;
  if (server === undefined) {
    return ok(defaultInboundServerPolicy(input.port, input.defaultPolicy, input.clusterNetworks));
  }
  if (other !== undefined) {
    return err(
      new PolicyConfigError(
        serverRef(server),
        `selects port ${input.port} of this workload, and so does Server ${other.name}; ` +
          'a port may be selected by one Server only, change the selector or port of one of them',
        serverRef(other),
      ),
    );
  }
  return compileServer(server, input);
}

function compileServer(
  server: PolicyServer,
  input: CompileInboundServerPolicyInput,
): Result<InboundServerPolicy, PolicyConfigError> {
  const policies = input.authorizationPolicies.filter((policy) => policyTargetsServer(policy, server));
  const authorizations = compileAuthorizations(policies, input);
  if (!authorizations.ok) return authorizations;
  const access = server.accessPolicy;
  const accessAuthorizations = access === undefined ? [] : defaultPolicyAuthorizations(access, input.clusterNetworks);
  const routes: InboundHttpRoute[] = [];
  for (const route of input.httpRoutes) {
    if (!routeAttachesTo(route, server)) continue;
    const compiled = compileRoute(route, input);
    if (!compiled.ok) return compiled;
    routes.push(compiled.value);
  }
  return ok({
    port: input.port,
    protocol: server.proxyProtocol,
    server: { kind: 'Server', name: server.name },
    authorizations: [...authorizations.value, ...accessAuthorizations],
    httpRoutes: routes,
    audit: access === 'audit',
  });
}

function routeAttachesTo(route: PolicyHttpRoute, server: PolicyServer): boolean {
  return route.namespace === server.namespace && route.parentRefs.some((ref) => ref.name === server.name);
}

function compileRoute(
  route: PolicyHttpRoute,
  input: CompileInboundServerPolicyInput,
): Result<InboundHttpRoute, PolicyConfigError> {
  const checked = compileInboundHttpRoutes([route]);
  if (!checked.ok) {
    const resource = { kind: 'HttpRoute', namespace: route.namespace, name: route.name };
    return err(new PolicyConfigError(resource, checked.error.reason));
  }
  const policies = input.authorizationPolicies.filter((policy) => policyTargetsHttpRoute(policy, route));
  const authorizations = compileAuthorizations(policies, input);
  if (!authorizations.ok) return authorizations;
  return ok({ name: route.name, matches: route.matches, authorizations: authorizations.value });
}

function compileAuthorizations(
  policies: readonly AuthorizationPolicy[],
  input: CompileInboundServerPolicyInput,
): Result<InboundAuthorization[], PolicyConfigError> {
  const compiled: InboundAuthorization[] = [];
  for (const policy of policies) {
    const authorization = compileAuthorization(policy, input);
    if (!authorization.ok) return authorization;
    if (authorization.value !== undefined) compiled.push(authorization.value);
  }
  return ok(compiled);
}

// One policy as one authorization: the intersection of everything it requires; undefined when that admits nobody.
function compileAuthorization(
  policy: AuthorizationPolicy,
  input: CompileInboundServerPolicyInput,
): Result<InboundAuthorization | undefined, PolicyConfigError> {
  let networks: readonly AuthorizedNetwork[] = allNetworks;
  let identities: readonly IdentityPattern[] | undefined;
  for (const ref of policy.requiredAuthentications) {
    const resolved = resolveAuthentication(ref, policy, input);
    if (!resolved.ok) return resolved;
    const required = resolved.value;
    if (required.kind === 'networks') {
      networks = intersectAuthorizedNetworks(networks, required.networks);
    } else {
      identities = identities ? intersectIdentityPatterns(identities, required.identities) : required.identities;
    }
  }
  if (networks.length === 0 || identities?.length === 0) return ok(undefined);
  return ok({
    name: policy.name,
    kind: 'AuthorizationPolicy',
    networks,
    authentication: identities === undefined ? { kind: 'unauthenticated' } : { kind: 'meshTLS', identities },
  });
}

type RequiredAuthentication =
  | { readonly kind: 'networks'; readonly networks: readonly AuthorizedNetwork[] }
  | { readonly kind: 'identities'; readonly identities: readonly IdentityPattern[] };

function resolveAuthentication(
  ref: AuthenticationRef,
  policy: AuthorizationPolicy,
  input: CompileInboundServerPolicyInput,
): Result<RequiredAuthentication, PolicyConfigError> {
  const target = authenticationRefResource(ref, policy.namespace);
  const trustDomain = input.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  switch (ref.kind) {
    case 'NetworkAuthentication': {
      const found = input.networkAuthentications.find((authn) => sameResource(authn, target));
      if (found === undefined) return err(missingReference(policy, target));
      return ok({ kind: 'networks', networks: found.networks });
    }
    case 'MeshTLSAuthentication': {
      const found = input.meshTlsAuthentications.find((authn) => sameResource(authn, target));
      if (found === undefined) return err(missingReference(policy, target));
      return meshTlsIdentities(found, trustDomain);
    }
    case 'ServiceAccount': {
      const identity = serviceAccountIdentity(target.name, target.namespace, trustDomain, policyRef(policy));
      return identity.ok ? ok({ kind: 'identities', identities: [identity.value] }) : identity;
    }
  }
}

// The patterns of a MeshTLSAuthentication, with its identity references turned into identity names.
function meshTlsIdentities(
  authn: MeshTlsAuthentication,
  trustDomain: string,
): Result<RequiredAuthentication, PolicyConfigError> {
  const identities: IdentityPattern[] = [...authn.identities];
  const resource = { kind: 'MeshTLSAuthentication', namespace: authn.namespace, name: authn.name };
  for (const ref of authn.identityRefs ?? []) {
    const namespace = ref.kind === 'Namespace' ? ref.name : (ref.namespace ?? authn.namespace);
    // A namespace stands for every service account in it: the suffix after "<service account>.".
    const account = ref.kind === 'Namespace' ? 'x' : ref.name;
    const identity = serviceAccountIdentity(account, namespace, trustDomain, resource);
    if (!identity.ok) return identity;
    const suffix = identity.value.name.slice(account.length + 1);
    identities.push(ref.kind === 'Namespace' ? { kind: 'suffix', suffix } : identity.value);
  }
  return ok({ kind: 'identities', identities });
}

function serviceAccountIdentity(
  serviceAccount: string,
  namespace: string,
  trustDomain: string,
  referrer: PolicyResourceRef,
): Result<{ readonly kind: 'exact'; readonly name: string }, PolicyConfigError> {
  const made = makeWorkloadIdentity({ serviceAccount, namespace, trustDomain });
  if (!made.ok) {
    const reference = { kind: 'ServiceAccount', namespace, name: serviceAccount };
    const reason = `refers to ServiceAccount ${namespace}/${serviceAccount}: ${made.error.message}`;
    return err(new PolicyConfigError(referrer, reason, reference));
  }
  return ok({ kind: 'exact', name: identityName(made.value) });
}

function missingReference(policy: AuthorizationPolicy, target: PolicyResourceRef): PolicyConfigError {
  return new PolicyConfigError(
    policyRef(policy),
    `requires ${target.kind} ${target.namespace}/${target.name}, which does not exist; ` +
      'create it or remove it from the required authentications',
    target,
  );
}

function sameResource(resource: Omit<PolicyResourceRef, 'kind'>, ref: PolicyResourceRef): boolean {
  return resource.namespace === ref.namespace && resource.name === ref.name;
}

function policyRef(policy: AuthorizationPolicy): PolicyResourceRef {
  return { kind: 'AuthorizationPolicy', namespace: policy.namespace, name: policy.name };
}

function serverRef(server: PolicyServer): PolicyResourceRef {
  return { kind: 'Server', namespace: server.namespace, name: server.name };
}
