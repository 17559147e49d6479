// GeneralNames (the SAN extension's value) read from DER: DNS names, URIs, IP and email addresses, and the rest.
import { childrenOf, type Tlv } from './der.js';

export interface SubjectAltNames {
  readonly dns: string[];
  readonly uri: string[];
  readonly ip: string[];
  readonly email: string[];
  /** Names of other types, e.g. "a directoryName name", which no workload certificate or CSR carries. */
  readonly other: string[];
}

export function emptyNames(): SubjectAltNames {
  return { dns: [], uri: [], ip: [], email: [], other: [] };
}

const OTHER_NAME_TYPES: Record<number, string> = {
  0xa0: 'otherName',
  0xa3: 'x400Address',
  0xa4: 'directoryName',
  0xa5: 'ediPartyName',
  0x88: 'registeredID',
};

/** Adds the names of a GeneralNames SEQUENCE to `names`. @throws Error if the DER is broken. */
export function addGeneralNames(names: SubjectAltNames, bytes: Uint8Array, generalNames: Tlv): void {
  for (const { tag, start, end } of childrenOf(bytes, generalNames)) {
    const value = bytes.subarray(start, end);
    // IA5String bytes are kept byte for byte (latin1), so a NUL or a non-ASCII byte never matches an identity.
    const text = () => Buffer.from(value).toString('latin1');
    if (tag === 0x82) names.dns.push(text());
    else if (tag === 0x86) names.uri.push(text());
    else if (tag === 0x81) names.email.push(text());
    else if (tag === 0x87) names.ip.push(ipAddress(value));
    else names.other.push(`a ${OTHER_NAME_TYPES[tag] ?? `[${tag & 0x1f}]`} name`);
  }
}

function ipAddress(value: Uint8Array): string {
  if (value.length === 4) return value.join('.');
  const groups: string[] = [];
  for (let i = 0; i + 1 < value.length; i += 2) {
    groups.push((((value[i] ?? 0) << 8) | (value[i + 1] ?? 0)).toString(16));
  }
  return groups.join(':');
}
