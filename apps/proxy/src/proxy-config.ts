// Reads the proxy's settings from WEFT_PROXY_* environment variables, with defaults and errors that name the variable.
import {
  type Authority,
  formatAuthority,
  formatDuration,
  formatSocketAddress,
  type Milliseconds,
  parseAuthority,
  parseDuration,
  parseSocketAddress,
  type SocketAddress,
  unwrap,
} from '@weft/core';
import { hostname } from 'node:os';
import {
  CONTROL_PLANE_ENV_DEFAULTS,
  type ControlPlaneSettings,
  describeControlPlaneSettings,
  identityAddrDefault,
  readControlPlaneSettings,
} from './control/control-plane-settings.js';
import {
  describeInboundPolicySettings,
  INBOUND_POLICY_ENV_DEFAULTS,
  type InboundPolicySettings,
  readInboundPolicySettings,
} from './inbound/inbound-policy-settings.js';
import { describeIdentitySettings, IDENTITY_ENV_DEFAULTS, type IdentitySettings, readIdentitySettings } from './identity/identity-settings.js';
import { parseTapDenyHeaders, type TapHeaderDenyList } from './tap/tap-header-deny-list.js';

/** A named upstream service of local mode: the app connects to 127.0.0.1:<listen port> to reach `authority`. */
export interface UpstreamConfig {
  /** A short name for logs, e.g. "books". */
  readonly name: string;
  /** The service the connections go to, resolved through discovery. */
  readonly authority: Authority;
  /** The loopback address the proxy listens on for this upstream. */
  readonly listenAddr: SocketAddress;
}

export interface ProxyConfig {
  /** Transparent outbound listener (traffic redirected by iptables). */
  readonly outboundAddr: SocketAddress;
  /** Inbound listener: peer proxies over mTLS and, transparently, unmeshed clients. */
  readonly inboundAddr: SocketAddress;
  /** Tap gRPC server. */
  readonly tapAddr: SocketAddress;
  /** Admin server: /metrics, /ready, /live, /shutdown. */
  readonly adminAddr: SocketAddress;
  /** Where inbound traffic goes: the local application. */
  readonly inboundAppAddr: SocketAddress;
  /** Local mode: one loopback listener per named upstream service. */
  readonly upstreams: readonly UpstreamConfig[];
  /** Connections to these ports skip protocol detection and are forwarded as opaque TCP. */
  readonly opaquePorts: PortSet;
  /** How long detection waits for the client's first bytes before treating the connection as opaque TCP. */
  readonly detectTimeoutMs: Milliseconds;
  /** How long one connection attempt to an endpoint or the app may take. */
  readonly connectTimeoutMs: Milliseconds;
  /** How long a connection waits for an endpoint that accepts it before it is closed. */
  readonly failFastTimeoutMs: Milliseconds;
  /** Standalone mode: endpoints given in the environment instead of by a control plane. */
  readonly staticEndpoints: readonly StaticService[];
  /** How long a shutdown lets in-flight requests and connections finish before closing them. */
  readonly shutdownGracePeriodMs: Milliseconds;
  /** Whether POST /shutdown on the admin port (from loopback only) may stop the proxy. */
  readonly shutdownEndpointEnabled: boolean;
  /**
   * A sidecar behind weft-init (WEFT_PROXY_TRANSPARENT): every inbound connection goes to the app on the IP of
   * `inboundAppAddr` at the port its client asked for, the transport header's port for mesh sessions, the original
   * destination's port for redirected plaintext, so one proxy serves all of the app's ports.
   */
  readonly transparent: boolean;
  /** Headers the tap never shows: the defaults (credentials, cookies, *token*, *secret*) plus these. */
  readonly tapDenyList: TapHeaderDenyList;
  /** Who the proxy is and how it gets its certificate; absent, the proxy has no identity and no mTLS. */
  readonly identity?: IdentitySettings;
  /** WEFT_PROXY_DEFAULT_INBOUND_POLICY, _CLUSTER_NETWORKS, _POLICY_WORKLOAD: see inbound/inbound-policy-settings.ts. */
  readonly inboundPolicy?: InboundPolicySettings;
  /** WEFT_PROXY_CONTROL_ADDR, _CONTROL_STATE_TTL; absent, the proxy runs standalone. See control/control-plane-settings.ts. */
  readonly control?: ControlPlaneSettings;
}

/** One service of WEFT_PROXY_ENDPOINTS and its instances. */
export interface StaticService {
  readonly authority: Authority;
  readonly addresses: readonly SocketAddress[];
}

/** Each setting, its variable and its default; docs/configuration.md lists the same table. */
export const PROXY_ENV_DEFAULTS = {
  WEFT_PROXY_OUTBOUND_ADDR: '127.0.0.1:4240',
  WEFT_PROXY_INBOUND_ADDR: '0.0.0.0:4243',
  WEFT_PROXY_TAP_ADDR: '0.0.0.0:4290',
  WEFT_PROXY_ADMIN_ADDR: '127.0.0.1:4291',
  WEFT_PROXY_INBOUND_APP_ADDR: '127.0.0.1:8080',
  /** `name=authority@listenPort`, comma separated, e.g. `books=books.shop.svc.cluster.local:7000@4301`; none by default. */
  WEFT_PROXY_UPSTREAMS: '',
  /** Ports and ranges, e.g. `5432,6000-6010`; Linkerd's server-speaks-first defaults. An empty value detects on every port. */
  WEFT_PROXY_OPAQUE_PORTS: '25,587,3306,4444,5432,6379,9300,11211',
  WEFT_PROXY_DETECT_TIMEOUT: '10s',
  WEFT_PROXY_CONNECT_TIMEOUT: '1s',
  WEFT_PROXY_FAIL_FAST_TIMEOUT: '3s',
  WEFT_PROXY_ENDPOINTS: '',
  WEFT_PROXY_SHUTDOWN_GRACE_PERIOD: '120s',
  WEFT_PROXY_SHUTDOWN_ENDPOINT_ENABLED: 'false',
  /** `true` for a sidecar behind weft-init: inbound connections go to the app port the client asked for. */
  WEFT_PROXY_TRANSPARENT: 'false',
  WEFT_PROXY_TAP_DENY_HEADERS: '',
  /** WEFT_PROXY_IDENTITY_*: see identity/identity-settings.ts. */
  ...IDENTITY_ENV_DEFAULTS,
  /** WEFT_PROXY_DEFAULT_INBOUND_POLICY, _CLUSTER_NETWORKS, _POLICY_WORKLOAD: see inbound/inbound-policy-settings.ts. */
  ...INBOUND_POLICY_ENV_DEFAULTS,
  /** WEFT_PROXY_CONTROL_ADDR, _CONTROL_STATE_TTL: see control/control-plane-settings.ts. */
  ...CONTROL_PLANE_ENV_DEFAULTS,
} as const;

type ProxyEnvVariable = keyof typeof PROXY_ENV_DEFAULTS;
type Env = Readonly<Record<string, string | undefined>>;

export class ProxyConfigError extends Error {
  override readonly name = 'ProxyConfigError';

  constructor(readonly problems: readonly string[]) {
    super(`the proxy's environment is not valid:\n  ${problems.join('\n  ')}`);
  }
}

/** A set of TCP ports kept as sorted, merged ranges, e.g. "25,587,6000-6010". */
export class PortSet {
  readonly ranges: readonly (readonly [number, number])[];

  constructor(ranges: readonly (readonly [number, number])[]) {
    const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const [from, to] of sorted) {
      const last = merged[merged.length - 1];
      if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
      else merged.push([from, to]);
    }
    this.ranges = merged;
  }

  has(port: number): boolean {
    return this.ranges.some(([from, to]) => port >= from && port <= to);
  }

  toString(): string {
    return this.ranges.map(([from, to]) => (from === to ? `${from}` : `${from}-${to}`)).join(',');
  }
}

/**
 * Reads every setting and reports all bad ones at once, so a user fixes them in one go. `hostName` names the
 * workload whose inbound policy is watched when WEFT_PROXY_POLICY_WORKLOAD is unset.
 */
export function readProxyConfig(env: Env, hostName: string = hostname()): ProxyConfig {
  const problems: string[] = [];
  const read = <T>(variable: ProxyEnvVariable, parse: (raw: string) => T | Problem, fallback: T): T => {
    const raw = env[variable] ?? PROXY_ENV_DEFAULTS[variable];
    const parsed = parse(raw);
    if (!(parsed instanceof Problem)) return parsed;
    problems.push(`${variable}=${JSON.stringify(raw)}: ${parsed.reason}`);
    return fallback;
  };
  const address = (variable: ProxyEnvVariable) => read(variable, (raw) => readAddress(raw, PROXY_ENV_DEFAULTS[variable]), NO_ADDRESS);
  const duration = (variable: ProxyEnvVariable) => read(variable, (raw) => readPositiveDuration(raw, PROXY_ENV_DEFAULTS[variable]), 1);
  const config: ProxyConfig = {
    outboundAddr: address('WEFT_PROXY_OUTBOUND_ADDR'),
    inboundAddr: address('WEFT_PROXY_INBOUND_ADDR'),
    tapAddr: address('WEFT_PROXY_TAP_ADDR'),
    adminAddr: address('WEFT_PROXY_ADMIN_ADDR'),
    inboundAppAddr: address('WEFT_PROXY_INBOUND_APP_ADDR'),
    upstreams: read('WEFT_PROXY_UPSTREAMS', readUpstreams, []),
    opaquePorts: read('WEFT_PROXY_OPAQUE_PORTS', readPortSet, new PortSet([])),
    detectTimeoutMs: duration('WEFT_PROXY_DETECT_TIMEOUT'),
    connectTimeoutMs: duration('WEFT_PROXY_CONNECT_TIMEOUT'),
    failFastTimeoutMs: duration('WEFT_PROXY_FAIL_FAST_TIMEOUT'),
    staticEndpoints: read('WEFT_PROXY_ENDPOINTS', readStaticEndpoints, []),
    shutdownGracePeriodMs: duration('WEFT_PROXY_SHUTDOWN_GRACE_PERIOD'),
    shutdownEndpointEnabled: read('WEFT_PROXY_SHUTDOWN_ENDPOINT_ENABLED', readBoolean, false),
    transparent: read('WEFT_PROXY_TRANSPARENT', readBoolean, false),
    tapDenyList: read('WEFT_PROXY_TAP_DENY_HEADERS', readTapDenyList, DEFAULT_TAP_DENY_LIST),
  };
  const identity = readIdentitySettings(env, problems);
  const inboundPolicy = readInboundPolicySettings(env, problems, hostName);
  const control = readControlPlaneSettings(env, problems);
  problems.push(...listenerClashes(config));
  if (problems.length > 0) throw new ProxyConfigError(problems);
  const certifierAddr = identityAddrDefault(env, control);
  return {
    ...config,
    inboundPolicy,
    ...(identity === undefined ? {} : { identity: certifierAddr === undefined ? identity : { ...identity, certifierAddr } }),
    ...(control === undefined ? {} : { control }),
  };
}

/** The settings as `name: value` pairs, as the proxy logs them at start. */
export function describeProxyConfig(config: ProxyConfig): Record<string, string> {
  const described: Record<string, string> = {
    outbound: formatSocketAddress(config.outboundAddr),
    inbound: formatSocketAddress(config.inboundAddr),
    tap: formatSocketAddress(config.tapAddr),
    admin: formatSocketAddress(config.adminAddr),
    inboundApp: formatSocketAddress(config.inboundAppAddr),
    opaquePorts: config.opaquePorts.toString(),
    detectTimeout: formatDuration(config.detectTimeoutMs),
    connectTimeout: formatDuration(config.connectTimeoutMs),
    failFastTimeout: formatDuration(config.failFastTimeoutMs),
    shutdownGracePeriod: formatDuration(config.shutdownGracePeriodMs),
    shutdownEndpoint: config.shutdownEndpointEnabled ? 'enabled' : 'disabled',
    transparent: config.transparent ? 'on' : 'off',
    tapDenyHeaders: config.tapDenyList.toString(),
    ...(config.identity && describeIdentitySettings(config.identity)),
    ...(config.inboundPolicy && describeInboundPolicySettings(config.inboundPolicy)),
    ...describeControlPlaneSettings(config.control),
  };
  for (const service of config.staticEndpoints) {
    described[`endpoints.${formatAuthority(service.authority)}`] = service.addresses.map(formatSocketAddress).join(',');
  }
  for (const upstream of config.upstreams) {
    described[`upstream.${upstream.name}`] = `${formatSocketAddress(upstream.listenAddr)} -> ${formatAuthority(upstream.authority)}`;
  }
  return described;
}

// ---------------------------------------------------------------- parsers of single values

/** Why a value is bad; a class, so a parser's result is told apart from it by instanceof. */
class Problem {
  constructor(readonly reason: string) {}
}

const NO_ADDRESS: SocketAddress = { ip: '0.0.0.0', port: 0 };

function readAddress(raw: string, example: string): SocketAddress | Problem {
  const parsed = parseSocketAddress(raw);
  return parsed.ok ? parsed.value : new Problem(`${parsed.error.reason} (expected ip:port, e.g. ${example})`);
}

function readPositiveDuration(raw: string, example: string): Milliseconds | Problem {
  const parsed = parseDuration(raw);
  if (!parsed.ok) return new Problem(`${parsed.error.reason} (expected a duration, e.g. ${example})`);
  if (parsed.value <= 0) return new Problem(`must be longer than 0 (expected a duration, e.g. ${example})`);
  return parsed.value;
}

function readPort(text: string): number | Problem {
  if (!/^[0-9]+$/.test(text)) return new Problem(`port "${text}" is not a number; write a port from 1 to 65535`);
  // As in authorities: some tools read a leading zero as octal, so "080" is refused rather than guessed at.
  if (/^0[0-9]/.test(text)) return new Problem(`port "${text}" has a leading zero; write ${Number(text) || 'a port from 1 to 65535'}`);
  const port = Number(text);
  if (port < 1 || port > 65_535) return new Problem(`port ${text} is out of range; write a port from 1 to 65535`);
  return port;
}

/** "25,587,6000-6010": ports and inclusive ranges, comma separated; an empty value is the empty set. */
function readPortSet(raw: string): PortSet | Problem {
  const ranges: [number, number][] = [];
  for (const item of splitList(raw)) {
    const [fromText, toText, extra] = item.split('-').map((part) => part.trim());
    if (extra !== undefined) return new Problem(`"${item}" is not a port or a range; write e.g. "5432" or "6000-6010"`);
    const from = readPort(fromText ?? '');
    const to = toText === undefined ? from : readPort(toText);
    if (from instanceof Problem) return from;
    if (to instanceof Problem) return to;
    if (to < from) return new Problem(`range "${item}" ends before it starts; write the lower port first, e.g. "${to}-${from}"`);
    ranges.push([from, to]);
  }
  return new PortSet(ranges);
}

const UPSTREAM_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const UPSTREAM_SYNTAX = 'write name=authority@listenPort, e.g. "books=books.shop.svc.cluster.local:7000@4301"';
/** host:port or [v6]:port, with the port written out. */
const AUTHORITY_WITH_PORT = /^(\[[^\]]*\]|[^:[\]]+):[0-9]+$/;

/** "books=books.shop.svc.cluster.local:7000@4301,pg=10.0.0.7:5432@4302"; an empty value names no upstream. */
function readUpstreams(raw: string): UpstreamConfig[] | Problem {
  const upstreams: UpstreamConfig[] = [];
  for (const item of splitList(raw)) {
    const upstream = readUpstream(item);
    if (upstream instanceof Problem) return upstream;
    const sameName = upstreams.find((other) => other.name === upstream.name);
    if (sameName) return new Problem(`upstream "${upstream.name}" is named twice; give each upstream its own name`);
    const samePort = upstreams.find((other) => other.listenAddr.port === upstream.listenAddr.port);
    if (samePort) {
      return new Problem(`upstreams "${samePort.name}" and "${upstream.name}" both listen on port ${upstream.listenAddr.port}; give each its own port`);
    }
    upstreams.push(upstream);
  }
  return upstreams;
}

function readUpstream(item: string): UpstreamConfig | Problem {
  const equals = item.indexOf('=');
  // An authority never holds "@" (parseAuthority refuses user info), so the last "@" splits off the listen port.
  const at = item.lastIndexOf('@');
  if (equals < 0 || at < equals) return new Problem(`"${item}" is not an upstream; ${UPSTREAM_SYNTAX}`);
  const name = item.slice(0, equals).trim();
  const authorityText = item.slice(equals + 1, at).trim();
  const portText = item.slice(at + 1).trim();
  if (!UPSTREAM_NAME.test(name)) {
    return new Problem(`upstream name "${name}" in "${item}" is not a lowercase DNS label (a-z, 0-9, "-"); ${UPSTREAM_SYNTAX}`);
  }
  const authority = parseAuthority(authorityText);
  if (!authority.ok) return new Problem(`authority "${authorityText}" of upstream "${name}" ${authority.error.reason}`);
  if (!AUTHORITY_WITH_PORT.test(authorityText)) {
    return new Problem(`authority "${authorityText}" of upstream "${name}" has no port; write it out, e.g. "${authorityText}:80"`);
  }
  const port = readPort(portText);
  if (port instanceof Problem) return new Problem(`listen port of upstream "${name}": ${port.reason}`);
  return { name, authority: authority.value, listenAddr: { ip: '127.0.0.1', port } };
}

/** Comma separated items, trimmed; empty items (a trailing comma) are ignored. */
function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** An upstream port that another listener of the proxy already uses would fail at bind time; say so now. */
function listenerClashes(config: ProxyConfig): string[] {
  const listeners: [ProxyEnvVariable, SocketAddress][] = [
    ['WEFT_PROXY_OUTBOUND_ADDR', config.outboundAddr],
    ['WEFT_PROXY_INBOUND_ADDR', config.inboundAddr],
    ['WEFT_PROXY_TAP_ADDR', config.tapAddr],
    ['WEFT_PROXY_ADMIN_ADDR', config.adminAddr],
  ];
  const clashes: string[] = [];
  for (const upstream of config.upstreams) {
    for (const [variable, address] of listeners) {
      if (address.port !== upstream.listenAddr.port) continue;
      clashes.push(
        `WEFT_PROXY_UPSTREAMS: upstream "${upstream.name}" listens on port ${address.port}, which ${variable} already uses; pick another port`,
      );
    }
  }
  return clashes;
}

function readBoolean(raw: string): boolean | Problem {
  const value = raw.trim().toLowerCase();
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0' || value === '') return false;
  return new Problem(`"${raw}" is not a boolean; write true or false`);
}

const ENDPOINTS_SYNTAX =
  'write authority=ip:port,ip:port;authority=..., e.g. "books.shop.svc.cluster.local:7000=127.0.0.1:9001,127.0.0.1:9002"';

/** "books.shop:7000=127.0.0.1:9001,127.0.0.1:9002;web.shop:80=127.0.0.1:9100"; empty names no service. */
function readStaticEndpoints(raw: string): StaticService[] | Problem {
  const services: StaticService[] = [];
  const seen = new Set<string>();
  for (const entry of raw.split(';').map((part) => part.trim()).filter((part) => part !== '')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) return new Problem(`"${entry}" has no "="; ${ENDPOINTS_SYNTAX}`);
    const authorityText = entry.slice(0, eq).trim();
    const authority = parseAuthority(authorityText);
    if (!authority.ok) return new Problem(`service "${authorityText}": ${authority.error.reason}; ${ENDPOINTS_SYNTAX}`);
    const key = formatAuthority(authority.value);
    if (seen.has(key)) return new Problem(`service ${key} is listed twice; list all its addresses in one entry`);
    seen.add(key);
    const addresses: SocketAddress[] = [];
    for (const text of splitList(entry.slice(eq + 1))) {
      const address = parseSocketAddress(text);
      if (!address.ok) return new Problem(`address "${text}" of ${key}: ${address.error.reason}; addresses are ip:port`);
      addresses.push(address.value);
    }
    services.push({ authority: authority.value, addresses });
  }
  return services;
}

const DEFAULT_TAP_DENY_LIST = unwrap(parseTapDenyHeaders(''));

function readTapDenyList(raw: string): TapHeaderDenyList | Problem {
  const parsed = parseTapDenyHeaders(raw);
  return parsed.ok ? parsed.value : new Problem(parsed.error.reason);
}

