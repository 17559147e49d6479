import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detect, DETECT_MAX_BYTES, DETECT_TLS_MAX_BYTES, type Detection } from './detect.js';

function hex(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (char) => char.charCodeAt(0));
}

function concat(...parts: (Uint8Array | number[])[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((part) => [...part]));
}

// Captured on loopback: `curl http://127.0.0.1:<port>/` (curl 7.88.1).
const CURL_REQUEST = ascii('GET / HTTP/1.1\r\nHost: 127.0.0.1:35023\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n');

// Captured on loopback: Node 24 (OpenSSL 3.5) tls.connect({ servername: 'web.default.svc.cluster.local',
// ALPNProtocols: ['h2', 'http/1.1'] }). Its X25519MLKEM768 key share makes the record 1619 bytes long.
// Then `openssl s_client -servername api.example.com -alpn h2,http/1.1` (OpenSSL 3.0, no post-quantum share).
// Then Node 24's http2.connect(): the client preface followed by an empty SETTINGS frame.
const NODE_TLS_CLIENT_HELLO = hex(
  '16030106530100064f0303f34f90bf6878a4052dd7b06e202dd454eebe3f88a437a290eb68e97c16bc3cca20be801638' +
  '67dff9dcfd3d48db823b10fe41c8b62b4efa3da88ad253401c2181af0068130213031301c02fc02bc030c02c009ec027' +
  '0067c028006b00a3009fcca9cca8ccaac0adc09fc05dc061c057c05300a2c0acc09ec05cc060c056c052c024006ac023' +
  '0040c00ac01400390038c009c01300330032009dc09dc051009cc09cc050003d003c0035002f0100059eff0100010000' +
  '000022002000001d7765622e64656661756c742e7376632e636c75737465722e6c6f63616c000b000403000102000a00' +
  '12001011ec001d0017001e0018001901000101002300000010000e000c02683208687474702f312e3100160000001700' +
  '00000d0036003409050906090404030503060308070808081a081b081c0809080a080b08040805080604010501060103' +
  '0303010302040205020602002b00050403040303002d00020101003304ea04e811ec04c0314217776b73485549e39a2c' +
  '426209e1126810bc5df5808d60fc2ec12a28f3658fb9db96446360122308a9391b88a658ff269ff3356baf591908f01b' +
  'd1ea3bc261bba6352101c847101253addb699f12c09220b7a0b20036738aa4f831de25c15a64ca0a1182daac3525e1c8' +
  '027063158311e763cb0c018f60a98e3d6372c105c3a6526093410efb886c78c77669639c645181fb5827a52a5117724d' +
  '76b809d7a82b79395c6eb120caec9943d2047a87060b32066e0b92df245a26f6a9194a398b902c7cd7ad9bf150af6722' +
  'bcd07814168d0ea78e4a2679a252bb3ef80ec5ca2965a87ed08ba105bc27f5801a1683a5ab4ba9931082f54463797108' +
  'ae65341455a3afe1227e3c0f11671f1e5b21d958c4c943ae6e4a90840a2e5a9238da94250322000d018530388fc647af' +
  'ab51ca2e22279f64171b4115ac481228327dfb70adc5cc8a9ad3bc21b017fccb6cebfb96d369c90e115bfd42be654c0b' +
  '7e8c50a01c69a3eb7be0590d35225fb0d7b75d17221e9a7191047697132552783e12d46ade491cb2f45d96714a0fa9a9' +
  '938071b79a682a8ba0cab7681bf7434e13975170354e6c6d4ba4833e231bb4e640dd00befc24c04f37c1cdd14a68a160' +
  '2112b5180c7b58ca50c418412742a0a01b9aa2a9046ba2c6ceca1f4fb897bbc3898df85458c700d5da4c8de457d18c77' +
  '0b04bca6037aa808a2e4287b99f89930e401df44add5369b07a56f67c2c009d5cbd7240a5b290b451ab5758b6f9b5936' +
  '1aaac0408c0be9800575c8c8266c37dbb60109e6994752789538cf84cba3ccc9197925b65d256681130ce14bcabe48a5' +
  'e8c8b4fe5a424db281d44c2ccb88a90f604080ac5af90933cf45ba25f17cfbe46023503e99eb2564a087dc3190a1ca5e' +
  '63c87241f27b5c616f22993a21484911727c2bf07bc3c370b21787f5a64aaf65904054607ab3c77c270932498d12d331' +
  '4a002c6cc12aa9dc378bc57fb10184d2e9b896eaa4d2e509e2176e07c40d47a8bcd8b18d4f14107f9c258805334b985c' +
  'ca65b61779acffca2da2b65ef01258ae6963a4e827b11aa1657ba0a2c496e646528148888f4224b74791dde44534070d' +
  '95704d9773a4c6402927220ba8057551f128e08420f4192505326b6fdb4ad3499821a160d1c872ecc8ccb25c802a2b36' +
  'e5051e9fcb9ced360784b92f40603aa19170601729efabb1f49b496165730b343fa7764361c3bc176591b3c95cb3d2af' +
  'b386b148499303895d04191c79f83d7da7b0cdd843bc18425319be5356057599a5d6e719e0111bb089b0523b2c62a119' +
  'fc496e27535c464b17346712c570a71d10a222883f6bd027f36319fde3547b67cac7d513fc3195f15c2b5d79b8947432' +
  'ea75c1b1a882f6890c148b128bd02422ec14ba2293a8f1c1295c95bda963486552945bcc8ba906c17a2bf5bc76806355' +
  'a613a460bc52819b4284727a16a548aae1c52e04cbfb4a65c70c27a1c55020c08c8e8071bea6401c395fede261688326' +
  'fcb41d1747ceead75f4e315819330391264597e7aa8bcc854cf46b3ce74c85bc332e71c963a5cf3214b13325763c7529' +
  'b8434c40db4f98277f617ccea24b35fed91035235eac0c54f16b27812628b2c512b526855b1a4196c87624ebb6c8cb2d' +
  '8091c5636a9593d7a0cf06e9bdeb441669830667c49205a739898f7a911223d51261f4c4ab04303f02cafe80fd9e56b7' +
  'a576b55a001d002077d0ea22f26ae1f976e3429e4c596cae0892c0d76edb48f9424b85481c01c538',
);

const OPENSSL_TLS_CLIENT_HELLO = hex(
  '160301014e0100014a03032851da4a4aad07751a559de43ab3fcb4259723f192ca38381da016348880a0492069898646' +
  'dc2e242c5b520890c0396247bcd7c4e229c7e8bbef005062dda4d818003e130213031301c02cc030009fcca9cca8ccaa' +
  'c02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff010000c3' +
  '00000014001200000f6170692e6578616d706c652e636f6d000b000403000102000a00160014001d0017001e00190018' +
  '01000101010201030104002300000010000e000c02683208687474702f312e310016000000170000000d002a00280403' +
  '05030603080708080809080a080b080408050806040105010601030303010302040205020602002b0009080304030303' +
  '020301002d00020101003300260024001d00200ebad09b0b37d78ed8bbdbdd1d14056ee1b75a037e53a481785392185f' +
  'c39555',
);

const NODE_H2_PREFACE = hex(
  '505249202a20485454502f322e300d0a0d0a534d0d0a0d0a000000040000000000',
);

/** Gives every prefix of `bytes` to detect; all shorter than `decidedAt` must ask for more, the rest give `answer`. */
function expectPrefixes(bytes: Uint8Array, decidedAt: number, answer: Detection): void {
  for (let length = 0; length <= bytes.length; length++) {
    const expected = length < decidedAt ? { protocol: 'need-more' } : answer;
    expect({ length, detection: detect(bytes.subarray(0, length)) }).toEqual({ length, detection: expected });
  }
}

/** A ClientHello record with the given extensions, each [type, body]. */
function clientHello(extensions: [number, Uint8Array][], options: { handshakeType?: number } = {}): Uint8Array {
  const u16 = (n: number) => [n >> 8, n & 0xff];
  const extensionBytes = concat(...extensions.flatMap(([type, body]) => [u16(type), u16(body.length), body]));
  const body = concat(
    [3, 3],
    new Uint8Array(32).fill(7), // random
    [0], // session id
    [0, 2, 0x13, 0x01], // one cipher suite
    [1, 0], // null compression
    u16(extensionBytes.length),
    extensionBytes,
  );
  const handshake = concat([options.handshakeType ?? 1, 0, body.length >> 8, body.length & 0xff], body);
  return concat([22, 3, 1], u16(handshake.length), handshake);
}

function serverName(...names: string[]): [number, Uint8Array] {
  const entries = concat(...names.flatMap((name) => [[0, name.length >> 8, name.length & 0xff], ascii(name)]));
  return [0, concat([entries.length >> 8, entries.length & 0xff], entries)];
}

function alpn(...names: string[]): [number, Uint8Array] {
  const entries = concat(...names.flatMap((name) => [[name.length], ascii(name)]));
  return [16, concat([entries.length >> 8, entries.length & 0xff], entries)];
}

describe('detect on bytes real clients send', () => {
  it('reads curl as HTTP/1 once the request line is complete', () => {
    expectPrefixes(CURL_REQUEST, 'GET / HTTP/1.1\r\n'.length, { protocol: 'http1', method: 'GET' });
  });

  it('reads the Node http2 client preface as HTTP/2 once all 24 bytes are in', () => {
    expectPrefixes(NODE_H2_PREFACE, 24, { protocol: 'h2' });
  });

  it('reads a Node 24 ClientHello larger than 1 KiB, with its SNI and ALPN', () => {
    const recordEnd = 5 + ((NODE_TLS_CLIENT_HELLO[3] as number) << 8) + (NODE_TLS_CLIENT_HELLO[4] as number);
    expect(recordEnd).toBeGreaterThan(DETECT_MAX_BYTES);
    expect(recordEnd).toBe(NODE_TLS_CLIENT_HELLO.length);
    expectPrefixes(NODE_TLS_CLIENT_HELLO, recordEnd, {
      protocol: 'tls',
      sni: 'web.default.svc.cluster.local',
      alpn: ['h2', 'http/1.1'],
    });
  });

  it('reads an OpenSSL s_client ClientHello with its SNI and ALPN', () => {
    expectPrefixes(OPENSSL_TLS_CLIENT_HELLO, OPENSSL_TLS_CLIENT_HELLO.length, {
      protocol: 'tls',
      sni: 'api.example.com',
      alpn: ['h2', 'http/1.1'],
    });
  });
});

describe('detect HTTP/1', () => {
  it.each([
    ['POST /api/v1/items?id=7 HTTP/1.1\r\n', 'POST'],
    ['OPTIONS * HTTP/1.1\r\n', 'OPTIONS'],
    ['CONNECT example.com:443 HTTP/1.1\r\n', 'CONNECT'],
    ['GET http://example.com/x HTTP/1.0\r\n', 'GET'],
    ['M-SEARCH * HTTP/1.1\r\n', 'M-SEARCH'],
    ['PRI * HTTP/1.1\r\n', 'PRI'],
  ])('reads %j', (line, method) => {
    expect(detect(ascii(line))).toEqual({ protocol: 'http1', method });
  });

  it.each([
    ['an HTTP response', 'HTTP/1.1 200 OK\r\n'],
    ['HTTP/2.0 in a request line', 'GET / HTTP/2.0\r\n'],
    ['HTTP/1.2', 'GET / HTTP/1.2\r\n'],
    ['a lower-case version', 'GET / http/1.1\r\n'],
    ['two spaces', 'GET  / HTTP/1.1\r\n'],
    ['a bare LF', 'GET / HTTP/1.1\n'],
    ['a space before CRLF', 'GET / HTTP/1.1 \r\n'],
    ['a method with a bad character', 'GE(T / HTTP/1.1\r\n'],
    ['a request target with a control character', 'GET /\u0001 HTTP/1.1\r\n'],
    ['an SSH banner', 'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'],
    ['a Redis command', '*1\r\n$4\r\nPING\r\n'],
    ['an SMTP-like greeting', '220 mail.example.com ESMTP\r\n'],
    ['the h2 preface with a wrong tail', 'PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n'],
  ])('calls %s opaque', (_what, text) => {
    expect(detect(ascii(text))).toEqual({ protocol: 'opaque' });
  });

  it('reads binary protocols as opaque at once', () => {
    // A PostgreSQL StartupMessage: length, protocol 3.0, "user".
    expect(detect(hex('0000002a000300007573657200'))).toEqual({ protocol: 'opaque' });
  });

  it('asks for more until 1 KiB without a line end, then gives up as opaque', () => {
    const long = ascii(`GET /${'a'.repeat(2 * DETECT_MAX_BYTES)}`);
    expect(detect(long.subarray(0, DETECT_MAX_BYTES - 1))).toEqual({ protocol: 'need-more' });
    expect(detect(long.subarray(0, DETECT_MAX_BYTES))).toEqual({ protocol: 'opaque' });
    expect(detect(long)).toEqual({ protocol: 'opaque' });
  });

  it('accepts a request line that ends on the last of the 1024 bytes, not one byte later', () => {
    const line = (length: number) => ascii(`GET /${'a'.repeat(length - 'GET / HTTP/1.1\r\n'.length)} HTTP/1.1\r\n`);
    expect(line(DETECT_MAX_BYTES)).toHaveLength(DETECT_MAX_BYTES);
    expect(detect(line(DETECT_MAX_BYTES))).toEqual({ protocol: 'http1', method: 'GET' });
    expect(detect(concat(line(DETECT_MAX_BYTES), ascii('Host: x\r\n')))).toEqual({ protocol: 'http1', method: 'GET' });
    expect(detect(line(DETECT_MAX_BYTES + 1))).toEqual({ protocol: 'opaque' });
  });
});

describe('detect TLS', () => {
  it('reads SNI and ALPN from a ClientHello, lower-casing the name', () => {
    expect(detect(clientHello([serverName('Web.Example.COM'), alpn('h2')]))).toEqual({
      protocol: 'tls',
      sni: 'web.example.com',
      alpn: ['h2'],
    });
  });

  it('gives TLS without SNI or ALPN when the client sends neither', () => {
    expect(detect(clientHello([]))).toEqual({ protocol: 'tls' });
    expect(detect(clientHello([alpn('http/1.1')]))).toEqual({ protocol: 'tls', alpn: ['http/1.1'] });
  });

  it('ignores bytes after the first record', () => {
    expect(detect(concat(clientHello([serverName('a.example')]), [23, 3, 3, 0, 1, 0]))).toEqual({
      protocol: 'tls',
      sni: 'a.example',
    });
  });

  it.each<[string, Uint8Array]>([
    ['a record longer than TLS allows', hex('160303400100')],
    ['an empty record', hex('1603030000')],
    ['a handshake that is not a ClientHello', clientHello([serverName('a.example')], { handshakeType: 2 })],
    ['two server_name extensions', clientHello([serverName('a.example'), serverName('b.example')])],
    ['two host names in one server_name', clientHello([serverName('a.example', 'b.example')])],
    ['a host name with a trailing dot', clientHello([serverName('a.example.')])],
    ['a host name with a space', clientHello([serverName('a example')])],
    ['an empty ALPN name', clientHello([serverName('a.example'), alpn('h2', '')])],
  ])('gives TLS without SNI for %s', (_what, bytes) => {
    expect(detect(bytes)).toEqual({ protocol: 'tls' });
  });

  it('gives TLS without SNI when the ClientHello goes on beyond its first record', () => {
    const whole = clientHello([serverName('a.example')]);
    const cut = whole.slice(0, whole.length - 3);
    cut[4] = (cut[4] as number) - 3; // the record ends early; the handshake inside claims 3 more bytes
    expect(detect(cut)).toEqual({ protocol: 'tls' });
  });

  it('gives TLS without SNI when a length inside server_name points past its end', () => {
    const bytes = clientHello([serverName('a.example')]);
    const extensionLengthAt = 5 + 4 + 2 + 32 + 1 + 4 + 2 + 2 + 2;
    bytes[extensionLengthAt] = 0xff;
    expect(detect(bytes)).toEqual({ protocol: 'tls' });
  });

  it('asks for more while the record header is incomplete, and calls other record versions opaque', () => {
    expect(detect(hex('16'))).toEqual({ protocol: 'need-more' });
    expect(detect(hex('1603'))).toEqual({ protocol: 'need-more' });
    expect(detect(hex('160301'))).toEqual({ protocol: 'need-more' });
    expect(detect(hex('16020100'))).toEqual({ protocol: 'opaque' });
  });

  it('reads up to a full 16 KiB record and no further', () => {
    const header = hex('1603034000'); // 16384 bytes of handshake follow
    const record = concat(header, new Uint8Array(16_384));
    expect(record).toHaveLength(DETECT_TLS_MAX_BYTES);
    expect(detect(record.subarray(0, DETECT_TLS_MAX_BYTES - 1))).toEqual({ protocol: 'need-more' });
    expect(detect(record)).toEqual({ protocol: 'tls' });
  });
});

describe('detect properties', () => {
  const anyBytes = fc.uint8Array({ maxLength: 2 * DETECT_MAX_BYTES });
  const realPrefixes = fc
    .tuple(fc.constantFrom(CURL_REQUEST, NODE_H2_PREFACE, NODE_TLS_CLIENT_HELLO, OPENSSL_TLS_CLIENT_HELLO), fc.nat(), fc.uint8Array())
    .map(([sample, cut, tail]) => concat(sample.subarray(0, cut % (sample.length + 1)), tail));
  const flipped = fc
    .tuple(fc.constantFrom(NODE_TLS_CLIENT_HELLO, OPENSSL_TLS_CLIENT_HELLO), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }))
    .map(([sample, flips]) => {
      const copy = sample.slice();
      for (const [at, value] of flips) copy[at % copy.length] = value;
      return copy;
    });
  const inputs = fc.oneof(anyBytes, realPrefixes, flipped);

  it('never throws, and stops asking for more at its limits', () => {
    fc.assert(
      fc.property(inputs, fc.nat(255), (bytes, fill) => {
        const detection = detect(bytes);
        expect(['http1', 'h2', 'tls', 'opaque', 'need-more']).toContain(detection.protocol);
        if (bytes.length >= DETECT_MAX_BYTES && bytes[0] !== 22) expect(detection.protocol).not.toBe('need-more');
        const padded = new Uint8Array(DETECT_TLS_MAX_BYTES).fill(fill);
        padded.set(bytes.subarray(0, DETECT_TLS_MAX_BYTES));
        expect(detect(padded).protocol).not.toBe('need-more');
      }),
    );
  });

  it('keeps its answer once given, whatever bytes follow', () => {
    fc.assert(
      fc.property(inputs, fc.uint8Array({ maxLength: 64 }), (bytes, more) => {
        const detection = detect(bytes);
        if (detection.protocol !== 'need-more') expect(detect(concat(bytes, more))).toEqual(detection);
      }),
    );
  });
});
