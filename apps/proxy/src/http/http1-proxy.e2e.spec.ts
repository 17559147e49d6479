import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { connect as netConnect, createServer as createNetServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { DEFAULT_HTTP1_SERVER_LIMITS } from './hardened-http1-server.js';
import {
  authority,
  endpointOf,
  httpCall,
  type ProxyUnderTest,
  sendRaw,
  startInboundProxy,
  startOutboundProxy,
  startUpstream,
  type Upstream,
} from './http-test-kit.spec-helper.js';

const BOOKS = 'books.shop.svc.cluster.local:7000';
const books = authority(BOOKS);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function proxyTo(upstreams: Upstream[], options: Parameters<typeof startOutboundProxy>[0] = {}, target = false): Promise<ProxyUnderTest> {
  const proxy = await startOutboundProxy(options, target ? { target: books } : undefined);
  cleanups.push(() => proxy.close());
  proxy.discovery.setEndpoints(books, upstreams.map((upstream) => endpointOf(upstream, { pod: `books-${upstream.port}` })));
  return proxy;
}

async function upstreamWith(handler?: Parameters<typeof startUpstream>[0]): Promise<Upstream> {
  const upstream = await startUpstream(handler);
  cleanups.push(() => upstream.close());
  return upstream;
}

/** A deterministic byte pattern, produced chunk by chunk so the test never holds the whole payload. */
function patternChunk(index: number, size: number): Buffer {
  const chunk = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 4) chunk.writeUInt32LE((index * 2_654_435_761 + i) >>> 0, i);
  return chunk;
}

/** 16 distinct 64 KiB chunks, cycled: a lost, repeated or reordered chunk still changes the hash, and the test makes no garbage. */
const PATTERN = Array.from({ length: 16 }, (_, i) => patternChunk(i, 64 * 1024));
const chunkAt = (index: number): Buffer => PATTERN[index % PATTERN.length] as Buffer;

/** Samples RSS every 25 ms until stopped; returns the highest growth over the starting value, in MB. */
function rssWatch(): () => number {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
  return () => {
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    return (peak - start) / 1024 / 1024;
  };
}

describe('Http1Proxy forwarding', () => {
  it('forwards requests by Host, strips hop-by-hop headers and counts every request in the metrics', async () => {
    const upstream = await upstreamWith();
    const { port, metrics } = await proxyTo([upstream]);
    const result = await httpCall(port, {
      method: 'POST',
      path: '/books?id=7',
      headers: {
        host: 'books.shop:7000',
        connection: 'keep-alive, x-hop',
        'x-hop': 'secret',
        'keep-alive': 'timeout=5',
        te: 'trailers, gzip',
        'x-end-to-end': 'kept',
        'content-type': 'text/plain',
      },
      body: 'hello',
    });
    expect(result.status).toBe(200);
    const seen = JSON.parse(result.body.toString()) as { method: string; url: string; bytes: number; headers: Record<string, string> };
    expect(seen).toMatchObject({ method: 'POST', url: '/books?id=7', bytes: 5 });
    expect(seen.headers['x-end-to-end']).toBe('kept');
    expect(seen.headers['host']).toBe('books.shop:7000');
    expect(seen.headers['te']).toBe('trailers');
    expect(seen.headers['x-hop']).toBeUndefined();
    expect(seen.headers['keep-alive']).toBeUndefined();

    const labels = { direction: 'outbound', authority: BOOKS, target_addr: `127.0.0.1:${upstream.port}`, dst_pod: `books-${upstream.port}` };
    expect(metrics.value('request_total', labels)).toBe(1);
    expect(metrics.value('response_total', { ...labels, classification: 'success', status_code: '200' })).toBe(1);
    expect(metrics.value('route_request_total', { dst: BOOKS, rt_route: 'default' })).toBe(1);
    expect(metrics.value('route_response_total', { dst: BOOKS, rt_route: 'default', classification: 'success' })).toBe(1);
    // The raw Host header never becomes a label value.
    expect(metrics.allSeries().some((series) => Object.values(series.labels).includes('books.shop:7000'))).toBe(false);
  });

  it('keeps client and upstream connections alive: 20 requests share one upstream connection', async () => {
    const upstream = await upstreamWith();
    const { port, proxy, metrics } = await proxyTo([upstream]);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    for (let i = 0; i < 20; i++) {
      const result = await httpCall(port, { path: `/r/${i}`, headers: { host: BOOKS }, agent });
      expect(result.status).toBe(200);
    }
    expect(upstream.requests).toHaveLength(20);
    expect(new Set(upstream.requests.map((request) => request.connection))).toEqual(new Set([1]));
    expect(upstream.stats.connections).toBe(1);
    expect(proxy.connectionCount()).toBe(1);
    expect(metrics.value('request_total', { direction: 'outbound' })).toBe(20);
    expect(metrics.value('response_total', { classification: 'success' })).toBe(20);
  });

  it('serves curl (GET, chunked POST) through the proxy', async () => {
    const upstream = await upstreamWith();
    const { port } = await proxyTo([upstream]);
    const curl = (args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile('curl', ['-sS', '--http1.1', '-H', `Host: ${BOOKS}`, ...args], (error, stdout, stderr) =>
          error ? reject(new Error(`curl failed (install it with apt-get install -y curl): ${stderr}`)) : resolve(stdout),
        ),
      );
    const get = JSON.parse(await curl([`http://127.0.0.1:${port}/curl`])) as { url: string };
    expect(get.url).toBe('/curl');
    const post = JSON.parse(
      await curl(['-H', 'Transfer-Encoding: chunked', '--data-binary', 'x'.repeat(70_000), `http://127.0.0.1:${port}/upload`]),
    ) as { bytes: number; headers: Record<string, string> };
    expect(post.bytes).toBe(70_000);
  });

  it('streams a 50 MB chunked upload without buffering it', async () => {
    let receivedByUpstream = 0;
    const upstream = await upstreamWith((req, res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        receivedByUpstream = bytes;
        hash.update(chunk);
      });
      req.on('end', () => res.end(JSON.stringify({ bytes, sha256: hash.digest('hex'), te: req.headers['transfer-encoding'] })));
    });
    const { port } = await proxyTo([upstream]);
    const chunkSize = 64 * 1024;
    const chunks = (50 * 1024 * 1024) / chunkSize;
    const expected = createHash('sha256');
    const rssGrowthMb = rssWatch();
    let sentByClient = 0;
    let mostInFlight = 0;
    const answer = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'PUT', path: '/big', headers: { host: BOOKS }, agent: false }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      let index = 0;
      const pump = (): void => {
        while (index < chunks) {
          const chunk = chunkAt(index);
          expected.update(chunk);
          index += 1;
          sentByClient += chunk.length;
          mostInFlight = Math.max(mostInFlight, sentByClient - receivedByUpstream);
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    const growth = rssGrowthMb();
    expect(JSON.parse(answer)).toEqual({ bytes: 50 * 1024 * 1024, sha256: expected.digest('hex'), te: 'chunked' });
    // Bytes the client got rid of but the upstream had not seen yet: socket buffers and stream high-water marks only.
    expect(mostInFlight).toBeLessThan(16 * 1024 * 1024);
    expect(growth).toBeLessThan(150);
  });

  it('streams a 50 MB chunked download and holds the upstream back while the client reads slowly', async () => {
    const chunkSize = 64 * 1024;
    const total = 50 * 1024 * 1024;
    let sent = 0;
    const upstream = await upstreamWith((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let index = 0;
      const pump = (): void => {
        while (sent < total) {
          const chunk = chunkAt(index);
          index += 1;
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const { port } = await proxyTo([upstream]);
    const rssGrowthMb = rssWatch();
    const expected = createHash('sha256');
    for (let i = 0; i < total / chunkSize; i++) expected.update(chunkAt(i));
    const result = await new Promise<{ bytes: number; sha256: string; sentWhilePaused: number; chunked: boolean }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/download', headers: { host: BOOKS }, agent: false }, (res) => {
        const hash = createHash('sha256');
        let bytes = 0;
        let sentWhilePaused = 0;
        res.once('data', () => {
          res.pause();
          setTimeout(() => {
            sentWhilePaused = sent;
            res.resume();
          }, 400);
        });
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          hash.update(chunk);
        });
        res.on('end', () => resolve({ bytes, sha256: hash.digest('hex'), sentWhilePaused, chunked: res.headers['transfer-encoding'] === 'chunked' }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    const growth = rssGrowthMb();
    expect(result.bytes).toBe(total);
    expect(result.sha256).toBe(expected.digest('hex'));
    expect(result.chunked).toBe(true);
    // While the client did not read, the upstream could only fill the socket buffers, not the proxy's memory.
    expect(result.sentWhilePaused).toBeLessThan(16 * 1024 * 1024);
    expect(growth).toBeLessThan(150);
  });

  it('forwards response trailers of a chunked response', async () => {
    const upstream = await upstreamWith((_req, res) => {
      res.writeHead(200, { trailer: 'x-checksum' });
      res.write('part one, ');
      res.addTrailers({ 'x-checksum': 'c0ffee' });
      res.end('part two');
    });
    const { port } = await proxyTo([upstream]);
    const trailers = await new Promise<{ body: string; checksum: string | undefined }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/', headers: { host: BOOKS, te: 'trailers' }, agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ body, checksum: res.trailers['x-checksum'] }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(trailers).toEqual({ body: 'part one, part two', checksum: 'c0ffee' });
  });

  it('answers 502 when the upstream resets in the middle of an upload, and keeps serving', async () => {
    let first = true;
    const upstream = await upstreamWith((req, res) => {
      if (!first) {
        req.resume();
        req.on('end', () => res.end('fine'));
        return;
      }
      first = false;
      req.once('data', () => req.socket.destroy());
    });
    const { port } = await proxyTo([upstream]);
    const outcome = await httpCall(port, { method: 'POST', path: '/upload', headers: { host: BOOKS }, body: Buffer.alloc(4 * 1024 * 1024) }).then(
      (result) => result.status,
      () => 'connection closed',
    );
    expect([502, 'connection closed']).toContain(outcome);
    const after = await httpCall(port, { path: '/again', headers: { host: BOOKS } });
    expect(after.status).toBe(200);
    expect(after.body.toString()).toBe('fine');
  });

  it('inbound: forwards to the local app, drops a forged weft-client-id and labels the traffic inbound', async () => {
    const app = await upstreamWith();
    const inbound = await startInboundProxy(app.address);
    cleanups.push(() => inbound.close());
    const result = await httpCall(inbound.port, { path: '/in', headers: { host: 'anything.example', 'weft-client-id': 'forged.identity' } });
    expect(result.status).toBe(200);
    const seen = JSON.parse(result.body.toString()) as { url: string; headers: Record<string, string> };
    expect(seen.url).toBe('/in');
    expect(seen.headers['weft-client-id']).toBeUndefined();
    const labels = { direction: 'inbound', target_addr: `127.0.0.1:${app.port}`, tls: 'no_identity', no_tls_reason: 'no_tls_from_remote' };
    expect(inbound.metrics.value('request_total', labels)).toBe(1);
    expect(inbound.metrics.value('response_total', { ...labels, classification: 'success', status_code: '200' })).toBe(1);
    expect(inbound.metrics.allSeries().some((series) => 'authority' in series.labels)).toBe(false);
  });

  it('relays a 16 MB WebSocket message byte for byte, and the tunnel outlives the request timeout', async () => {
    const upstream = await upstreamWith();
    const wss = new WebSocketServer({ server: upstream.server });
    wss.on('connection', (socket) => socket.on('message', (data: Buffer, isBinary) => socket.send(data, { binary: isBinary })));
    cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    const { port } = await proxyTo([upstream], { limits: { ...DEFAULT_HTTP1_SERVER_LIMITS, requestTimeoutMs: 1_000, headersTimeoutMs: 500 } });
    const client = new WebSocket(`ws://127.0.0.1:${port}/echo`, { headers: { host: BOOKS }, maxPayload: 64 * 1024 * 1024 });
    cleanups.push(() => client.terminate());
    await new Promise<void>((resolve, reject) => client.once('open', () => resolve()).once('error', reject));
    const payload = Buffer.concat(Array.from({ length: 256 }, (_, i) => patternChunk(i, 64 * 1024)));
    const echoed = new Promise<Buffer>((resolve) => client.once('message', (data: Buffer) => resolve(data)));
    client.send(payload);
    expect((await echoed).equals(payload)).toBe(true);
    // Idle past the server's request timeout: the upgraded connection is no longer an HTTP request.
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    const small = new Promise<Buffer>((resolve) => client.once('message', (data: Buffer) => resolve(data)));
    client.send('still here');
    expect((await small).toString()).toBe('still here');
  });

  it('relays an upgrade the upstream declines and closes the connection instead of tunnelling', async () => {
    const upstream = await upstreamWith((_req, res) => res.end('no upgrade here'));
    const { port } = await proxyTo([upstream]);
    const answer = await sendRaw(
      port,
      `GET /ws HTTP/1.1\r\nHost: ${BOOKS}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    );
    expect(answer.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer.text.toLowerCase()).toContain('connection: close');
    expect(answer.text).toContain('no upgrade here');
    expect(answer.closedByServer).toBe(true);
  });

  it('tunnels CONNECT to the upstream and splices the sockets after its 200', async () => {
    const echoSockets = new Set<Socket>();
    const echo = createNetServer((socket) => {
      echoSockets.add(socket);
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      for (const socket of echoSockets) socket.destroy();
      return new Promise<void>((resolve) => echo.close(() => resolve()));
    });
    const echoPort = (echo.address() as { port: number }).port;
    const upstream = await upstreamWith();
    // The upstream is itself a forward proxy that only accepts CONNECT to the echo server.
    upstream.server.on('connect', (req, socket: Socket, head: Buffer) => {
      if (req.url !== `127.0.0.1:${echoPort}`) {
        socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      const target = netConnect(echoPort, '127.0.0.1', () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        target.write(head);
        socket.pipe(target).pipe(socket);
      });
    });
    const { port } = await proxyTo([upstream], {}, true);
    const client = netConnect(port, '127.0.0.1');
    cleanups.push(() => void client.destroy());
    client.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: 127.0.0.1:${echoPort}\r\n\r\n`);
    let received = '';
    const waitFor = (text: string) =>
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (received.includes(text)) {
            client.off('data', onData);
            resolve();
          }
        };
        const onData = (chunk: Buffer): void => {
          received += chunk.toString('latin1');
          check();
        };
        client.on('data', onData);
        check();
      });
    await waitFor('\r\n\r\n');
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    client.write('ping through the tunnel');
    await waitFor('ping through the tunnel');
    expect(upstream.requests).toHaveLength(0);
  });
});
