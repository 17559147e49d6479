import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, get as httpGet } from 'node:http';
import { connect as http2Connect, createServer as createHttp2Server } from 'node:http2';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionDetector, type DetectedConnection, type ProtocolHandlers } from './connection-detector.js';
import { LoopbackPeers, patternBytes, type SocketTranscript, transcriptOf } from './loopback-peers.spec-helper.js';
import type { TransportEvent } from './transport-log.js';

interface Recorded {
  readonly detected: DetectedConnection;
  /** Every byte the handler read from the socket it was given, until the client closed. */
  readonly transcript: Promise<SocketTranscript>;
}

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const H2_SETTINGS = Buffer.from([0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100]);

/** A TLS 1.3-style ClientHello record with an SNI and an ALPN extension, built by hand. */
function clientHello(sni: string, alpn: readonly string[]): Buffer {
  const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
  const vec16 = (body: Buffer) => Buffer.concat([u16(body.length), body]);
  const name = Buffer.from(sni, 'latin1');
  const serverName = vec16(Buffer.concat([Buffer.from([0]), vec16(name)]));
  const protocols = vec16(Buffer.concat(alpn.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'latin1')]))));
  const extensions = Buffer.concat([u16(0), vec16(serverName), u16(16), vec16(protocols)]);
  const body = Buffer.concat([
    Buffer.from([3, 3]),
    Buffer.alloc(32, 0xab),
    Buffer.from([0]),
    vec16(Buffer.from([0x13, 0x01])),
    Buffer.from([1, 0]),
    vec16(extensions),
  ]);
  const handshake = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([22, 3, 1]), u16(handshake.length), handshake]);
}

async function writeInPieces(socket: Socket, bytes: Buffer, cuts: readonly number[], pauseMs = 20): Promise<void> {
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    socket.write(bytes.subarray(at, cut));
    at = cut;
    await sleep(pauseMs);
  }
}

describe('ConnectionDetector', () => {
  const peers = new LoopbackPeers();
  let events: TransportEvent[] = [];
  afterEach(async () => {
    await peers.closeAll();
    events = [];
  });

  /** A loopback server whose connections go through a detector; every handler records what it was given. */
  async function detecting(options: { timeoutMs?: number; opaquePorts?: number[]; targetPort?: number; handlers?: Partial<ProtocolHandlers> } = {}) {
    const recorded: Recorded[] = [];
    const waiting: ((record: Recorded) => void)[] = [];
    const record = (detected: DetectedConnection) => {
      const entry = { detected, transcript: transcriptOf(detected.socket) };
      // Like a well-behaved peer: once the client has finished sending, finish too, so the socket closes.
      detected.socket.once('end', () => detected.socket.end());
      const waiter = waiting.shift();
      if (waiter) waiter(entry);
      else recorded.push(entry);
    };
    const detector = new ConnectionDetector({
      handlers: { http1: record, h2: record, tls: record, opaque: record, ...options.handlers },
      opaquePorts: new Set(options.opaquePorts ?? []),
      timeoutMs: options.timeoutMs ?? 10_000,
      log: (event) => events.push(event),
    });
    const address = await peers.server((socket) =>
      detector.accept({ socket, labels: { direction: 'inbound', targetAddr: '127.0.0.1:1', tls: { tls: 'disabled' } }, markFailed: () => undefined }, options.targetPort ?? 8080),
    );
    const next = (): Promise<Recorded> => {
      const ready = recorded.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
    };
    return { address, next };
  }

  it('hands an HTTP/1 request written in pieces to the http1 handler with every byte', async () => {
    const { address, next } = await detecting();
    const client = await peers.connect(address);
    const request = Buffer.concat([Buffer.from('POST /books HTTP/1.1\r\nHost: books\r\nContent-Length: 200000\r\n\r\n'), patternBytes(200_000)]);
    await writeInPieces(client, request, [2, 9, 17]);
    client.end();
    const { detected, transcript } = await next();
    expect(detected).toMatchObject({ protocol: 'http1', reason: 'detected', detection: { protocol: 'http1', method: 'POST' } });
    expect(Buffer.from(detected.firstBytes).toString('latin1')).toMatch(/^POST \/books HTTP\/1\.1\r\n/);
    expect((await transcript).bytes.equals(request)).toBe(true);
  });

  it('hands the HTTP/2 preface to the h2 handler, even split inside "PRI"', async () => {
    const { address, next } = await detecting();
    const client = await peers.connect(address);
    const bytes = Buffer.concat([H2_PREFACE, H2_SETTINGS]);
    await writeInPieces(client, bytes, [2, 5]);
    client.end();
    const { detected, transcript } = await next();
    expect(detected).toMatchObject({ protocol: 'h2', reason: 'detected' });
    expect((await transcript).bytes.equals(bytes)).toBe(true);
  });

  it('hands a TLS ClientHello to the tls handler with its SNI and ALPN and every byte', async () => {
    const { address, next } = await detecting();
    const client = await peers.connect(address);
    const bytes = Buffer.concat([clientHello('books.example', ['h2', 'http/1.1']), Buffer.from('after the hello')]);
    await writeInPieces(client, bytes, [1, 4, 30]);
    client.end();
    const { detected, transcript } = await next();
    expect(detected).toMatchObject({
      protocol: 'tls',
      reason: 'detected',
      detection: { protocol: 'tls', sni: 'books.example', alpn: ['h2', 'http/1.1'] },
    });
    expect((await transcript).bytes.equals(bytes)).toBe(true);
  });

  it('hands bytes no protocol starts with to the opaque handler at once', async () => {
    const { address, next } = await detecting();
    const client = await peers.connect(address);
    const started = performance.now();
    client.end(patternBytes(5_000));
    const { detected, transcript } = await next();
    expect(detected).toMatchObject({ protocol: 'opaque', reason: 'unrecognised' });
    expect(performance.now() - started).toBeLessThan(200);
    expect((await transcript).bytes.equals(patternBytes(5_000))).toBe(true);
  });

  it('skips detection on an opaque port, even for bytes that look like HTTP', async () => {
    const { address, next } = await detecting({ opaquePorts: [5432], targetPort: 5432 });
    const client = await peers.connect(address);
    const { detected, transcript } = await next();
    expect(detected).toMatchObject({ protocol: 'opaque', reason: 'opaque-port', targetPort: 5432 });
    expect(detected.firstBytes).toHaveLength(0);
    client.end('GET / HTTP/1.1\r\n\r\n');
    expect((await transcript).bytes.toString()).toBe('GET / HTTP/1.1\r\n\r\n');
  });

  it('falls back to opaque when the client sends nothing before the timeout, and says so', async () => {
    const { address, next } = await detecting({ timeoutMs: 300 });
    const client = await peers.connect(address);
    const started = performance.now();
    const { detected, transcript } = await next();
    const elapsed = performance.now() - started;
    expect(detected).toMatchObject({ protocol: 'opaque', reason: 'timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_000);
    expect(events).toContainEqual(
      expect.objectContaining({
        event: 'protocol_detect_timeout',
        message: 'protocol detection timed out after 300ms; continuing as opaque TCP',
      }),
    );
    client.end('late bytes');
    expect((await transcript).bytes.toString()).toBe('late bytes');
  });

  it('keeps a partial request line read before the timeout', async () => {
    const { address, next } = await detecting({ timeoutMs: 300 });
    const client = await peers.connect(address);
    client.write('GET /slo');
    const { detected, transcript } = await next();
    expect(detected).toMatchObject({ protocol: 'opaque', reason: 'timeout' });
    client.end('w HTTP/1.1\r\n\r\n');
    expect((await transcript).bytes.toString()).toBe('GET /slow HTTP/1.1\r\n\r\n');
  });

  it('hands a client that half-closes before a decision to the opaque handler, bytes and FIN intact', async () => {
    const { address, next } = await detecting();
    const client = await peers.connect(address);
    client.end('GE');
    const { detected, transcript } = await next();
    expect(detected).toMatchObject({ protocol: 'opaque', reason: 'client-ended' });
    expect(await transcript).toMatchObject({ bytes: Buffer.from('GE'), ended: true });
  });

  it('hands a client that half-closes without sending anything to the opaque handler', async () => {
    const { address, next } = await detecting();
    const client = await peers.connect(address);
    client.end();
    const { detected, transcript } = await next();
    expect(detected).toMatchObject({ protocol: 'opaque', reason: 'client-ended' });
    expect(await transcript).toMatchObject({ bytes: Buffer.alloc(0), ended: true });
  });

  it('calls no handler for a client that resets during detection', async () => {
    const { address, next } = await detecting({ timeoutMs: 300 });
    const client = await peers.connect(address);
    client.write('GET /');
    await sleep(50);
    client.resetAndDestroy();
    const handed = await Promise.race([next().then(() => 'handed'), sleep(600).then(() => 'nothing')]);
    expect(handed).toBe('nothing');
    expect(events).toEqual([]);
  });

  it('gives sockets that Node HTTP/1 and HTTP/2 servers can take over', async () => {
    const http1 = createHttpServer((req, res) => res.end(`http1 ${req.method} ${req.url}`));
    const h2 = createHttp2Server((req, res) => res.end(`h2 ${req.url}`));
    peers.onClose(() => {
      http1.close();
      h2.close();
    });
    const { address } = await detecting({
      handlers: { http1: ({ socket }) => http1.emit('connection', socket), h2: ({ socket }) => h2.emit('connection', socket) },
    });
    const viaHttp1 = await new Promise<string>((resolve, reject) => {
      const request = httpGet({ host: address.ip, port: address.port, path: '/a', agent: false }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve(body));
      });
      request.on('error', reject);
    });
    expect(viaHttp1).toBe('http1 GET /a');
    const session = http2Connect(`http://${address.ip}:${address.port}`);
    peers.onClose(() => void session.destroy());
    const viaH2 = await new Promise<string>((resolve, reject) => {
      const stream = session.request({ ':path': '/b' });
      let body = '';
      stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
      stream.on('end', () => resolve(body));
      stream.on('error', reject);
    });
    expect(viaH2).toBe('h2 /b');
  });

  describe('with a real TLS client', () => {
    let dir: string;
    let key: Buffer;
    let cert: Buffer;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'weft-detector-'));
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=books.example', '-addext', 'subjectAltName=DNS:books.example',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ], { stdio: 'ignore' });
      key = readFileSync(join(dir, 'key.pem'));
      cert = readFileSync(join(dir, 'cert.pem'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads the SNI of a full-size ClientHello and leaves a socket TLS can be terminated on', async () => {
      let detected: DetectedConnection | undefined;
      const { address } = await detecting({
        handlers: {
          tls: (connection) => {
            detected = connection;
            const secure = new TLSSocket(connection.socket, { isServer: true, key, cert, ALPNProtocols: ['http/1.1'] });
            secure.on('error', () => undefined);
            secure.pipe(secure);
          },
        },
      });
      const client = tlsConnect({ host: address.ip, port: address.port, servername: 'books.example', ca: cert, ALPNProtocols: ['h2', 'http/1.1'] });
      peers.onClose(() => void client.destroy());
      await new Promise<void>((resolve, reject) => {
        client.once('secureConnect', resolve);
        client.once('error', reject);
      });
      client.write('ping over tls');
      const echoed = await new Promise<string>((resolve) => client.once('data', (chunk: Buffer) => resolve(chunk.toString())));
      expect(echoed).toBe('ping over tls');
      expect(detected).toMatchObject({ protocol: 'tls', detection: { sni: 'books.example', alpn: ['h2', 'http/1.1'] } });
      expect(client.alpnProtocol).toBe('http/1.1');
    });
  });
});
