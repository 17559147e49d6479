// IP address literals: strict parsing of IPv4 and IPv6 text and its canonical form (dotted quad, RFC 5952).

/** A parsed address in canonical text, or the reason the text is not one. */
export type IpParse = { readonly ip: string; readonly family: 4 | 6 } | { readonly problem: string };

const decimalOctet = /^(0|[1-9][0-9]{0,2})$/;
const hexGroup = /^[0-9a-f]{1,4}$/;

/** Reads a dotted quad; refuses leading zeros (they mean octal to some resolvers) and octets above 255. */
export function parseIpv4(text: string): IpParse {
  const parts = text.split('.');
  if (parts.length !== 4) return { problem: `an IPv4 address has 4 parts, not ${parts.length}` };
  for (const part of parts) {
    if (!decimalOctet.test(part)) {
      return part.length > 1 && part.startsWith('0') && /^[0-9]+$/.test(part)
        ? { problem: `IPv4 part "${part}" has a leading zero; write ${Number(part)}` }
        : { problem: `IPv4 part "${part}" is not a number from 0 to 255` };
    }
    if (Number(part) > 255) return { problem: `IPv4 part "${part}" is above 255` };
  }
  return { ip: text, family: 4 };
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
      const v4 = parseIpv4(piece);
      if ('problem' in v4) return `embedded ${v4.problem}`;
      const [a, b, c, d] = piece.split('.').map(Number) as [number, number, number, number];
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
