// Protocol detection: tells HTTP/1, HTTP/2 prior knowledge, TLS (with its SNI and ALPN) and opaque bytes apart.
import { isHttpTokenChar } from '../shared/http-token.js';
import { ByteReader } from './byte-reader.js';

export type Detection =
  | { readonly protocol: 'http1'; readonly method: string }
  | { readonly protocol: 'h2' }
  | { readonly protocol: 'tls'; readonly sni?: string; readonly alpn?: readonly string[] }
  | { readonly protocol: 'opaque' }
  | { readonly protocol: 'need-more' };

/** Plain-text protocols are decided within this many bytes; an HTTP/1 request line must end inside them. */
export const DETECT_MAX_BYTES = 1024;

/**
 * TLS is decided within one full record: its 5-byte header and up to 2^14 bytes of handshake. A 1 KiB limit is
 * too small for TLS, because a ClientHello with a post-quantum key share (X25519MLKEM768 adds over 1 KiB, the
 * default in OpenSSL 3.5 and so in Node 24) no longer fits; cutting it short would lose the SNI.
 */
export const DETECT_TLS_MAX_BYTES = 5 + 16_384;

const NEED_MORE: Detection = { protocol: 'need-more' };
const OPAQUE: Detection = { protocol: 'opaque' };

/**
 * Decides the protocol of a connection from the bytes the client sent first. Call it again with more bytes while
 * it answers `need-more`; that never happens once DETECT_TLS_MAX_BYTES bytes are given, nor once
 * DETECT_MAX_BYTES bytes are given that do not start a TLS record. Never throws.
 */
export function detect(bytes: Uint8Array): Detection {
  if (bytes.length === 0) return NEED_MORE;
  if (bytes[0] === TLS_HANDSHAKE_RECORD) return detectTls(bytes);
  const preface = matchPrefix(bytes, H2_PREFACE);
  if (preface === 'whole') return { protocol: 'h2' };
  if (preface === 'prefix') return NEED_MORE;
  return detectHttp1(bytes);
}

// ---------------------------------------------------------------- HTTP/2 prior knowledge (RFC 9113 section 3.4)

const H2_PREFACE = ascii('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** 'whole' if bytes start with the pattern, 'prefix' if bytes are a beginning of it, 'no' otherwise. */
function matchPrefix(bytes: Uint8Array, pattern: Uint8Array): 'whole' | 'prefix' | 'no' {
  const length = Math.min(bytes.length, pattern.length);
  for (let i = 0; i < length; i++) if (bytes[i] !== pattern[i]) return 'no';
  return bytes.length >= pattern.length ? 'whole' : 'prefix';
}

// ---------------------------------------------------------------- HTTP/1 request line (RFC 9112 section 3)

const SP = 0x20;
// The method is an RFC 9110 token.
const isTokenChar = isHttpTokenChar;
const isVisibleChar = (byte: number) => byte > SP && byte < 0x7f;

/** One part of the request line: a single byte, or a run of one or more bytes (`many`). */
interface LineStep {
  readonly accept: (byte: number) => boolean;
  readonly many: boolean;
}

const exactly = (code: number): LineStep => ({ accept: (b) => b === code, many: false });

// method SP request-target SP "HTTP/1." ("0" / "1") CR LF
const REQUEST_LINE: readonly LineStep[] = [
  { accept: isTokenChar, many: true },
  exactly(SP),
  { accept: isVisibleChar, many: true },
  exactly(SP),
  ...[...ascii('HTTP/1.')].map(exactly),
  { accept: (b) => b === 0x30 || b === 0x31, many: false },
  exactly(0x0d),
  exactly(0x0a),
];

/** An HTTP/1.0 or HTTP/1.1 request line that ends within DETECT_MAX_BYTES. */
function detectHttp1(bytes: Uint8Array): Detection {
  const line = bytes.subarray(0, DETECT_MAX_BYTES);
  // Running out of bytes while the line is still valid asks for more, unless the limit is reached.
  const more = bytes.length >= DETECT_MAX_BYTES ? OPAQUE : NEED_MORE;
  let i = 0;
  for (const [index, step] of REQUEST_LINE.entries()) {
    const start = i;
    while (i < line.length && step.accept(line[i] as number) && (step.many || i === start)) i++;
    if (i === start) return i === line.length ? more : OPAQUE;
    if (i === line.length && index < REQUEST_LINE.length - 1) return more;
  }
  return { protocol: 'http1', method: text(line.subarray(0, line.indexOf(SP))) };
}

// ---------------------------------------------------------------- TLS ClientHello (RFC 8446, RFC 6066, RFC 7301)

const TLS_HANDSHAKE_RECORD = 22;
const TLS_MAX_RECORD = 16_384;
const CLIENT_HELLO = 1;
const EXTENSION_SERVER_NAME = 0;
const EXTENSION_ALPN = 16;
const HOST_NAME = 0;

function detectTls(bytes: Uint8Array): Detection {
  if (bytes.length < 2) return NEED_MORE;
  if (bytes[1] !== 3) return OPAQUE; // record versions are 3.x; 0x16 cannot start an HTTP/1 method either
  if (bytes.length < 5) return NEED_MORE;
  const length = ((bytes[3] as number) << 8) | (bytes[4] as number);
  if (length === 0 || length > TLS_MAX_RECORD) return { protocol: 'tls' };
  if (bytes.length < 5 + length) return NEED_MORE;
  return { protocol: 'tls', ...readClientHello(bytes.subarray(5, 5 + length)) };
}

/** SNI and ALPN of a ClientHello that lies whole within one record; nothing if it is cut off or malformed. */
function readClientHello(record: Uint8Array): { sni?: string; alpn?: readonly string[] } {
  const reader = new ByteReader(record);
  if (reader.u8() !== CLIENT_HELLO) return {};
  const hello = reader.vector(3);
  hello.skip(2 + 32); // legacy_version, random
  hello.vector(1); // legacy_session_id
  hello.vector(2); // cipher_suites
  hello.vector(1); // legacy_compression_methods
  if (hello.failed) return {};
  if (hello.remaining === 0) return {}; // no extensions at all (old clients)
  const extensions = hello.vector(2);
  if (hello.failed || hello.remaining !== 0) return {};
  const found: { sni?: string; alpn?: readonly string[] } = {};
  const seen = new Set<number>();
  while (extensions.remaining > 0) {
    const type = extensions.u16();
    const data = extensions.vector(2);
    if (extensions.failed || seen.has(type)) return {}; // a repeated extension is malformed (RFC 8446 section 4.2)
    seen.add(type);
    if (type === EXTENSION_SERVER_NAME) {
      const sni = readServerName(data);
      if (sni !== undefined) found.sni = sni;
    } else if (type === EXTENSION_ALPN) {
      found.alpn = readAlpn(data);
    }
    if (data.failed) return {};
  }
  return found;
}

/** The host_name entry of a server_name extension, lowercased; marks the reader failed if it is malformed. */
function readServerName(data: ByteReader): string | undefined {
  const list = data.vector(2);
  if (data.remaining !== 0) data.fail();
  let name: string | undefined;
  while (list.remaining > 0) {
    const type = list.u8();
    const value = list.vector(2).rest();
    if (type !== HOST_NAME) continue;
    if (name !== undefined || !isHostName(value)) data.fail(); // one host_name, a DNS name without trailing dot
    name = text(value).toLowerCase();
  }
  if (list.failed) data.fail();
  return data.failed ? undefined : name;
}

/** The protocol names of an ALPN extension; names that are not printable ASCII are left out. */
function readAlpn(data: ByteReader): string[] {
  const list = data.vector(2);
  if (data.remaining !== 0 || list.remaining === 0) data.fail();
  const names: string[] = [];
  while (list.remaining > 0) {
    const name = list.vector(1).rest();
    if (name.length === 0) data.fail();
    if (name.every((byte) => byte > SP && byte < 0x7f)) names.push(text(name));
  }
  if (list.failed) data.fail();
  return names;
}

function isHostName(bytes: Uint8Array): boolean {
  if (bytes.length === 0 || bytes.length > 255 || bytes[bytes.length - 1] === 0x2e) return false;
  return bytes.every((byte) => HOST_NAME_CHARS.has(byte));
}

const HOST_NAME_CHARS = new Set(ascii('-._0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'));

// ---------------------------------------------------------------- ASCII by hand (the core has no TextEncoder)

function ascii(value: string): Uint8Array {
  return Uint8Array.from(value, (char) => char.charCodeAt(0));
}

function text(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}
