// IP addresses and CIDR blocks of both families for network policies: parsing, containment and canonical text.
import { decimalProblem, formatIpBytes, parseIpBytes } from '../discovery/ip-address.js';
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
  if (decimalProblem(prefixText, max) !== undefined) {
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
 * True when `ip` lies in `cidr`. An IPv4-mapped IPv6 address ("::ffff:10.1.2.3", as dual-stack sockets report
 * IPv4 peers) is matched as the IPv4 address it stands for, and an IPv6 block inside ::ffff:0:0/96 as the IPv4
 * block it stands for; otherwise an address of the other family never matches. So ::/0 does not hold
 * "::ffff:10.1.2.3", just as it does not hold "10.1.2.3". Text that is not an IP address matches nothing.
 */
export function cidrContains(cidr: Cidr, ip: string | IpAddress): boolean {
  const parsed = typeof ip === 'string' ? readAddress(ip) : ip;
  if (typeof parsed === 'string') return false;
  const address = unmapIpAddress(parsed);
  const block = unmapCidr(cidr);
  if (address.family !== block.family) return false;
  const { prefixLength } = block;
  return block.bytes.every((byte, index) => ((address.bytes[index] ?? 0) & byteMask(prefixLength, index)) === byte);
}

/** True when every address of `inner` is in `outer` (blocks inside ::ffff:0:0/96 count as IPv4, as in cidrContains). */
export function cidrIncludes(outer: Cidr, inner: Cidr): boolean {
  const [a, b] = [unmapCidr(outer), unmapCidr(inner)];
  return a.family === b.family && a.prefixLength <= b.prefixLength && cidrContains(a, b);
}

/** The IPv4 address an IPv4-mapped IPv6 address ("::ffff:10.1.2.3", "::ffff:a01:203") stands for; others unchanged. */
export function unmapIpAddress(address: IpAddress): IpAddress {
  return isMapped(address.bytes) ? { family: 4, bytes: address.bytes.slice(12) } : address;
}

/** "10.0.0.0/8", "fd00::/8": the network address in canonical form and the prefix length. */
export function formatCidr(cidr: Cidr): string {
  return `${formatIpAddress(cidr)}/${cidr.prefixLength}`;
}

/** Dotted quad for IPv4; RFC 5952 for IPv6 (lowercase, longest zero run as "::", "::ffff:1.2.3.4" when mapped). */
export function formatIpAddress(address: Pick<IpAddress, 'family' | 'bytes'>): string {
  return formatIpBytes(address.bytes);
}

// The address, or the reason the text is not one.
function readAddress(text: string): IpAddress | string {
  const parsed = parseIpBytes(text);
  return 'problem' in parsed ? parsed.problem : parsed;
}

// True for the 16 bytes of ::ffff:a.b.c.d.
function isMapped(bytes: readonly number[]): boolean {
  return bytes.length === 16 && bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

// A block inside ::ffff:0:0/96 as the IPv4 block it stands for ("::ffff:10.0.0.0/104" is 10.0.0.0/8); others unchanged.
function unmapCidr(cidr: Cidr): Cidr {
  if (cidr.family !== 6 || cidr.prefixLength < 96 || !isMapped(cidr.bytes)) return cidr;
  return { family: 4, bytes: cidr.bytes.slice(12), prefixLength: cidr.prefixLength - 96 };
}

// The mask of byte `index` for a prefix: 0xff while fully inside it, partial at its edge, 0 after.
function byteMask(prefixLength: number, index: number): number {
  const bits = Math.min(8, Math.max(0, prefixLength - index * 8));
  return (0xff << (8 - bits)) & 0xff;
}
