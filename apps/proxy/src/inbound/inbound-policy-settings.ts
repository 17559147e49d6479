// Reads the inbound policy settings (WEFT_PROXY_DEFAULT_INBOUND_POLICY, _CLUSTER_NETWORKS, _POLICY_WORKLOAD).
import {
  type Cidr,
  defaultClusterNetworks,
  type DefaultPolicy,
  formatCidr,
  parseCidr,
  parseDefaultPolicy,
  type PolicyWorkloadRef,
} from '@weft/core';

/** How the proxy authorizes inbound traffic before (and besides) what policy discovery says. */
export interface InboundPolicySettings {
  /** The policy of a port until discovery answers for it (Linkerd's `default-inbound-policy`). */
  readonly defaultPolicy: DefaultPolicy;
  /** The networks the `cluster-*` default policies admit. */
  readonly clusterNetworks: readonly Cidr[];
  /** The workload whose port policies the proxy watches. */
  readonly workload: PolicyWorkloadRef;
}

/** Each variable and its default; docs/configuration.md should list the same. */
export const INBOUND_POLICY_ENV_DEFAULTS = {
  /** all-unauthenticated, all-authenticated, cluster-unauthenticated, cluster-authenticated, deny or audit. */
  WEFT_PROXY_DEFAULT_INBOUND_POLICY: 'all-unauthenticated',
  /** CIDRs, comma separated; Linkerd's `clusterNetworks`. */
  WEFT_PROXY_CLUSTER_NETWORKS: defaultClusterNetworks.map(formatCidr).join(','),
  /** `<namespace>/<name>` of the workload beside the proxy; unset: `default/<host name>`. */
  WEFT_PROXY_POLICY_WORKLOAD: '',
} as const;

/** The settings of a proxy given none: anyone is admitted, as Linkerd's default. */
export const DEFAULT_INBOUND_POLICY_SETTINGS: InboundPolicySettings = {
  defaultPolicy: 'all-unauthenticated',
  clusterNetworks: defaultClusterNetworks,
  workload: { namespace: 'default', name: 'default' },
};

type Env = Readonly<Record<string, string | undefined>>;
type InboundPolicyEnvVariable = keyof typeof INBOUND_POLICY_ENV_DEFAULTS;

/**
 * The inbound policy settings in `env`. Each bad value pushes a problem naming its variable onto `problems` and
 * leaves the default in its place. `hostName` names the workload when WEFT_PROXY_POLICY_WORKLOAD is unset.
 */
export function readInboundPolicySettings(env: Env, problems: string[], hostName = 'default'): InboundPolicySettings {
  const raw = (variable: InboundPolicyEnvVariable): string => {
    const value = env[variable];
    return value === undefined || value.trim() === '' ? INBOUND_POLICY_ENV_DEFAULTS[variable] : value;
  };
  const problem = (variable: InboundPolicyEnvVariable, reason: string): void => {
    problems.push(`${variable}=${JSON.stringify(env[variable] ?? '')}: ${reason}`);
  };

  const policy = parseDefaultPolicy(raw('WEFT_PROXY_DEFAULT_INBOUND_POLICY'));
  if (!policy.ok) problem('WEFT_PROXY_DEFAULT_INBOUND_POLICY', policy.error.reason);
  const networks = readCidrList(raw('WEFT_PROXY_CLUSTER_NETWORKS'));
  if (typeof networks === 'string') problem('WEFT_PROXY_CLUSTER_NETWORKS', networks);
  const workloadText = raw('WEFT_PROXY_POLICY_WORKLOAD');
  // Unset, the host name names the workload (a pod's), if it is a valid name; it is never a problem then.
  const workload = readWorkload(workloadText === '' ? `default/${hostName.toLowerCase()}` : workloadText);
  if (typeof workload === 'string' && workloadText !== '') problem('WEFT_PROXY_POLICY_WORKLOAD', workload);

  return {
    defaultPolicy: policy.ok ? policy.value : DEFAULT_INBOUND_POLICY_SETTINGS.defaultPolicy,
    clusterNetworks: typeof networks === 'string' ? DEFAULT_INBOUND_POLICY_SETTINGS.clusterNetworks : networks,
    workload: typeof workload === 'string' ? DEFAULT_INBOUND_POLICY_SETTINGS.workload : workload,
  };
}

/** The settings as `name: value` pairs, for the proxy's start-up log. */
export function describeInboundPolicySettings(settings: InboundPolicySettings): Record<string, string> {
  return {
    defaultInboundPolicy: settings.defaultPolicy,
    clusterNetworks: settings.clusterNetworks.map(formatCidr).join(','),
    policyWorkload: `${settings.workload.namespace}/${settings.workload.name}`,
  };
}

/** "10.0.0.0/8, fd00::/8": the CIDRs, or the reason the list is bad. An empty list is allowed (cluster-* admit nobody). */
function readCidrList(text: string): Cidr[] | string {
  const cidrs: Cidr[] = [];
  for (const item of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const cidr = parseCidr(item);
    if (!cidr.ok) return `"${item}" ${cidr.error.reason}; write CIDRs separated by commas, e.g. "10.0.0.0/8,fd00::/8"`;
    cidrs.push(cidr.value);
  }
  return cidrs;
}

const WORKLOAD_PART = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

/** "shop/books-7d9f": a namespace and a workload name, both lowercase DNS names. */
function readWorkload(text: string): PolicyWorkloadRef | string {
  const parts = text.trim().split('/');
  const [namespace, name] = parts;
  if (parts.length !== 2 || namespace === undefined || name === undefined || !WORKLOAD_PART.test(namespace) || !WORKLOAD_PART.test(name)) {
    return 'is not <namespace>/<name> (lowercase letters, digits, "-" and "."), e.g. "shop/books-7d9f"';
  }
  return { namespace, name };
}
