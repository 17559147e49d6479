// Authorities: the "host:port" a client asks for, read as a Kubernetes service, an IP address or a DNS name.
import { dnsNameProblem } from '../shared/dns-name.js';
import { InvalidInputError } from '../shared/invalid-input-error.js';
import { err, ok, type Result } from '../shared/result.js';
import { parseIpv4, parseIpv6 } from './ip-address.js';
import { readPortNumber } from './port-number.js';

export class InvalidAuthorityError extends InvalidInputError {
  readonly kind = 'authority';
}

/** The `defaultPort` option of parseAuthority is not a port; the input is the option's value as text. */
export class InvalidDefaultPortError extends InvalidInputError {
  readonly kind = 'default port';
}

/** A service in the cluster, addressed by name and namespace. */
export interface ServiceAuthority {
  readonly kind: 'service';
  readonly name: string;
  readonly namespace: string;
  readonly port: number;
  /** name.namespace.svc.<cluster domain>, lowercase, without a trailing dot. */
  readonly fqdn: string;
}

/** An IP address: IPv4 as a dotted quad, IPv6 in its RFC 5952 form (compressed, lowercase). */
export interface IpAuthority {
  readonly kind: 'ip';
  readonly ip: string;
  readonly family: 4 | 6;
  readonly port: number;
}

/** Any other host name, resolved through DNS; lowercase, without a trailing dot. */
export interface DnsAuthority {
  readonly kind: 'dns';
  readonly host: string;
  readonly port: number;
}

export type Authority = ServiceAuthority | IpAuthority | DnsAuthority;

/** The address of one socket: an IP in canonical form and a port. */
export interface SocketAddress {
  readonly ip: string;
  readonly port: number;
}

export interface ParseAuthorityOptions {
  /** Namespace of a bare service name such as "web"; default "default". */
  readonly defaultNamespace?: string;
  /** Suffix of service names after ".svc"; default "cluster.local". */
  readonly clusterDomain?: string;
  /** Port when the input names none, 1-65535; default 80. Any other value makes every parse fail. */
  readonly defaultPort?: number;
}

/**
 * Reads an authority such as "web", "web.shop:8080", "web.shop.svc.cluster.local.", "10.0.0.1:80",
 * "[::1]:8080", "fe80::1" or "api.example.com:443". Names of one to three labels ("name", "name.ns",
 * "name.ns.svc") and names under ".svc.<clusterDomain>" are services; other names are DNS names.
 * Note that a two-label name such as "example.com" is therefore read as service "example" in namespace "com";
 * write "example.com." for the DNS name.
 *
 * A trailing dot makes a name absolute, as in DNS: it is not completed with a namespace or the cluster domain,
 * so "web." and "web.shop." are DNS names, and only the full "name.ns.svc.<clusterDomain>." is a service.
 * Ports are plain decimal 1-65535; a leading zero ("web:080") is refused, as parseServerPort does.
 */
export function parseAuthority(
  input: string,
  options: ParseAuthorityOptions = {},
): Result<Authority, InvalidAuthorityError | InvalidDefaultPortError> {
  const { defaultPort = 80 } = options;
  if (!Number.isInteger(defaultPort) || defaultPort < 1 || defaultPort > 65_535) {
    const reason = 'is not a port; the defaultPort option of parseAuthority takes a whole number from 1 to 65535';
    return err(new InvalidDefaultPortError(String(defaultPort), reason));
  }
  const fail = (reason: string) => err(new InvalidAuthorityError(input, reason));
  const shape = checkShape(input);
  if (shape) return fail(shape);
  const split = splitHostPort(input, defaultPort);
  if ('problem' in split) return fail(split.problem);
  const { host, port, bracketed } = split;
  if (bracketed || host.includes(':')) {
    const v6 = parseIpv6(host);
    return 'problem' in v6 ? fail(v6.problem) : ok({ kind: 'ip', ip: v6.ip, family: 6, port });
  }
  if (/^[0-9.]+$/.test(host)) {
    const v4 = parseIpv4(host);
    return 'problem' in v4 ? fail(v4.problem) : ok({ kind: 'ip', ip: v4.ip, family: 4, port });
  }
  return readName(host.toLowerCase(), port, options, fail);
}

/**
 * Writes an authority the way parseAuthority reads it back, e.g. "web.default.svc.cluster.local:8080", "[::1]:8080".
 * A DNS name that would read as a service's short form ("web", "example.com", "a.b.svc") is written absolute,
 * with its trailing dot: "example.com.:443".
 */
export function formatAuthority(authority: Authority): string {
  switch (authority.kind) {
    case 'service':
      return `${authority.fqdn}:${authority.port}`;
    case 'ip':
      return formatSocketAddress(authority);
    case 'dns':
      return `${authority.host}${readsAsShortService(authority.host) ? '.' : ''}:${authority.port}`;
  }
}

// "name", "name.ns" and "name.ns.svc" are completed into service names unless written with a trailing dot.
function readsAsShortService(host: string): boolean {
  const labels = host.split('.');
  return labels.length < 3 || (labels.length === 3 && labels[2] === 'svc');
}

/** Reads "1.2.3.4:80" or "[2001:db8::1]:443": an IP address and a port, both required. */
export function parseSocketAddress(input: string): Result<SocketAddress, InvalidAuthorityError> {
  const fail = (reason: string) => err(new InvalidAuthorityError(input, reason));
  const shape = checkShape(input);
  if (shape) return fail(shape);
  const split = splitHostPort(input, undefined);
  if ('problem' in split) return fail(split.problem);
  const { host, port, bracketed } = split;
  if (!bracketed && !/^[0-9.]+$/.test(host)) {
    return fail(`host "${host}" is not an IP address; a socket address is e.g. "10.0.0.1:8080" or "[::1]:8080"`);
  }
  const parsed = bracketed ? parseIpv6(host) : parseIpv4(host);
  if ('problem' in parsed) {
    return fail(`${parsed.problem}; a socket address is an IP and a port, e.g. "10.0.0.1:8080" or "[::1]:8080"`);
  }
  return ok({ ip: parsed.ip, port });
}

/** Writes "10.0.0.1:80" or "[::1]:8080". */
export function formatSocketAddress(address: SocketAddress): string {
  return address.ip.includes(':') ? `[${address.ip}]:${address.port}` : `${address.ip}:${address.port}`;
}

/** Catches what is never part of an authority: emptiness, spaces, schemes, user info, paths. */
function checkShape(input: string): string | undefined {
  if (input === '') return 'is empty; write a host and port such as "web.default:8080"';
  if (/\s/.test(input)) return 'contains whitespace; write the host and port alone, e.g. "web.default:8080"';
  if (input.includes('://')) return 'has a scheme; write only the host and port, e.g. "example.com:443" for "https://example.com"';
  if (input.includes('@')) return 'has user info ("user@"); write only the host and port';
  if (/[/?#]/.test(input)) return 'has a path, query or fragment; write only the host and port';
  return undefined;
}

type HostPort = { host: string; port: number; bracketed: boolean } | { problem: string };

/** Splits "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6; without `defaultPort` the port is required. */
function splitHostPort(input: string, defaultPort: number | undefined): HostPort {
  if (input.startsWith('[')) {
    const close = input.indexOf(']');
    if (close < 0) return { problem: 'has "[" without "]"; write an IPv6 address as "[::1]:8080"' };
    const rest = input.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return { problem: `unexpected "${rest}" after "]"; write "[::1]:8080"` };
    return withPort(input.slice(1, close), rest === '' ? undefined : rest.slice(1), defaultPort, true);
  }
  const colons = input.split(':').length - 1;
  if (colons >= 2) return bareIpv6(input, defaultPort);
  const [host, port] = input.split(':') as [string, string | undefined];
  return withPort(host, port, defaultPort, false);
}

function withPort(host: string, portText: string | undefined, defaultPort: number | undefined, bracketed: boolean): HostPort {
  if (host === '') return { problem: 'has no host; write e.g. "web.default:8080"' };
  if (portText === undefined) {
    return defaultPort === undefined ? { problem: 'has no port; add one, e.g. ":8080"' } : { host, port: defaultPort, bracketed };
  }
  if (portText === '') return { problem: 'has an empty port after ":"; write a port from 1 to 65535 or leave out the ":"' };
  const port = readPortNumber(portText);
  return typeof port === 'number' ? { host, port, bracketed } : port;
}

/** A bare IPv6 has no port; "2001:db8::1:8080"-like text that is not an address was probably meant with brackets. */
function bareIpv6(input: string, defaultPort: number | undefined): HostPort {
  const v6 = parseIpv6(input);
  const lastColon = input.lastIndexOf(':');
  const withoutPort = input.slice(0, lastColon);
  const looksLikePort = /^[0-9]+$/.test(input.slice(lastColon + 1));
  if ('problem' in v6 && looksLikePort && !('problem' in parseIpv6(withoutPort))) {
    return { problem: `an IPv6 address with a port needs brackets; write "[${withoutPort}]:${input.slice(lastColon + 1)}"` };
  }
  if ('problem' in v6) return { problem: v6.problem };
  if (defaultPort === undefined) return { problem: 'has no port; write an IPv6 address with its port as "[::1]:8080"' };
  return { host: input, port: defaultPort, bracketed: true };
}

type Fail = (reason: string) => Result<Authority, InvalidAuthorityError>;

/** Checks a lowercase RFC 1123 host name and decides whether it names a cluster service or a DNS host. */
function readName(raw: string, port: number, options: ParseAuthorityOptions, fail: Fail): Result<Authority, InvalidAuthorityError> {
  const absolute = raw.endsWith('.');
  const host = absolute ? raw.slice(0, -1) : raw;
  const problem = dnsNameProblem(host);
  if (problem !== undefined) return fail(`host name ${problem}`);
  const clusterDomain = (options.clusterDomain ?? 'cluster.local').toLowerCase().replace(/\.$/, '');
  const service = serviceParts(host.split('.'), clusterDomain, absolute);
  if (!service) return ok({ kind: 'dns', host, port });
  const [name, namespace = options.defaultNamespace ?? 'default'] = service;
  return ok({ kind: 'service', name, namespace, port, fqdn: `${name}.${namespace}.svc.${clusterDomain}` });
}

/**
 * [name] or [name, namespace] when the labels name a service: name, name.ns, name.ns.svc, name.ns.svc.<domain>.
 * An absolute name (written with a trailing dot) is never completed, so only the last, full form counts.
 */
function serviceParts(labels: readonly string[], domain: string, absolute: boolean): [string, string?] | undefined {
  const [name, namespace, svc, ...rest] = labels as [string, string?, string?, ...string[]];
  if (namespace === undefined) return absolute ? undefined : [name];
  if (svc === undefined) return absolute ? undefined : [name, namespace];
  if (svc !== 'svc') return undefined;
  if (rest.join('.') === domain || (rest.length === 0 && !absolute)) return [name, namespace];
  return undefined;
}
