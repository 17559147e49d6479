import { InMemoryDiscoverEndpoints, InMemoryDiscoverProfile, InMemoryProxyMetrics, SeededRandom } from '@weft/adapter-memory';
import { SystemClock } from '@weft/adapter-system';
import { DEFAULT_RETRY_BUDGET, type ServiceProfile } from '@weft/core';
import { createHash } from 'node:crypto';
import { type ClientHttp2Session, type ClientHttp2Stream, connect as connectH2, constants, type IncomingHttpHeaders } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { PROXY_ERROR_HEADER } from '../http/proxy-error.js';
import { EndpointBalancer } from '../outbound/endpoint-balancer.js';
import { PortSet } from '../proxy-config.js';
import { listenUpstream } from '../tcp/listen-upstream.js';
import { FrameFlag, FrameType, goawayCode, headersFrame, RawH2Client, requestFields } from './h2-frames.spec-helper.js';
import { H2Proxy, type H2ProxyOptions } from './h2-proxy.js';
import {
  authority,
  endpointAt,
  type H2StreamHandler,
  type H2Upstream,
  type H2ProxyUnderTest,
  startH2Upstream,
  startInboundH2Proxy,
  startOutboundH2Proxy,
} from './h2-test-kit.spec-helper.js';
import { resetH2Stream } from './reset-h2-stream.js';

const BOOKS = 'books.shop.svc.cluster.local:7000';
const books = authority(BOOKS);
const { NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_INTERNAL_ERROR, NGHTTP2_REFUSED_STREAM } = constants;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function upstreamWith(handler: H2StreamHandler): Promise<H2Upstream> {
  const upstream = await startH2Upstream(handler);
  cleanups.push(() => upstream.close());
  return upstream;
}

async function proxyTo(upstreams: H2Upstream[], options: Partial<H2ProxyOptions> = {}): Promise<H2ProxyUnderTest> {
  const proxy = await startOutboundH2Proxy(options);
  cleanups.push(() => proxy.close());
  proxy.discovery.setEndpoints(books, upstreams.map((upstream) => endpointAt(upstream.address)));
  return proxy;
}

function session(port: number): ClientHttp2Session {
  const client = connectH2(`http://127.0.0.1:${port}`);
  client.on('error', () => undefined);
  cleanups.push(() => void client.destroy());
  return client;
}

interface Exchange {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly trailers: IncomingHttpHeaders | undefined;
  readonly rstCode: number | undefined;
}

/** One request; collects the response, its trailers and the stream's close code. */
function exchange(client: ClientHttp2Session, headers: Record<string, string | string[]> | string[], body?: Buffer): Promise<Exchange> {
  return new Promise((resolve) => {
    const stream = client.request(headers, { endStream: body === undefined });
    let head: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    stream.on('response', (received) => (head = received));
    stream.on('trailers', (received) => (trailers = received));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => undefined);
    stream.on('close', () => resolve({ headers: head, body: Buffer.concat(chunks), trailers, rstCode: stream.rstCode }));
    if (body !== undefined) stream.end(body);
  });
}

const get = (path: string, extra: Record<string, string> = {}) => ({ ':path': path, ':authority': BOOKS, ...extra });

/** Reads a request body to the end, then calls back with its size and SHA-256. */
function readBody(stream: Parameters<H2StreamHandler>[0], done: (bytes: number, sha: string) => void): void {
  const hash = createHash('sha256');
  let bytes = 0;
  stream.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    hash.update(chunk);
  });
  stream.on('end', () => done(bytes, hash.digest('hex')));
}

/** 16 distinct 64 KiB chunks, cycled: a lost, repeated or reordered chunk changes the hash; no 20 MB buffer exists. */
const PATTERN = Array.from({ length: 16 }, (_, index) => {
  const chunk = Buffer.allocUnsafe(64 * 1024);
  for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((index * 2_654_435_761 + i) >>> 0, i);
  return chunk;
});
const TWENTY_MB_CHUNKS = 320;

function patternSha(chunks: number): string {
  const hash = createHash('sha256');
  for (let i = 0; i < chunks; i++) hash.update(PATTERN[i % 16] as Buffer);
  return hash.digest('hex');
}

/** Writes the pattern to a writable HTTP/2 stream, honouring its backpressure. */
async function writePattern(
  stream: { write(chunk: Buffer): boolean; once(event: 'drain', listener: () => void): unknown; end(): void },
  chunks: number,
  written = { bytes: 0 },
) {
  for (let i = 0; i < chunks; i++) {
    const chunk = PATTERN[i % 16] as Buffer;
    written.bytes += chunk.length;
    if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once('drain', resolve));
  }
  stream.end();
}

/** Highest RSS growth over the start while `run` runs, in MB. */
async function peakRssGrowthMb(run: () => Promise<void>): Promise<number> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  return (Math.max(peak, process.memoryUsage().rss) - start) / 1024 / 1024;
}

function profile(overrides: Partial<ServiceProfile>): ServiceProfile {
  return { fullyQualifiedName: 'books.shop.svc.cluster.local', routes: [], retryBudget: DEFAULT_RETRY_BUDGET, dstOverrides: [], opaqueProtocol: false, ...overrides };
}

describe('H2Proxy forwarding (Node http2 clients and servers)', () => {
  it('routes by :authority over one reused upstream session, keeping headers, repeats, te: trailers and trailers', async () => {
    const upstream = await upstreamWith((stream) => {
      stream.respond({ ':status': 200, 'x-answer': 'yes' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'abc' }));
      stream.end('body');
    });
    const { port, metrics } = await proxyTo([upstream]);
    const client = session(port);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        exchange(client, [':path', `/r/${i}`, ':method', 'GET', ':authority', BOOKS, 'x-dup', 'one', 'x-dup', 'two', 'te', 'trailers']),
      ),
    );
    for (const result of results) {
      expect(result.headers[':status']).toBe(200);
      expect(result.headers['x-answer']).toBe('yes');
      expect(result.body.toString()).toBe('body');
      expect(result.trailers?.['x-checksum']).toBe('abc');
    }
    expect(upstream.stats.sessions).toBe(1);
    expect(upstream.stats.streams).toBe(30);
    const seen = upstream.requests[0] as string[];
    const values = (name: string) => seen.flatMap((field, i) => (i % 2 === 0 && field === name ? [seen[i + 1]] : []));
    expect(values(':authority')).toEqual([BOOKS]);
    expect(values('x-dup')).toEqual(['one', 'two']);
    expect(values('te')).toEqual(['trailers']);
    expect(metrics.value('response_total', { authority: BOOKS, classification: 'success', status_code: '200' })).toBe(30);
  });

  it('transparent mode: an authority discovery does not know goes to the original destination', async () => {
    const upstream = await upstreamWith((stream) => stream.respond({ ':status': 200, 'x-direct': 'yes' }, { endStream: true }));
    const proxy = await startOutboundH2Proxy({}, { originalDst: upstream.address });
    cleanups.push(() => proxy.close());
    const result = await exchange(session(proxy.port), { ':path': '/', ':authority': 'legacy.example.com:8080' });
    expect(result.headers['x-direct']).toBe('yes');
    // The client's raw authority never becomes a label value.
    expect(proxy.metrics.allSeries().some((series) => Object.values(series.labels).includes('legacy.example.com:8080'))).toBe(false);
  });

  it('streams a 20 MB upload and a 20 MB download byte-exact, holding only a window of it in flight', async () => {
    const downloadWritten = { bytes: 0 };
    const upstream = await upstreamWith((stream, raw) => {
      if (raw.includes('/upload')) {
        readBody(stream, (bytes, sha) => stream.respond({ ':status': 200, 'x-bytes': String(bytes), 'x-sha': sha }, { endStream: true }));
        return;
      }
      stream.respond({ ':status': 200 });
      void writePattern(stream, TWENTY_MB_CHUNKS, downloadWritten);
    });
    const { port } = await proxyTo([upstream]);
    const client = session(port);
    const expected = patternSha(TWENTY_MB_CHUNKS);
    const uploadWritten = { bytes: 0 };
    let downloadReceived = 0;
    let mostInFlight = 0;
    const sampler = setInterval(() => {
      mostInFlight = Math.max(mostInFlight, uploadWritten.bytes - upstream.stats.bytesReceived, downloadWritten.bytes - downloadReceived);
    }, 2);
    const growth = await peakRssGrowthMb(async () => {
      const upload = await new Promise<IncomingHttpHeaders>((resolve) => {
        const stream = client.request({ ':path': '/upload', ':method': 'POST', ':authority': BOOKS });
        stream.on('response', resolve);
        stream.resume();
        void writePattern(stream, TWENTY_MB_CHUNKS, uploadWritten);
      });
      expect(upload['x-bytes']).toBe(String(20 * 1024 * 1024));
      expect(upload['x-sha']).toBe(expected);
      const download = await new Promise<string>((resolve) => {
        const stream = client.request(get('/download'), { endStream: true });
        const hash = createHash('sha256');
        stream.on('data', (chunk: Buffer) => {
          downloadReceived += chunk.length;
          hash.update(chunk);
        });
        stream.on('end', () => resolve(hash.digest('hex')));
      });
      expect(downloadReceived).toBe(20 * 1024 * 1024);
      expect(download).toBe(expected);
    });
    clearInterval(sampler);
    // Flow-control windows and socket buffers, never the body: what the sender is ahead of the receiver stays small.
    expect(mostInFlight).toBeLessThan(4 * 1024 * 1024);
    expect(growth).toBeLessThan(150);
  });

  it('passes an upstream reset mid-response on to the client with the same code, and no END_STREAM before it', async () => {
    const upstream = await upstreamWith((stream) => {
      stream.respond({ ':status': 200 });
      stream.write('partial');
      setTimeout(() => resetH2Stream(stream, NGHTTP2_ENHANCE_YOUR_CALM), 30);
    });
    const { port } = await proxyTo([upstream]);
    const raw = await RawH2Client.open(port);
    cleanups.push(() => raw.destroy());
    raw.write(headersFrame(1, requestFields('/reset', BOOKS)));
    await until(() => raw.frames.some((read) => read.type === FrameType.RST_STREAM && read.streamId === 1));
    const ofStream = raw.frames.filter((read) => read.streamId === 1);
    expect(ofStream.map((read) => read.type)).toEqual([FrameType.HEADERS, FrameType.DATA, FrameType.RST_STREAM]);
    expect(ofStream.some((read) => (read.flags & FrameFlag.END_STREAM) !== 0)).toBe(false);
    expect(ofStream[2]?.payload.readUInt32BE(0)).toBe(NGHTTP2_ENHANCE_YOUR_CALM);
  });

  it('passes an upstream reset before any response on to the client with the same code', async () => {
    const upstream = await upstreamWith((stream) => resetH2Stream(stream, NGHTTP2_INTERNAL_ERROR));
    const { port } = await proxyTo([upstream]);
    const result = await exchange(session(port), get('/reset-early'));
    expect(result.rstCode).toBe(NGHTTP2_INTERNAL_ERROR);
    expect(upstream.stats.streams).toBe(1);
  });

  it('passes a client reset upstream with the same code', async () => {
    const codes: number[] = [];
    const upstream = await upstreamWith((stream) => stream.once('close', () => codes.push(stream.rstCode ?? -1)));
    const { port } = await proxyTo([upstream]);
    const stream: ClientHttp2Stream = session(port).request(get('/hang'), { endStream: true });
    stream.on('error', () => undefined);
    await until(() => upstream.stats.streams === 1);
    stream.close(NGHTTP2_ENHANCE_YOUR_CALM);
    await until(() => codes.length === 1);
    expect(codes).toEqual([NGHTTP2_ENHANCE_YOUR_CALM]);
  });

  it('sends a stream the upstream refused (REFUSED_STREAM: not processed) again', async () => {
    let refused = 0;
    const upstream = await upstreamWith((stream) => {
      if (refused === 0) {
        refused += 1;
        resetH2Stream(stream, NGHTTP2_REFUSED_STREAM);
        return;
      }
      stream.respond({ ':status': 200 }, { endStream: true });
    });
    const { port } = await proxyTo([upstream]);
    const result = await exchange(session(port), get('/refused-once'));
    expect(result.headers[':status']).toBe(200);
    expect(upstream.stats.streams).toBe(2);
  });

  it('reconnects after the upstream closes its session with GOAWAY', async () => {
    const upstream = await upstreamWith((stream) => {
      stream.respond({ ':status': 200 }, { endStream: true });
      stream.session?.close();
    });
    const { port } = await proxyTo([upstream]);
    const client = session(port);
    for (let i = 0; i < 3; i++) expect((await exchange(client, get(`/r/${i}`))).headers[':status']).toBe(200);
    expect(upstream.stats.sessions).toBe(3);
  });

  it('answers a synthetic 503 with weft-proxy-error for an authority discovery does not know', async () => {
    const { port } = await proxyTo([]);
    const result = await exchange(session(port), { ':path': '/', ':authority': 'ghost.shop.svc.cluster.local:7000' });
    expect(result.headers[':status']).toBe(503);
    expect(String(result.headers[PROXY_ERROR_HEADER])).toContain('ghost.shop.svc.cluster.local:7000');
    expect(result.body.toString()).toContain('is known to discovery');
  });

  it('answers 504 with weft-proxy-error when the route times out', async () => {
    const upstream = await upstreamWith(() => undefined);
    const proxy = await proxyTo([upstream]);
    proxy.profiles.setProfile(books, profile({ routes: [{ name: 'slow', condition: { pathRegex: '/slow' }, responseClasses: [], isRetryable: false, timeoutMs: 100 }] }));
    const result = await exchange(session(proxy.port), get('/slow'));
    expect(result.headers[':status']).toBe(504);
    expect(String(result.headers[PROXY_ERROR_HEADER])).toContain('timed out after 100 ms');
  });

  it('replays a small request body for a retry, and never retries a body over 64 KiB', async () => {
    const upstream = await upstreamWith((stream) => readBody(stream, (bytes) => stream.respond({ ':status': 503, 'x-bytes': String(bytes) }, { endStream: true })));
    const proxy = await proxyTo([upstream]);
    proxy.profiles.setProfile(books, profile({ routes: [{ name: 'post', condition: { method: 'POST' }, responseClasses: [], isRetryable: true }] }));
    const client = session(proxy.port);
    const post = { ':path': '/items', ':method': 'POST', ':authority': BOOKS };
    const small = await exchange(client, post, Buffer.alloc(10_000, 7));
    expect(small.headers[':status']).toBe(503);
    expect(upstream.stats.streams).toBe(3); // maxAttempts, each with the whole body
    expect(upstream.stats.bytesReceived).toBe(30_000);
    const large = await exchange(client, post, Buffer.alloc(100_000, 7));
    expect(large.headers[':status']).toBe(503);
    expect(large.headers['x-bytes']).toBe('100000');
    expect(upstream.stats.streams).toBe(4);
  });

  it('drains on close(): GOAWAY to clients, open streams finish, later ones never reach the upstream', async () => {
    const upstream = await upstreamWith((stream) => setTimeout(() => stream.respond({ ':status': 200 }, { endStream: true }), 500));
    const { port, proxy } = await proxyTo([upstream]);
    const raw = await RawH2Client.open(port);
    cleanups.push(() => raw.destroy());
    raw.write(headersFrame(1, requestFields('/slow', BOOKS)));
    await until(() => upstream.stats.streams === 1);
    let closed = false;
    const closing = proxy.close().then(() => (closed = true));
    await until(() => raw.goaway() !== undefined);
    const goaway = raw.goaway();
    expect(goaway?.payload.readUInt32BE(0)).toBe(1); // last stream id: stream 1 still gets served
    expect(goaway !== undefined && goawayCode(goaway)).toBe(0);
    expect(closed).toBe(false);
    raw.write(headersFrame(3, requestFields('/late', BOOKS)));
    await closing;
    expect(upstream.stats.streams).toBe(1);
    expect(raw.frames.find((read) => read.streamId === 1 && read.type === FrameType.HEADERS)?.flags).toBe(FrameFlag.END_HEADERS | FrameFlag.END_STREAM);
    expect(proxy.sessionCount()).toBe(0);
    expect(proxy.upstreamSessionCount()).toBe(0);
  });

  it('forceClose() cuts open streams at once', async () => {
    const upstream = await upstreamWith(() => undefined);
    const { port, proxy } = await proxyTo([upstream]);
    const pending = exchange(session(port), get('/hang'));
    await until(() => upstream.stats.streams === 1);
    proxy.forceClose();
    const result = await pending;
    expect(result.headers[':status']).toBeUndefined();
    expect(proxy.sessionCount()).toBe(0);
  });

  it('inbound: forwards to the local app, drops a client-supplied weft-client-id, keeps :authority', async () => {
    const app = await upstreamWith((stream) => stream.respond({ ':status': 200 }, { endStream: true }));
    const proxy = await startInboundH2Proxy(app.address);
    cleanups.push(() => proxy.close());
    const result = await exchange(session(proxy.port), get('/in', { 'weft-client-id': 'forged', 'x-kept': '1' }));
    expect(result.headers[':status']).toBe(200);
    const seen = app.requests[0] as string[];
    expect(seen).not.toContain('weft-client-id');
    expect(seen).toContain('x-kept');
    expect(seen[seen.indexOf(':authority') + 1]).toBe(BOOKS);
  });

  it('serves as the h2 handler of listenUpstream, routing every stream to the listener target', async () => {
    const upstream = await upstreamWith((stream) => stream.respond({ ':status': 200 }, { endStream: true }));
    const discovery = new InMemoryDiscoverEndpoints();
    discovery.setEndpoints(books, [endpointAt(upstream.address)]);
    const metrics = new InMemoryProxyMetrics();
    const clock = new SystemClock();
    const random = new SeededRandom(3);
    const h2 = new H2Proxy(
      { direction: 'outbound', balancers: (target) => new EndpointBalancer(discovery, target, clock, random), profiles: new InMemoryDiscoverProfile() },
      { metrics, clock, random },
    );
    const target = { name: 'books', authority: books, listenAddr: { ip: '127.0.0.1', port: 0 } };
    const listener = await listenUpstream({
      upstream: target,
      settings: { opaquePorts: new PortSet([]), detectTimeoutMs: 10_000, connectTimeoutMs: 1_000, failFastTimeoutMs: 1_000 },
      balancer: new EndpointBalancer(discovery, books, clock, random),
      discovery,
      metrics,
      handlers: { h2: (detected) => h2.handleH2Connection(detected.socket, { target: target.authority }) },
    });
    cleanups.push(async () => {
      await listener.close();
      h2.forceClose();
    });
    const result = await exchange(session(listener.address.port), { ':path': '/', ':authority': `127.0.0.1:${listener.address.port}` });
    expect(result.headers[':status']).toBe(200);
    expect(metrics.value('response_total', { authority: BOOKS, classification: 'success' })).toBe(1);
  });
});

async function until(check: () => boolean, ms = 2_000): Promise<void> {
  const start = Date.now();
  while (!check() && Date.now() - start < ms) await new Promise((resolve) => setTimeout(resolve, 5));
}
