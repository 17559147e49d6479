import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SessionProtocol, TransportHeader } from './gen/weft/transport/v1/transport.js';
import {
  decodeTransportHeader,
  encodeTransportHeader,
  TRANSPORT_HEADER_MAX_LENGTH,
  TRANSPORT_HEADER_PREAMBLE,
  TransportHeaderError,
  type TransportHeaderProblem,
} from './transport-header.js';

const ascii = (text: string) => Uint8Array.from(text, (char) => char.charCodeAt(0));
const preamble = ascii(TRANSPORT_HEADER_PREAMBLE);

/** A frame built by hand, so that the tests do not depend on the encoder they check. */
function frame(body: Uint8Array, declaredLength = body.length): Uint8Array {
  const bytes = new Uint8Array(preamble.length + 4 + body.length);
  bytes.set(preamble, 0);
  new DataView(bytes.buffer).setUint32(preamble.length, declaredLength, false);
  bytes.set(body, preamble.length + 4);
  return bytes;
}

function expectRefusal(bytes: Uint8Array, problem: TransportHeaderProblem, inMessage: string): TransportHeaderError {
  const result = decodeTransportHeader(bytes);
  if (result.ok) throw new Error(`expected ${problem}, got ${JSON.stringify(result.value.header)}`);
  expect(result.error).toBeInstanceOf(TransportHeaderError);
  expect(result.error.problem).toBe(problem);
  expect(result.error.message).toContain(problem);
  expect(result.error.message).toContain(inMessage);
  return result.error;
}

const headerArbitrary = fc.record({
  port: fc.integer({ min: 1, max: 65_535 }),
  name: fc.oneof(fc.constant(''), fc.domain().map((host) => `${host}:8080`)),
  sessionProtocol: fc.constantFrom(
    SessionProtocol.SESSION_PROTOCOL_OPAQUE,
    SessionProtocol.SESSION_PROTOCOL_HTTP1,
    SessionProtocol.SESSION_PROTOCOL_HTTP2,
  ),
});

describe('encodeTransportHeader', () => {
  it('writes the preamble, the big-endian length and the protobuf header', () => {
    const header: TransportHeader = { port: 8080, name: '', sessionProtocol: SessionProtocol.SESSION_PROTOCOL_HTTP2 };
    const body = TransportHeader.encode(header).finish();

    expect(encodeTransportHeader(header)).toEqual(frame(body));
    expect(Array.from(encodeTransportHeader(header).subarray(0, 25))).toEqual([
      ...ascii('weft.transport/v1\r\n\r\n'),
      0,
      0,
      0,
      body.length,
    ]);
  });

  it('refuses to write a header no receiver would accept', () => {
    expect(() => encodeTransportHeader({ port: 0, name: '', sessionProtocol: 0 })).toThrow(TransportHeaderError);
    expect(() => encodeTransportHeader({ port: 80, name: 'x'.repeat(TRANSPORT_HEADER_MAX_LENGTH), sessionProtocol: 0 })).toThrow(
      /length-over-limit/,
    );
  });
});

describe('decodeTransportHeader', () => {
  it('reads back every header it is given, and reports where the session bytes begin', () => {
    fc.assert(
      fc.property(headerArbitrary, fc.uint8Array({ maxLength: 64 }), (header, session) => {
        const encoded = encodeTransportHeader(header);
        const received = new Uint8Array(encoded.length + session.length);
        received.set(encoded, 0);
        received.set(session, encoded.length);

        const result = decodeTransportHeader(received);

        expect(result).toEqual({ ok: true, value: { header, frameLength: encoded.length } });
      }),
    );
  });

  it('reads a frame that starts part-way into a larger buffer', () => {
    const encoded = encodeTransportHeader({ port: 443, name: 'web.shop:443', sessionProtocol: 0 });
    const pool = new Uint8Array(encoded.length + 10);
    pool.set(encoded, 10);

    const result = decodeTransportHeader(pool.subarray(10));

    expect(result.ok && result.value.header).toEqual({ port: 443, name: 'web.shop:443', sessionProtocol: 0 });
  });

  it('says how many bytes are needed when any proper prefix of a frame is all that arrived', () => {
    fc.assert(
      fc.property(headerArbitrary, fc.nat(), (header, cut) => {
        const encoded = encodeTransportHeader(header);
        const prefix = encoded.subarray(0, cut % encoded.length);

        const error = expectRefusal(prefix, 'truncated', `got ${prefix.length} bytes`);

        expect(error.bytesNeeded).toBe(prefix.length < preamble.length + 4 ? preamble.length + 4 : encoded.length);
      }),
    );
  });

  it('refuses a connection that does not start with the preamble, and shows what came instead', () => {
    const error = expectRefusal(ascii('GET / HTTP/1.1\r\nHost: web\r\n\r\n'), 'bad-preamble', 'byte 0');

    expect(error.input).toBe('GET / HTTP/1.1\\r\\nHost: web\\r\\n\\r\\n');
    expect(error.message).toContain('GET / HTTP/1.1');
  });

  it('refuses a preamble that goes wrong part-way, before the rest arrives', () => {
    const error = expectRefusal(ascii('weft.transport/v2'), 'bad-preamble', 'byte 16');

    expect(error.bytesNeeded).toBeUndefined();
  });

  it('refuses a declared length over 64 KiB without waiting for the body', () => {
    const error = expectRefusal(frame(new Uint8Array(0), TRANSPORT_HEADER_MAX_LENGTH + 1), 'length-over-limit', '65537');

    expect(error.input).toContain('weft.transport/v1\\r\\n\\r\\n\\x00\\x01\\x00\\x01');
  });

  it('refuses a body that is not a protobuf TransportHeader', () => {
    // Field 2 (name) says 16 bytes follow, but only one does.
    expectRefusal(frame(Uint8Array.from([0x08, 0x50, 0x12, 0x10, 0x61])), 'malformed-header', 'not a valid weft.transport.v1.TransportHeader');
  });

  it.each<[string, TransportHeader, string]>([
    ['a missing port', { port: 0, name: '', sessionProtocol: 0 }, 'port 0'],
    ['a port over 65535', { port: 70_000, name: '', sessionProtocol: 0 }, 'port 70000'],
  ])('refuses %s', (_what, header, inMessage) => {
    expectRefusal(frame(TransportHeader.encode(header).finish()), 'invalid-port', inMessage);
  });

  it('refuses a session protocol it does not know', () => {
    // port = 80, session_protocol = 9
    expectRefusal(frame(Uint8Array.from([0x08, 0x50, 0x18, 0x09])), 'unknown-session-protocol', 'session protocol 9');
  });
});
