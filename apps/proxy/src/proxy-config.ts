// Reads the proxy's settings from WEFT_PROXY_* environment variables, with defaults and errors that name the variable.
import { formatSocketAddress, parseSocketAddress, type SocketAddress } from '@weft/core';

export interface ProxyConfig {
  /** Transparent outbound listener (traffic redirected by iptables). */
  readonly outboundAddr: SocketAddress;
  /** Inbound listener: peer proxies over mTLS and, transparently, unmeshed clients. */
  readonly inboundAddr: SocketAddress;
  /** Tap gRPC server. */
  readonly tapAddr: SocketAddress;
  /** Admin server: /metrics, /ready, /live, /shutdown. */
  readonly adminAddr: SocketAddress;
}

/** Each setting, its variable and its default; docs/configuration.md lists the same table. */
export const PROXY_ENV_DEFAULTS = {
  WEFT_PROXY_OUTBOUND_ADDR: '127.0.0.1:4240',
  WEFT_PROXY_INBOUND_ADDR: '0.0.0.0:4243',
  WEFT_PROXY_TAP_ADDR: '0.0.0.0:4290',
  WEFT_PROXY_ADMIN_ADDR: '127.0.0.1:4291',
} as const;

export class ProxyConfigError extends Error {
  override readonly name = 'ProxyConfigError';

  constructor(readonly problems: readonly string[]) {
    super(`the proxy's environment is not valid:\n  ${problems.join('\n  ')}`);
  }
}

/** Reads every setting and reports all bad ones at once, so a user fixes them in one go. */
export function readProxyConfig(env: Readonly<Record<string, string | undefined>>): ProxyConfig {
  const problems: string[] = [];
  const address = (variable: keyof typeof PROXY_ENV_DEFAULTS): SocketAddress => {
    const raw = env[variable] ?? PROXY_ENV_DEFAULTS[variable];
    const parsed = parseSocketAddress(raw);
    if (parsed.ok) return parsed.value;
    problems.push(`${variable}=${JSON.stringify(raw)}: ${parsed.error.reason} (expected ip:port, e.g. ${PROXY_ENV_DEFAULTS[variable]})`);
    return { ip: '0.0.0.0', port: 0 };
  };
  const config: ProxyConfig = {
    outboundAddr: address('WEFT_PROXY_OUTBOUND_ADDR'),
    inboundAddr: address('WEFT_PROXY_INBOUND_ADDR'),
    tapAddr: address('WEFT_PROXY_TAP_ADDR'),
    adminAddr: address('WEFT_PROXY_ADMIN_ADDR'),
  };
  if (problems.length > 0) throw new ProxyConfigError(problems);
  return config;
}

/** The settings as `VARIABLE=value` lines, as the proxy logs them at start. */
export function describeProxyConfig(config: ProxyConfig): Record<string, string> {
  return {
    outbound: formatSocketAddress(config.outboundAddr),
    inbound: formatSocketAddress(config.inboundAddr),
    tap: formatSocketAddress(config.tapAddr),
    admin: formatSocketAddress(config.adminAddr),
  };
}
