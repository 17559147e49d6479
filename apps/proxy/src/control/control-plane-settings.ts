// Reads the control-plane settings (WEFT_PROXY_CONTROL_ADDR, _CONTROL_STATE_TTL): where discovery and policy come from.
import { DEFAULT_LAST_KNOWN_TTL_MS } from '@weft/adapter-grpc';
import { formatDuration, formatSocketAddress, type Milliseconds, parseDuration, parseSocketAddress, type SocketAddress } from '@weft/core';

/** Present in ProxyConfig when the proxy takes endpoints, profiles and inbound policy from a control plane. */
export interface ControlPlaneSettings {
  /** The control plane's gRPC address (Destination and Policy services), e.g. 127.0.0.1:8086. */
  readonly addr: SocketAddress;
  /** How long the last known state of a watch is served while the control plane is away. */
  readonly stateTtlMs: Milliseconds;
}

/** Each variable and its default; docs/configuration.md lists the same. */
export const CONTROL_PLANE_ENV_DEFAULTS = {
  /** `ip:port` of the control plane; unset, the proxy runs standalone (WEFT_PROXY_ENDPOINTS, DNS). */
  WEFT_PROXY_CONTROL_ADDR: '',
  /** A duration, e.g. `10m`; the gRPC clients' default. */
  WEFT_PROXY_CONTROL_STATE_TTL: formatDuration(DEFAULT_LAST_KNOWN_TTL_MS),
} as const;

/** Node's timers hold at most 2^31 - 1 ms (about 24.8 days); a longer time to live would fire at once. */
const MAX_STATE_TTL_MS = 24 * 60 * 60_000;
const ADDR_EXAMPLE = '127.0.0.1:8086';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The control-plane settings in `env`, or undefined when WEFT_PROXY_CONTROL_ADDR is unset or empty (standalone). Each
 * problem is pushed onto `problems`, naming its variable: a bad address or time to live, a time to live without an
 * address, and WEFT_PROXY_ENDPOINTS set beside an address (two sources of endpoints; the proxy would not say which wins).
 */
export function readControlPlaneSettings(env: Env, problems: string[]): ControlPlaneSettings | undefined {
  const addrText = given(env, 'WEFT_PROXY_CONTROL_ADDR');
  const ttlText = given(env, 'WEFT_PROXY_CONTROL_STATE_TTL');
  if (addrText === undefined) {
    if (ttlText !== undefined) {
      problems.push(
        'WEFT_PROXY_CONTROL_STATE_TTL is set but WEFT_PROXY_CONTROL_ADDR is not; the time to live is for state from a control plane: set WEFT_PROXY_CONTROL_ADDR too, or unset WEFT_PROXY_CONTROL_STATE_TTL',
      );
    }
    return undefined;
  }
  const before = problems.length;
  const addr = readControlAddr(addrText, problems);
  const stateTtlMs = ttlText === undefined ? DEFAULT_LAST_KNOWN_TTL_MS : readStateTtl(ttlText, problems);
  if (given(env, 'WEFT_PROXY_ENDPOINTS') !== undefined) {
    problems.push(
      'WEFT_PROXY_ENDPOINTS and WEFT_PROXY_CONTROL_ADDR are both set; endpoints come from the control plane when WEFT_PROXY_CONTROL_ADDR is set: unset WEFT_PROXY_ENDPOINTS (or WEFT_PROXY_CONTROL_ADDR to run standalone)',
    );
  }
  if (problems.length > before || addr === undefined || stateTtlMs === undefined) return undefined;
  return { addr, stateTtlMs };
}

/** The settings as `name: value` pairs for the start-up log; nothing when the proxy runs standalone. */
export function describeControlPlaneSettings(settings: ControlPlaneSettings | undefined): Record<string, string> {
  if (settings === undefined) return {};
  return { controlPlane: formatSocketAddress(settings.addr), controlStateTtl: formatDuration(settings.stateTtlMs) };
}

/**
 * With a control plane and no WEFT_PROXY_IDENTITY_ADDR of its own, the identity client goes to the control plane's
 * address too: one variable points the proxy at its control plane.
 */
export function identityAddrDefault(env: Env, control: ControlPlaneSettings | undefined): SocketAddress | undefined {
  return control !== undefined && given(env, 'WEFT_PROXY_IDENTITY_ADDR') === undefined ? control.addr : undefined;
}

function given(env: Env, variable: string): string | undefined {
  const raw = env[variable];
  return raw === undefined || raw.trim() === '' ? undefined : raw;
}

function readControlAddr(raw: string, problems: string[]): SocketAddress | undefined {
  const problem = (reason: string): undefined => {
    problems.push(`WEFT_PROXY_CONTROL_ADDR=${JSON.stringify(raw)}: ${reason}`);
    return undefined;
  };
  const parsed = parseSocketAddress(raw.trim());
  if (!parsed.ok) return problem(`${parsed.error.reason} (expected the control plane's ip:port, e.g. ${ADDR_EXAMPLE})`);
  const { ip } = parsed.value;
  if (ip === '0.0.0.0' || ip === '::') {
    return problem(`${ip} is an address to listen on, not one to connect to; write the control plane's own IP, e.g. ${ADDR_EXAMPLE}`);
  }
  return parsed.value;
}

function readStateTtl(raw: string, problems: string[]): Milliseconds | undefined {
  const problem = (reason: string): undefined => {
    problems.push(`WEFT_PROXY_CONTROL_STATE_TTL=${JSON.stringify(raw)}: ${reason}`);
    return undefined;
  };
  const example = CONTROL_PLANE_ENV_DEFAULTS.WEFT_PROXY_CONTROL_STATE_TTL;
  const parsed = parseDuration(raw.trim());
  if (!parsed.ok) return problem(`${parsed.error.reason} (expected a duration, e.g. ${example})`);
  if (parsed.value <= 0) return problem(`must be longer than 0 (expected a duration, e.g. ${example})`);
  if (parsed.value > MAX_STATE_TTL_MS) return problem(`is longer than ${formatDuration(MAX_STATE_TTL_MS)}; write at most 24h, e.g. ${example}`);
  return parsed.value;
}
