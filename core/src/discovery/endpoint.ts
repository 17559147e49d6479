// Endpoint: one address behind a service, with its balancing weight, metric labels, TLS identity and protocol hint.
import { InvalidInputError } from '../shared/invalid-input-error.js';
import { err, ok, type Result } from '../shared/result.js';
import { formatSocketAddress, parseAuthority, parseSocketAddress, type SocketAddress } from './authority.js';
import { parseIp } from './ip-address.js';

export class InvalidEndpointError extends InvalidInputError {
  readonly kind = 'endpoint';
}

/** How the peer proxy wants to be spoken to: HTTP/1, HTTP/2 between proxies, or bytes passed through. */
export type EndpointProtocolHint = 'http1' | 'h2' | 'opaque';

export interface Endpoint {
  readonly address: SocketAddress;
  /** Relative share of traffic; 0 keeps the endpoint known but idle. */
  readonly weight: number;
  /** Metric labels such as pod, namespace, serviceaccount, zone. */
  readonly labels: Readonly<Record<string, string>>;
  /** DNS-like identity name of the peer proxy, sent as SNI and expected in its certificate's SAN; absent if unmeshed. */
  readonly tlsIdentity?: string;
  readonly protocolHint?: EndpointProtocolHint;
  /**
   * The inbound port of the endpoint's proxy. When set with `tlsIdentity`, a client proxy connects there over mTLS
   * and sends a transport header naming `address.port`, instead of connecting to `address` directly.
   */
  readonly proxyInboundPort?: number;
}

export const DEFAULT_ENDPOINT_WEIGHT = 10_000;
/** Weights travel as uint32 on the wire. */
export const MAX_ENDPOINT_WEIGHT = 0xffff_ffff;

export interface EndpointInit {
  /** A socket address, or its text "10.0.0.1:8080" / "[::1]:8080". */
  readonly address: SocketAddress | string;
  readonly weight?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly tlsIdentity?: string;
  readonly protocolHint?: EndpointProtocolHint;
  readonly proxyInboundPort?: number;
}

/** Builds an endpoint, checking the address, port, weight and identity; the IP is put in canonical form. */
export function makeEndpoint(init: EndpointInit): Result<Endpoint, InvalidEndpointError> {
  const input = typeof init.address === 'string' ? init.address : formatSocketAddress(init.address);
  const fail = (reason: string) => err(new InvalidEndpointError(input, reason));
  const address = readAddress(init.address);
  if (typeof address === 'string') return fail(address);
  const weight = init.weight ?? DEFAULT_ENDPOINT_WEIGHT;
  if (!Number.isInteger(weight) || weight < 0 || weight > MAX_ENDPOINT_WEIGHT) {
    return fail(`weight ${weight} is not a whole number from 0 to ${MAX_ENDPOINT_WEIGHT}; the default is ${DEFAULT_ENDPOINT_WEIGHT}`);
  }
  const endpoint: { -readonly [K in keyof Endpoint]: Endpoint[K] } = {
    address,
    weight,
    labels: Object.freeze({ ...init.labels }),
  };
  if (init.tlsIdentity !== undefined) {
    const identity = readIdentity(init.tlsIdentity);
    if (!identity.ok) return fail(identity.error);
    endpoint.tlsIdentity = identity.value;
  }
  if (init.protocolHint !== undefined) endpoint.protocolHint = init.protocolHint;
  if (init.proxyInboundPort !== undefined) {
    const port = init.proxyInboundPort;
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      return fail(`proxy inbound port ${port} is out of range; write a port from 1 to 65535 (the default is 4243)`);
    }
    endpoint.proxyInboundPort = port;
  }
  return ok(Object.freeze(endpoint));
}

function readAddress(address: SocketAddress | string): SocketAddress | string {
  if (typeof address === 'string') {
    const parsed = parseSocketAddress(address);
    return parsed.ok ? parsed.value : parsed.error.reason;
  }
  if (!Number.isInteger(address.port) || address.port < 1 || address.port > 65_535) {
    return `port ${address.port} is out of range; write a port from 1 to 65535`;
  }
  const ip = parseIp(address.ip);
  if ('problem' in ip) return `IP "${address.ip}" is not valid: ${ip.problem}`;
  return Object.freeze({ ip: ip.ip, port: address.port });
}

/** A DNS-like name such as "web.shop.serviceaccount.identity.weft.cluster.local", lowercased, without a trailing dot. */
function readIdentity(identity: string): Result<string, string> {
  const parsed = parseAuthority(identity);
  if (!parsed.ok || parsed.value.kind === 'ip' || identity.includes(':')) {
    return err(`TLS identity "${identity}" is not a DNS-like name such as "web.shop.serviceaccount.identity.weft.cluster.local"`);
  }
  return ok(identity.toLowerCase().replace(/\.$/, ''));
}
