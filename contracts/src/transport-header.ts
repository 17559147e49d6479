// Framing of the transport header a client proxy sends first on an mTLS connection to a peer's inbound port.
import { SessionProtocol, TransportHeader } from './gen/weft/transport/v1/transport.js';

/** The ALPN protocol a client offers, and a server selects, when a transport header will follow. */
export const TRANSPORT_HEADER_ALPN = 'transport.weft.io/v1';

/** The ASCII text that opens every frame, before the length. */
export const TRANSPORT_HEADER_PREAMBLE = 'weft.transport/v1\r\n\r\n';

/** The largest encoded TransportHeader a receiver accepts, in bytes (64 KiB). */
export const TRANSPORT_HEADER_MAX_LENGTH = 65_536;

const preambleBytes = Uint8Array.from(TRANSPORT_HEADER_PREAMBLE, (char) => char.charCodeAt(0));
const lengthFieldBytes = 4;
const prefixLength = preambleBytes.length + lengthFieldBytes;
const previewBytes = 32;
const knownSessionProtocols: readonly number[] = [
  SessionProtocol.SESSION_PROTOCOL_OPAQUE,
  SessionProtocol.SESSION_PROTOCOL_HTTP1,
  SessionProtocol.SESSION_PROTOCOL_HTTP2,
];

/** What was wrong with a frame. `truncated` alone may be cured by reading more bytes. */
export type TransportHeaderProblem =
  | 'bad-preamble'
  | 'length-over-limit'
  | 'truncated'
  | 'malformed-header'
  | 'invalid-port'
  | 'unknown-session-protocol';

/** A transport header frame that cannot be used; `input` shows the start of the bytes as printable text. */
export class TransportHeaderError extends Error {
  readonly kind = 'transport header';

  constructor(
    /** Which rule the frame broke. */
    readonly problem: TransportHeaderProblem,
    /** The first bytes of the frame, escaped: printable ASCII as is, others as `\xNN`. */
    readonly input: string,
    /** What is wrong, in words an operator can act on. */
    readonly reason: string,
    /** For `truncated`: how many bytes the frame needs at least, counted from its start. */
    readonly bytesNeeded?: number,
  ) {
    super(`${problem}: ${reason} (frame starts "${input}")`);
  }

  override get name(): string {
    return 'TransportHeaderError';
  }
}

/** A decoded header and the number of bytes its frame took; the session's own bytes start right after. */
export interface DecodedTransportHeader {
  readonly header: TransportHeader;
  readonly frameLength: number;
}

export type DecodeTransportHeaderResult =
  | { readonly ok: true; readonly value: DecodedTransportHeader }
  | { readonly ok: false; readonly error: TransportHeaderError };

/**
 * The whole frame for a header: preamble, 4-byte big-endian length, encoded header.
 * Throws TransportHeaderError when the header could never be accepted (port outside 1..65535,
 * unknown session protocol, or an encoding over 64 KiB): that is a bug in the sender, not bad input.
 */
export function encodeTransportHeader(header: TransportHeader): Uint8Array {
  const body = TransportHeader.encode(header).finish();
  const invalid = checkHeader(header) ?? checkLength(body.length);
  if (invalid !== undefined) throw new TransportHeaderError(invalid.problem, preview(body), invalid.reason);
  const frame = new Uint8Array(prefixLength + body.length);
  frame.set(preambleBytes, 0);
  new DataView(frame.buffer).setUint32(preambleBytes.length, body.length, false);
  frame.set(body, prefixLength);
  return frame;
}

/**
 * Reads a frame from the first bytes received on a connection. Bytes after the frame are left alone
 * (see `frameLength`). A `truncated` error means a valid frame may still follow: read `bytesNeeded` bytes in
 * all and call again. Any other error means the connection must be closed.
 */
export function decodeTransportHeader(bytes: Uint8Array): DecodeTransportHeaderResult {
  const fail = (problem: TransportHeaderProblem, reason: string, bytesNeeded?: number) =>
    ({ ok: false, error: new TransportHeaderError(problem, preview(bytes), reason, bytesNeeded) }) as const;

  const seen = Math.min(bytes.length, preambleBytes.length);
  for (let i = 0; i < seen; i += 1) {
    if (bytes[i] !== preambleBytes[i]) {
      return fail('bad-preamble', `byte ${i} breaks the preamble "weft.transport/v1\\r\\n\\r\\n"; the peer is not a Weft proxy sending a transport header`);
    }
  }
  if (bytes.length < prefixLength) {
    return fail('truncated', `got ${bytes.length} bytes, the preamble and length need ${prefixLength}`, prefixLength);
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(preambleBytes.length, false);
  const tooLong = checkLength(length);
  if (tooLong !== undefined) return fail(tooLong.problem, tooLong.reason);
  const frameLength = prefixLength + length;
  if (bytes.length < frameLength) {
    return fail('truncated', `got ${bytes.length} bytes, the ${length}-byte header needs ${frameLength} in all`, frameLength);
  }

  let header: TransportHeader;
  try {
    header = TransportHeader.decode(bytes.subarray(prefixLength, frameLength));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return fail('malformed-header', `the ${length}-byte header is not a valid weft.transport.v1.TransportHeader (${detail})`);
  }
  const invalid = checkHeader(header);
  if (invalid !== undefined) return fail(invalid.problem, invalid.reason);
  return { ok: true, value: { header, frameLength } };
}

interface Violation {
  readonly problem: TransportHeaderProblem;
  readonly reason: string;
}

function checkLength(length: number): Violation | undefined {
  if (length <= TRANSPORT_HEADER_MAX_LENGTH) return undefined;
  return {
    problem: 'length-over-limit',
    reason: `the header length ${length} is over the limit of ${TRANSPORT_HEADER_MAX_LENGTH} bytes`,
  };
}

function checkHeader(header: TransportHeader): Violation | undefined {
  if (!Number.isInteger(header.port) || header.port < 1 || header.port > 65_535) {
    return { problem: 'invalid-port', reason: `port ${header.port} is outside 1 to 65535; name the target port` };
  }
  if (!knownSessionProtocols.includes(header.sessionProtocol)) {
    return {
      problem: 'unknown-session-protocol',
      reason: `session protocol ${header.sessionProtocol} is not one of 0 (opaque), 1 (HTTP/1) or 2 (HTTP/2)`,
    };
  }
  return undefined;
}

/** The first bytes as text a person can read in a log line. */
function preview(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes.subarray(0, previewBytes)) text += escapeByte(byte);
  return bytes.length > previewBytes ? `${text}...` : text;
}

function escapeByte(byte: number): string {
  if (byte === 0x0d) return '\\r';
  if (byte === 0x0a) return '\\n';
  if (byte === 0x5c) return '\\\\';
  if (byte === 0x22) return '\\"';
  if (byte >= 0x20 && byte < 0x7f) return String.fromCharCode(byte);
  return `\\x${byte.toString(16).padStart(2, '0')}`;
}
