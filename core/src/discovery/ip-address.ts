// IP address literals: strict parsing of IPv4 and IPv6 text into canonical text (dotted quad, RFC 5952) or bytes.

/** A parsed address in canonical text, or the reason the text is not one. */
export type IpParse = { readonly ip: string; readonly family: 4 | 6 } | { readonly problem: string };

/** A parsed address as bytes (4 for IPv4, 16 for IPv6), or the reason the text is not one. */
export type IpBytesParse = { readonly family: 4 | 6; readonly bytes: number[] } | { readonly problem: string };

/** What keeps text from being a plain decimal number in range; see decimalProblem. */
export type DecimalProblem = 'not a number' | 'leading zero' | 'too large';

const hexGroup = /^[0-9a-f]{1,4}$/;

/**
 * Why `text` is not a plain decimal from 0 to `max` (digits only: no sign, no spaces, no leading zero, since
 * some tools read "010" as octal), or undefined when it is one. The one rule for IPv4 octets, prefix lengths
 * and ports.
 */
export function decimalProblem(text: string, max: number): DecimalProblem | undefined {
  if (!/^[0-9]+$/.test(text)) return 'not a number';
  if (text.length > 1 && text.startsWith('0')) return 'leading zero';
  return Number(text) > max ? 'too large' : undefined;
}

/** Reads a dotted quad; refuses leading zeros (they mean octal to some resolvers) and octets above 255. */
export function parseIpv4(text: string): IpParse {
  const octets = ipv4Octets(text);
  return typeof octets === 'string' ? { problem: octets } : { ip: text, family: 4 };
}

/** Reads IPv6 text (any case, with or without "::", with an embedded IPv4 tail) into its RFC 5952 form. */
export function parseIpv6(text: string): IpParse {
  const groups = ipv6Groups(text.toLowerCase());
  if (typeof groups === 'string') return { problem: groups };
  return { ip: formatIpv6(groups), family: 6 };
}

/** Reads either family: IPv6 if the text has a colon, IPv4 otherwise. */
export function parseIp(text: string): IpParse {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

/** Reads either family, as parseIp does, into the address's bytes (an embedded IPv4 tail is kept as IPv6). */
export function parseIpBytes(text: string): IpBytesParse {
  if (!text.includes(':')) {
    const octets = ipv4Octets(text);
    return typeof octets === 'string' ? { problem: octets } : { family: 4, bytes: octets };
  }
  const groups = ipv6Groups(text.toLowerCase());
  if (typeof groups === 'string') return { problem: groups };
  return { family: 6, bytes: groups.flatMap((group) => [group >> 8, group & 0xff]) };
}

/** The canonical text of 4 bytes (dotted quad) or 16 bytes (RFC 5952, "::ffff:1.2.3.4" when IPv4-mapped). */
export function formatIpBytes(bytes: readonly number[]): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));
  return formatIpv6(groups);
}

// The four octets of a dotted quad, or the reason the text is not one.
function ipv4Octets(text: string): number[] | string {
  const parts = text.split('.');
  if (parts.length !== 4) return `an IPv4 address has 4 parts, not ${parts.length}`;
  for (const part of parts) {
    switch (decimalProblem(part, 255)) {
      case 'not a number':
        return `IPv4 part "${part}" is not a number from 0 to 255`;
      case 'leading zero':
        return `IPv4 part "${part}" has a leading zero; write ${Number(part)}`;
      case 'too large':
        return `IPv4 part "${part}" is above 255`;
    }
  }
  return parts.map(Number);
}

function ipv6Groups(text: string): number[] | string {
  if (text.includes('%')) return 'IPv6 zone indexes ("%eth0") are not supported';
  const halves = text.split('::');
  if (halves.length > 2) return '"::" may appear only once in an IPv6 address';
  const head = halves[0] === '' ? [] : readGroups(halves[0] as string, halves.length === 1);
  if (typeof head === 'string') return head;
  if (halves.length === 1) return head.length === 8 ? head : `an IPv6 address has 8 groups, not ${head.length}`;
  const tail = halves[1] === '' ? [] : readGroups(halves[1] as string, true);
  if (typeof tail === 'string') return tail;
  // "::" stands for at least one zero group (RFC 4291 section 2.2).
  if (head.length + tail.length > 7) return 'an IPv6 address with "::" has at most 7 other groups';
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** Colon-separated hex groups; when `last`, the final piece may be an embedded dotted quad (two groups). */
function readGroups(text: string, last: boolean): number[] | string {
  const pieces = text.split(':');
  const groups: number[] = [];
  for (const [index, piece] of pieces.entries()) {
    if (last && index === pieces.length - 1 && piece.includes('.')) {
      const octets = ipv4Octets(piece);
      if (typeof octets === 'string') return `embedded ${octets}`;
      const [a, b, c, d] = octets as [number, number, number, number];
      groups.push((a << 8) | b, (c << 8) | d);
    } else if (hexGroup.test(piece)) {
      groups.push(parseInt(piece, 16));
    } else {
      return piece === '' ? 'an IPv6 address has an empty group' : `IPv6 group "${piece}" is not 1 to 4 hex digits`;
    }
  }
  return groups;
}

/** RFC 5952: lowercase, no leading zeros, the longest run (first on ties) of two or more zero groups as "::". */
function formatIpv6(groups: readonly number[]): string {
  if (isIpv4Mapped(groups)) {
    const [hi, lo] = [groups[6] as number, groups[7] as number];
    return `::ffff:${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  const run = longestZeroRun(groups);
  const hex = groups.map((group) => group.toString(16));
  if (run.length < 2) return hex.join(':');
  return `${hex.slice(0, run.start).join(':')}::${hex.slice(run.start + run.length).join(':')}`;
}

// IPv4-mapped addresses keep the dotted tail (RFC 5952 section 5), as Node reports peers on dual-stack sockets.
function isIpv4Mapped(groups: readonly number[]): boolean {
  return groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
}

function longestZeroRun(groups: readonly number[]): { start: number; length: number } {
  let best = { start: 0, length: 0 };
  let start = -1;
  for (let i = 0; i <= groups.length; i++) {
    if (i < groups.length && groups[i] === 0) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (i - start > best.length) best = { start, length: i - start };
      start = -1;
    }
  }
  return best;
}
