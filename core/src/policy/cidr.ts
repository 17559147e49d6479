// IP addresses and CIDR blocks of both families for network policies: parsing, containment and canonical text.
import { parseIp, parseIpv6 } from '../discovery/ip-address.js';
import { InvalidInputError } from '../shared/invalid-input-error.js';
import { err, ok, type Result } from '../shared/result.js';

export type IpFamily = 4 | 6;

/** An IPv4 (4 bytes) or IPv6 (16 bytes) address. Plain numbers, so it compares, copies and serialises easily. */
export interface IpAddress {
  readonly family: IpFamily;
  readonly bytes: readonly number[];
}

/** A block of addresses: the network address (host bits always zero) and how many leading bits are fixed. */
export interface Cidr {
  readonly family: IpFamily;
  readonly bytes: readonly number[];
  readonly prefixLength: number;
}

export class InvalidIpAddressError extends InvalidInputError {
  readonly kind = 'IP address';
}

export class InvalidCidrError extends InvalidInputError {
  readonly kind = 'CIDR';
}

const maxPrefix: Record<IpFamily, number> = { 4: 32, 6: 128 };
const decimal = /^(0|[1-9][0-9]{0,2})$/;

/** Reads "10.1.2.3" or "fd00::1" (IPv4 without leading zeros, IPv6 in any valid spelling, no zone index). */
export function parseIpAddress(input: string): Result<IpAddress, InvalidIpAddressError> {
  const address = readAddress(input.trim());
  return typeof address === 'string' ? err(new InvalidIpAddressError(input, address)) : ok(address);
}

/**
 * Reads "10.0.0.0/8", "fd00::/8", "::/0", or a bare address (a /32 or /128 block).
 *
 * Host bits may be set ("10.1.2.3/8" is read as 10.0.0.0/8): Kubernetes-style configs often name a network
 * by one of its addresses, and Linkerd reads them the same way. The result is always the normalised network,
 * so formatCidr shows what is actually matched.
 */
export function parseCidr(input: string): Result<Cidr, InvalidCidrError> {
  const text = input.trim();
  if (text === '') {
    return err(new InvalidCidrError(input, 'is empty; write a network such as "10.0.0.0/8" or "fd00::/8"'));
  }
  const [addressText = '', prefixText, ...extra] = text.split('/');
  if (extra.length > 0) {
    return err(new InvalidCidrError(input, 'has more than one "/"; write address/prefix, e.g. "10.0.0.0/8"'));
  }
  const address = readAddress(addressText);
  if (typeof address === 'string') return err(new InvalidCidrError(input, `has a bad address: ${address}`));
  const max = maxPrefix[address.family];
  if (prefixText === undefined) return ok(cidrFromAddress(address, max));
  if (prefixText === '') return err(new InvalidCidrError(input, `has nothing after "/"; add a prefix length 0-${max}`));
  if (!decimal.test(prefixText) || Number(prefixText) > max) {
    const example = address.family === 4 ? '"10.0.0.0/8"' : '"fd00::/8"';
    const reason = `has prefix length "${prefixText}"; an IPv${address.family} prefix is 0-${max}, e.g. ${example}`;
    return err(new InvalidCidrError(input, reason));
  }
  return ok(cidrFromAddress(address, Number(prefixText)));
}

/** The block of the first `prefixLength` bits of `address`, host bits cleared. A bad prefix is a programming error. */
export function cidrFromAddress(address: IpAddress, prefixLength: number): Cidr {
  const max = maxPrefix[address.family];
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > max) {
    throw new RangeError(`cidrFromAddress: prefix length ${prefixLength} is not in 0-${max} for IPv${address.family}`);
  }
  const bytes = address.bytes.map((byte, index) => byte & byteMask(prefixLength, index));
  return { family: address.family, bytes, prefixLength };
}

/**
 * True when `ip` lies in `cidr`. An address of the other family never matches, except that an IPv4-mapped
 * IPv6 address ("::ffff:10.1.2.3", as dual-stack sockets report IPv4 peers) matches IPv4 blocks.
 * Text that is not an IP address matches nothing.
 */
export function cidrContains(cidr: Cidr, ip: string | IpAddress): boolean {
  const address = typeof ip === 'string' ? readAddress(ip) : ip;
  if (typeof address === 'string') return false;
  const candidate = cidr.family === 4 && address.family === 6 ? unmapIpv4(address) : address;
  if (candidate === undefined || candidate.family !== cidr.family) return false;
  const { prefixLength } = cidr;
  return cidr.bytes.every((byte, index) => ((candidate.bytes[index] ?? 0) & byteMask(prefixLength, index)) === byte);
}

/** True when every address of `inner` is in `outer`. */
export function cidrIncludes(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && outer.prefixLength <= inner.prefixLength && cidrContains(outer, inner);
}

/** "10.0.0.0/8", "fd00::/8": the network address in canonical form and the prefix length. */
export function formatCidr(cidr: Cidr): string {
  return `${formatIpAddress(cidr)}/${cidr.prefixLength}`;
}

/** Dotted quad for IPv4; RFC 5952 for IPv6 (lowercase, longest zero run as "::", "::ffff:1.2.3.4" when mapped). */
export function formatIpAddress(address: Pick<IpAddress, 'family' | 'bytes'>): string {
  if (address.family === 4) return address.bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push((((address.bytes[i] ?? 0) << 8) | (address.bytes[i + 1] ?? 0)).toString(16));
  }
  const canonical = parseIpv6(groups.join(':'));
  return 'ip' in canonical ? canonical.ip : groups.join(':');
}

// The address, or the reason the text is not one.
function readAddress(text: string): IpAddress | string {
  const parsed = parseIp(text);
  if ('problem' in parsed) return parsed.problem;
  return { family: parsed.family, bytes: canonicalBytes(parsed.ip, parsed.family) };
}

// Bytes of an address already in canonical text (dotted quad, or RFC 5952 possibly with a mapped IPv4 tail).
function canonicalBytes(ip: string, family: IpFamily): number[] {
  if (family === 4) return ip.split('.').map(Number);
  const dotted = ip.lastIndexOf(':');
  const tail = ip.slice(dotted + 1);
  const v4Tail = tail.includes('.') ? tail.split('.').map(Number) : [];
  const hexText = v4Tail.length > 0 ? ip.slice(0, dotted + 1) + '0:0' : ip;
  const [head = '', rest] = hexText.split('::');
  const readGroups = (part: string | undefined): number[] => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const before = readGroups(head);
  const after = readGroups(rest);
  const groups = [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
  const bytes = groups.flatMap((group) => [group >> 8, group & 0xff]);
  if (v4Tail.length > 0) bytes.splice(12, 4, ...v4Tail);
  return bytes;
}

// "::ffff:a.b.c.d" -> a.b.c.d; undefined for any other IPv6 address.
function unmapIpv4(address: IpAddress): IpAddress | undefined {
  const { bytes } = address;
  const mapped = bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? { family: 4, bytes: bytes.slice(12) } : undefined;
}

// The mask of byte `index` for a prefix: 0xff while fully inside it, partial at its edge, 0 after.
function byteMask(prefixLength: number, index: number): number {
  const bits = Math.min(8, Math.max(0, prefixLength - index * 8));
  return (0xff << (8 - bits)) & 0xff;
}
