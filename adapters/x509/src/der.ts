// A minimal DER reader and writer: enough to slice a CSR and assemble a leaf from its fixed template, fast.

/** One tag-length-value in a byte array: `start` is where its value begins, `end` where it ends. */
export interface Tlv {
  readonly tag: number;
  readonly offset: number;
  readonly start: number;
  readonly end: number;
}

/** The TLV at `offset`. @throws Error on a long-form tag, an indefinite or overlong length, or a value past `limit`. */
export function readTlv(bytes: Uint8Array, offset: number, limit = bytes.length): Tlv {
  const tag = byteAt(bytes, offset, limit);
  if ((tag & 0x1f) === 0x1f) throw new Error('unsupported high tag number');
  let length = byteAt(bytes, offset + 1, limit);
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 3) throw new Error('unsupported length encoding');
    length = 0;
    for (let i = 0; i < count; i++) length = (length << 8) | byteAt(bytes, start + i, limit);
    start += count;
  }
  const end = start + length;
  if (end > limit) throw new Error('a value runs past its container');
  return { tag, offset, start, end };
}

/** The TLVs inside a constructed TLV, in order. */
export function childrenOf(bytes: Uint8Array, parent: Tlv): Tlv[] {
  const children: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const child = readTlv(bytes, at, parent.end);
    children.push(child);
    at = child.end;
  }
  return children;
}

/** The whole encoding (tag, length and value) of a TLV. */
export function rawOf(bytes: Uint8Array, tlv: Tlv): Uint8Array {
  return bytes.subarray(tlv.offset, tlv.end);
}

function byteAt(bytes: Uint8Array, index: number, limit: number): number {
  const value = index < limit ? bytes[index] : undefined;
  if (value === undefined) throw new Error('truncated DER');
  return value;
}

/** Encodes a TLV from its tag and the concatenation of `parts`. */
export function tlv(tag: number, ...parts: readonly Uint8Array[]): Uint8Array {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const header = [tag, ...encodeLength(length)];
  const out = new Uint8Array(header.length + length);
  out.set(header, 0);
  let at = header.length;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function encodeLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
} as const;

/** A SEQUENCE of the parts. */
export function sequence(...parts: readonly Uint8Array[]): Uint8Array {
  return tlv(TAG.sequence, ...parts);
}

/** An X.509 Time: UTCTime for the years 1950 to 2049, GeneralizedTime otherwise (RFC 5280, 4.1.2.5). */
export function x509Time(ms: number): Uint8Array {
  const digits = `${new Date(ms).toISOString().slice(0, 19).replace(/[-T:]/g, '')}Z`; // YYYYMMDDHHMMSSZ
  const year = new Date(ms).getUTCFullYear();
  const ascii = (text: string) => new TextEncoder().encode(text);
  if (year >= 1950 && year < 2050) return tlv(TAG.utcTime, ascii(digits.slice(2)));
  return tlv(TAG.generalizedTime, ascii(digits));
}

export function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}
