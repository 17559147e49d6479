// Reads weft-init's command line into validated interception settings and what to do with them.
import { type Cidr, err, formatCidr, ok, parseCidr, type Result } from '@weft/core';
import {
  type InitArgumentError,
  InvalidInitFlagError,
  InvalidInitIdError,
  InvalidInitPortError,
  InvalidInitSubnetError,
  InvalidIptablesFamilyError,
} from './init-argument-error.js';
import { DEFAULT_INTERCEPTION_SETTINGS, type InterceptionSettings } from './interception-plan.js';
import { formatMultiportList, parsePort, parsePortList } from './port-list.js';

export const IPTABLES_FAMILIES = ['iptables', 'iptables-legacy', 'iptables-nft'] as const;
/** Which iptables build writes the rules: the system default, the legacy (x_tables) one or the nf_tables one. */
export type IptablesFamily = (typeof IPTABLES_FAMILIES)[number];

export interface InitOptions {
  readonly settings: InterceptionSettings;
  readonly iptables: IptablesFamily;
  /** Remove the WEFT chains and jumps instead of writing them. */
  readonly cleanup: boolean;
  /** Print what would be written or removed; run no iptables command. */
  readonly dryRun: boolean;
  readonly help: boolean;
}

const defaults = DEFAULT_INTERCEPTION_SETTINGS;

export const INIT_USAGE = `Usage: weft-init [options]

Writes nat-table rules in the current network namespace that send inbound TCP to the proxy's inbound port and
outbound TCP to its outbound port (chains WEFT_INBOUND and WEFT_OUTPUT). Needs NET_ADMIN and NET_RAW.

Options:
  --inbound-port <port>         the proxy's inbound port (default: ${defaults.inboundPort})
  --outbound-port <port>        the proxy's outbound port (default: ${defaults.outboundPort})
  --proxy-uid <uid>             the proxy's user; its connections are not redirected (default: ${defaults.proxyUid})
  --proxy-gid <gid>             also let this group's connections through (default: none)
  --skip-inbound-ports <list>   inbound ports that bypass the proxy, e.g. 4290,8000-8100
                                (default: ${formatMultiportList(defaults.skipInboundPorts).replaceAll(':', '-')}; "" for none)
  --skip-outbound-ports <list>  outbound ports that bypass the proxy (default: none)
  --skip-subnets <cidr,...>     networks that bypass the proxy both ways, e.g. 10.0.0.0/8,fd00::/8 (default: none)
  --iptables <command>          ${IPTABLES_FAMILIES.join(' | ')} (default: iptables)
  --ipv6                        also write the rules with ip6tables
  --cleanup                     remove the WEFT chains and jumps
  --dry-run                     print the rules without running iptables
  -h, --help                    show this help

Exit status: 0 done, 1 an iptables command failed, 2 bad arguments.`;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Parsed = { options: Mutable<InitOptions>; settings: Mutable<InterceptionSettings> };
type ValueFlag = (parsed: Parsed, flag: string, value: string) => InitArgumentError | undefined;

const switches: Record<string, (options: Mutable<InitOptions>, settings: Mutable<InterceptionSettings>) => void> = {
  '--ipv6': (_, settings) => (settings.ipv6 = true),
  '--cleanup': (options) => (options.cleanup = true),
  '--dry-run': (options) => (options.dryRun = true),
  '--help': (options) => (options.help = true),
  '-h': (options) => (options.help = true),
};

const valueFlags: Record<string, ValueFlag> = {
  '--inbound-port': ({ settings }, flag, value) => take(parsePort(flag, value), (port) => (settings.inboundPort = port)),
  '--outbound-port': ({ settings }, flag, value) => take(parsePort(flag, value), (port) => (settings.outboundPort = port)),
  '--proxy-uid': ({ settings }, flag, value) => take(parseId(flag, value), (id) => (settings.proxyUid = id)),
  '--proxy-gid': ({ settings }, flag, value) => take(parseId(flag, value), (id) => (settings.proxyGid = id)),
  '--skip-inbound-ports': ({ settings }, flag, value) =>
    take(parsePortList(flag, value), (ports) => (settings.skipInboundPorts = ports)),
  '--skip-outbound-ports': ({ settings }, flag, value) =>
    take(parsePortList(flag, value), (ports) => (settings.skipOutboundPorts = ports)),
  '--skip-subnets': ({ settings }, flag, value) => take(parseSubnets(flag, value), (subnets) => (settings.skipSubnets = subnets)),
  '--iptables': ({ options }, flag, value) => take(parseIptablesFamily(flag, value), (family) => (options.iptables = family)),
};

/** Reads the arguments after `weft-init`. Flags take `--flag value` or `--flag=value`; each may be given once. */
export function parseInitArgs(argv: readonly string[]): Result<InitOptions, InitArgumentError> {
  const settings: Mutable<InterceptionSettings> = { ...defaults };
  const options: Mutable<InitOptions> = { settings, iptables: 'iptables', cleanup: false, dryRun: false, help: false };
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i] as string;
    const [flag, inline] = splitFlag(argument);
    if (seen.has(flag)) return err(new InvalidInitFlagError(flag, flag, 'is given twice; give each flag once'));
    seen.add(flag);
    const setSwitch = switches[flag];
    const setValue = valueFlags[flag];
    if (setSwitch !== undefined) {
      if (inline !== undefined) return err(new InvalidInitFlagError(flag, argument, `takes no value; write just ${flag}`));
      setSwitch(options, settings);
    } else if (setValue !== undefined) {
      const value = inline ?? argv[i + 1];
      if (value === undefined || (inline === undefined && value.startsWith('--'))) {
        return err(new InvalidInitFlagError(flag, flag, `needs a value, e.g. ${flag} ${example(flag)}`));
      }
      if (inline === undefined) i++;
      const problem = setValue({ options, settings }, flag, value);
      if (problem !== undefined) return err(problem);
    } else {
      const known = [...Object.keys(valueFlags), ...Object.keys(switches)].join(', ');
      return err(new InvalidInitFlagError(argument, argument, `is not a weft-init flag; the flags are ${known}`));
    }
  }
  return checkPorts(options);
}

// Redirecting both directions to one port would hand inbound and outbound connections to the same listener.
function checkPorts(options: InitOptions): Result<InitOptions, InitArgumentError> {
  const { inboundPort, outboundPort } = options.settings;
  if (inboundPort === outboundPort) {
    const reason = `is also the --inbound-port; the proxy listens on two different ports (defaults ${defaults.outboundPort} and ${defaults.inboundPort})`;
    return err(new InvalidInitPortError('--outbound-port', `${outboundPort}`, reason));
  }
  return ok(options);
}

function parseId(flag: string, text: string): Result<number, InvalidInitIdError> {
  const id = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  // 4294967295 is (uid_t)-1, "no user", which the owner match cannot use.
  if (!(id <= 4_294_967_294)) {
    return err(new InvalidInitIdError(flag, text, 'is not a numeric id; write a number from 0 to 4294967294, e.g. 2102'));
  }
  return ok(id);
}

function parseSubnets(flag: string, text: string): Result<Cidr[], InvalidInitSubnetError> {
  if (text.trim() === '') return ok([]);
  const subnets: Cidr[] = [];
  for (const item of text.split(',')) {
    const subnet = parseCidr(item);
    if (!subnet.ok) return err(new InvalidInitSubnetError(flag, item, subnet.error.reason));
    // One rule per network: "10.1.0.0/16" and "10.1.2.3/16" are the same block.
    if (!subnets.some((known) => formatCidr(known) === formatCidr(subnet.value))) subnets.push(subnet.value);
  }
  return ok(subnets);
}

function parseIptablesFamily(flag: string, text: string): Result<IptablesFamily, InvalidIptablesFamilyError> {
  const family = IPTABLES_FAMILIES.find((name) => name === text);
  if (family === undefined) {
    return err(new InvalidIptablesFamilyError(flag, text, `is not supported; write one of ${IPTABLES_FAMILIES.join(', ')}`));
  }
  return ok(family);
}

function take<T, E extends InitArgumentError>(result: Result<T, E>, apply: (value: T) => void): E | undefined {
  if (!result.ok) return result.error;
  apply(result.value);
  return undefined;
}

function splitFlag(argument: string): [string, string | undefined] {
  const at = argument.indexOf('=');
  return argument.startsWith('--') && at > 0 ? [argument.slice(0, at), argument.slice(at + 1)] : [argument, undefined];
}

function example(flag: string): string {
  if (flag === '--skip-subnets') return '10.0.0.0/8';
  if (flag === '--iptables') return 'iptables-nft';
  if (flag.endsWith('-ports')) return '4290,8000-8100';
  if (flag.endsWith('-port')) return '4243';
  return '2102';
}
