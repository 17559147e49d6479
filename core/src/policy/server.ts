// The Server resource: a port of the workloads it selects, how traffic there is read, and its access policy.
import type { DefaultPolicy } from './default-policy.js';
import { readPortNumber } from '../discovery/port-number.js';
import { InvalidInputError } from '../shared/invalid-input-error.js';
import { err, ok, type Result } from '../shared/result.js';

/** How the proxy reads traffic on a Server's port; `unknown` means detect HTTP, else treat as opaque. */
export const policyProxyProtocols = ['unknown', 'HTTP/1', 'HTTP/2', 'gRPC', 'opaque', 'TLS'] as const;

export type PolicyProxyProtocol = (typeof policyProxyProtocols)[number];

/** A port (by number, or by the name a container gives it) on the workloads of one namespace that match a selector. */
export interface PolicyServer {
  readonly name: string;
  readonly namespace: string;
  /** A port number, or a named container port such as "http". */
  readonly port: number | string;
  /** Labels a workload must all carry to be selected; an empty selector selects every workload of the namespace. */
  readonly workloadSelector: Readonly<Record<string, string>>;
  readonly proxyProtocol: PolicyProxyProtocol;
  /** Extra authorizations every client of the Server gets; unset means none (Linkerd's `deny`). */
  readonly accessPolicy?: DefaultPolicy;
}

export class InvalidProxyProtocolError extends InvalidInputError {
  readonly kind = 'proxy protocol';
}

export class InvalidServerPortError extends InvalidInputError {
  readonly kind = 'server port';
}

/** Reads one of unknown, HTTP/1, HTTP/2, gRPC, opaque, TLS (spelled exactly so). */
export function parseProxyProtocol(input: string): Result<PolicyProxyProtocol, InvalidProxyProtocolError> {
  const known = policyProxyProtocols.find((protocol) => protocol === input.trim());
  if (known !== undefined) return ok(known);
  const near = policyProxyProtocols.find((protocol) => protocol.toLowerCase() === input.trim().toLowerCase());
  const hint = near === undefined ? '' : ` (write "${near}")`;
  const reason = `is not a proxy protocol${hint}; use one of ${policyProxyProtocols.join(', ')}`;
  return err(new InvalidProxyProtocolError(input, reason));
}

const portName = /^(?=.*[a-z])[a-z0-9](?:[a-z0-9]|-(?!-))*$/;

/**
 * Reads a port number 1-65535 ("8080" or 8080) or a container port name (IANA service name, e.g. "http").
 * A leading zero ("080") is refused, as parseAuthority does.
 */
export function parseServerPort(input: string | number): Result<number | string, InvalidServerPortError> {
  const text = String(input).trim();
  if (/^[0-9]+$/.test(text)) {
    const port = readPortNumber(text);
    return typeof port === 'number' ? ok(port) : err(new InvalidServerPortError(String(input), port.problem));
  }
  if (text.length <= 15 && portName.test(text) && !text.endsWith('-')) return ok(text);
  return err(
    new InvalidServerPortError(
      String(input),
      'is neither a port number (1-65535) nor a port name ' +
        '(1-15 lowercase letters, digits and single "-", with at least one letter)',
    ),
  );
}

/** True when the Server is in the workload's namespace and its selector matches the workload's labels. */
export function serverSelectsWorkload(
  server: PolicyServer,
  namespace: string,
  workloadLabels: Readonly<Record<string, string>>,
): boolean {
  if (server.namespace !== namespace) return false;
  return Object.entries(server.workloadSelector).every(([key, value]) => workloadLabels[key] === value);
}

/** True when the Server's port is `port`, directly or through the workload's named ports. */
export function serverSelectsPort(
  server: PolicyServer,
  port: number,
  portNames: Readonly<Record<string, number>> = {},
): boolean {
  if (typeof server.port === 'number') return server.port === port;
  return Object.hasOwn(portNames, server.port) && portNames[server.port] === port;
}
