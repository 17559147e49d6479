// The pure planner: from validated settings, the nat-table chains, jumps and rules that send TCP to the proxy.
import { type Cidr, formatCidr } from '@weft/core';
import { chunkForMultiport, formatMultiportList, type PortRange } from './port-list.js';

/** What weft-init intercepts and what it lets through; already validated (see parseInitArgs). */
export interface InterceptionSettings {
  /** The proxy's inbound port: every other inbound TCP connection is redirected here. */
  readonly inboundPort: number;
  /** The proxy's outbound port: every outbound TCP connection not skipped is redirected here. */
  readonly outboundPort: number;
  /** The proxy runs as this uid; its own connections are never redirected (they would loop). */
  readonly proxyUid: number;
  /** When set, connections of this group are not redirected either. */
  readonly proxyGid?: number;
  readonly skipInboundPorts: readonly PortRange[];
  readonly skipOutboundPorts: readonly PortRange[];
  /** Inbound from these sources and outbound to these destinations bypass the proxy (each family in its own table). */
  readonly skipSubnets: readonly Cidr[];
  /** Also write the rules with ip6tables. */
  readonly ipv6: boolean;
}

export const DEFAULT_INTERCEPTION_SETTINGS: InterceptionSettings = {
  inboundPort: 4243,
  outboundPort: 4240,
  proxyUid: 2102,
  // The proxy's tap and admin ports stay reachable directly.
  skipInboundPorts: [
    { first: 4290, last: 4290 },
    { first: 4291, last: 4291 },
  ],
  skipOutboundPorts: [],
  skipSubnets: [],
  ipv6: false,
};

export const WEFT_INBOUND_CHAIN = 'WEFT_INBOUND';
export const WEFT_OUTPUT_CHAIN = 'WEFT_OUTPUT';
export const WEFT_CHAINS = [WEFT_INBOUND_CHAIN, WEFT_OUTPUT_CHAIN] as const;

export type WeftChain = (typeof WEFT_CHAINS)[number];
export type NatChain = 'PREROUTING' | 'OUTPUT' | WeftChain;
export type IpVersion = 4 | 6;

/** One nat-table rule: the chain it is appended to and its match and target arguments (comment included). */
export interface NatRule {
  readonly chain: NatChain;
  /** The rule's name; the rule carries the comment `weft/<name>`. */
  readonly name: string;
  /** What follows `-A <chain>`, in the order iptables-save prints it. */
  readonly spec: readonly string[];
}

/** Everything weft-init writes into one address family's nat table. */
export interface InterceptionPlan {
  readonly ipVersion: IpVersion;
  /** The chains weft-init owns: created if missing, flushed, then filled with `rules`. */
  readonly chains: readonly WeftChain[];
  /** The rules in the WEFT chains, in order. */
  readonly rules: readonly NatRule[];
  /** The one jump from PREROUTING and the one from OUTPUT into the WEFT chains. */
  readonly jumps: readonly NatRule[];
}

/** The address families the settings ask for: IPv4 always, IPv6 with --ipv6. */
export function planIpVersions(settings: InterceptionSettings): IpVersion[] {
  return settings.ipv6 ? [4, 6] : [4];
}

/** The chains, rules and jumps for one address family; subnets of the other family are left out. */
export function planInterception(settings: InterceptionSettings, ipVersion: IpVersion): InterceptionPlan {
  const subnets = settings.skipSubnets.filter((subnet) => subnet.family === ipVersion);
  return {
    ipVersion,
    chains: WEFT_CHAINS,
    rules: [...inboundRules(settings, subnets), ...outputRules(settings, subnets)],
    jumps: [
      natRule('PREROUTING', 'install-inbound', [], ['-j', WEFT_INBOUND_CHAIN]),
      natRule('OUTPUT', 'install-output', [], ['-j', WEFT_OUTPUT_CHAIN]),
    ],
  };
}

/** The plan as the WEFT lines of `iptables-save -t nat` would show it once written. */
export function planSaveLines(plan: InterceptionPlan): string[] {
  const jumpsInChainOrder = ['PREROUTING', 'OUTPUT'].flatMap((chain) => plan.jumps.filter((jump) => jump.chain === chain));
  return [...plan.chains.map((chain) => `:${chain} - [0:0]`), ...[...jumpsInChainOrder, ...plan.rules].map(natRuleLine)];
}

/** "-A WEFT_OUTPUT -o lo -m comment --comment "weft/skip-loopback" -j RETURN", as iptables-save prints a rule. */
export function natRuleLine(rule: NatRule): string {
  const words = rule.spec.map((word, index) => (rule.spec[index - 1] === '--comment' ? `"${word}"` : word));
  return ['-A', rule.chain, ...words].join(' ');
}

/** The comment every weft rule carries: `weft/<name>`. */
export function weftComment(name: string): string {
  return `weft/${name}`;
}

const RETURN = ['-j', 'RETURN'] as const;

function inboundRules(settings: InterceptionSettings, subnets: readonly Cidr[]): NatRule[] {
  const chain = WEFT_INBOUND_CHAIN;
  return [
    ...skipPortRules(chain, 'skip-inbound-ports', settings.skipInboundPorts),
    ...subnets.map((subnet) => natRule(chain, `skip-inbound-subnet-${formatCidr(subnet)}`, ['-s', formatCidr(subnet)], RETURN)),
    redirect(chain, 'redirect-inbound', settings.inboundPort),
  ];
}

function outputRules(settings: InterceptionSettings, subnets: readonly Cidr[]): NatRule[] {
  const chain = WEFT_OUTPUT_CHAIN;
  const { proxyUid, proxyGid } = settings;
  return [
    natRule(chain, `skip-proxy-uid-${proxyUid}`, ['-m', 'owner', '--uid-owner', `${proxyUid}`], RETURN),
    ...(proxyGid === undefined
      ? []
      : [natRule(chain, `skip-proxy-gid-${proxyGid}`, ['-m', 'owner', '--gid-owner', `${proxyGid}`], RETURN)]),
    // Connections to this host's own addresses (127.0.0.1, the container's IP) leave through lo: never the proxy.
    natRule(chain, 'skip-loopback', ['-o', 'lo'], RETURN),
    ...skipPortRules(chain, 'skip-outbound-ports', settings.skipOutboundPorts),
    ...subnets.map((subnet) => natRule(chain, `skip-outbound-subnet-${formatCidr(subnet)}`, ['-d', formatCidr(subnet)], RETURN)),
    redirect(chain, 'redirect-outbound', settings.outboundPort),
  ];
}

function skipPortRules(chain: WeftChain, name: string, ports: readonly PortRange[]): NatRule[] {
  return chunkForMultiport(ports).map((chunk) => {
    const list = formatMultiportList(chunk);
    return natRule(chain, `${name}-${list}`, ['-p', 'tcp', '-m', 'multiport', '--dports', list], RETURN);
  });
}

function redirect(chain: WeftChain, name: string, port: number): NatRule {
  return natRule(chain, `${name}-to-${port}`, ['-p', 'tcp'], ['-j', 'REDIRECT', '--to-ports', `${port}`]);
}

// Matches, then the comment, then the target: the order iptables-save prints, so dry runs read like real ones.
function natRule(chain: NatChain, name: string, matches: readonly string[], target: readonly string[]): NatRule {
  return { chain, name, spec: [...matches, '-m', 'comment', '--comment', weftComment(name), ...target] };
}
