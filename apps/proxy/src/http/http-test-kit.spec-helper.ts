// Test peers for the HTTP/1 proxy specs: recording upstream servers on loopback, a proxy under test, raw and HTTP clients.
import { InMemoryDiscoverEndpoints, InMemoryDiscoverProfile, InMemoryProxyMetrics, SeededRandom } from '@weft/adapter-memory';
import { SystemClock } from '@weft/adapter-system';
import { type Authority, type Endpoint, makeEndpoint, parseAuthority, type SocketAddress, unwrap } from '@weft/core';
import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request as httpRequest,
  type Server,
  type ServerResponse,
} from 'node:http';
import { connect as netConnect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { EndpointBalancer } from '../outbound/endpoint-balancer.js';
import { type Http1ConnectionInfo, Http1Proxy, type Http1ProxyOptions } from './http1-proxy.js';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Which upstream connection carried it (1, 2, ... in accept order). */
  readonly connection: number;
}

export interface Upstream {
  readonly port: number;
  readonly address: SocketAddress;
  readonly server: Server;
  readonly requests: RecordedRequest[];
  /** Connections accepted and bytes received over all of them: what reached this server at all. */
  readonly stats: { connections: number; bytesReceived: number };
  /** Closes the listener and every open connection (an endpoint that dies). */
  kill(): void;
  close(): Promise<void>;
}

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, upstream: Upstream) => void;

/** Answers with a JSON summary after reading the whole body. */
export const echoSummary: UpstreamHandler = (req, res, upstream) => {
  let bytes = 0;
  req.on('data', (chunk: Buffer) => (bytes += chunk.length));
  req.on('end', () => {
    const body = JSON.stringify({ port: upstream.port, method: req.method, url: req.url, bytes, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
};

/** An HTTP/1 server on 127.0.0.1 that records every request, connection and byte it receives. */
export async function startUpstream(handler: UpstreamHandler = echoSummary): Promise<Upstream> {
  const server = createServer({ keepAliveTimeout: 10_000 });
  const sockets = new Set<Socket>();
  const connectionIds = new WeakMap<Socket, number>();
  const stats = { connections: 0, bytesReceived: 0 };
  const requests: RecordedRequest[] = [];
  server.on('connection', (socket: Socket) => {
    stats.connections += 1;
    connectionIds.set(socket, stats.connections);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => (stats.bytesReceived += chunk.length));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const kill = (): void => {
    server.close();
    for (const socket of sockets) socket.destroy();
  };
  const upstream: Upstream = {
    port,
    address: { ip: '127.0.0.1', port },
    server,
    requests,
    stats,
    kill,
    close: async () => {
      kill();
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, connection: connectionIds.get(req.socket) ?? 0 });
    handler(req, res, upstream);
  });
  return upstream;
}

export interface ProxyUnderTest {
  readonly port: number;
  readonly proxy: Http1Proxy;
  readonly discovery: InMemoryDiscoverEndpoints;
  readonly profiles: InMemoryDiscoverProfile;
  readonly metrics: InMemoryProxyMetrics;
  close(): Promise<void>;
}

/**
 * An outbound proxy behind a plain TCP listener that plays the connection layer: it reads the first bytes,
 * pauses, and hands the socket with those bytes to handleHttp1Connection.
 */
export async function startOutboundProxy(
  options: Partial<Http1ProxyOptions> = {},
  connection?: Http1ConnectionInfo,
): Promise<ProxyUnderTest> {
  const discovery = new InMemoryDiscoverEndpoints();
  const profiles = new InMemoryDiscoverProfile();
  const metrics = new InMemoryProxyMetrics();
  const clock = new SystemClock();
  const random = new SeededRandom(7);
  const proxy = new Http1Proxy(
    { direction: 'outbound', balancers: (target) => new EndpointBalancer(discovery, target, clock, random), profiles },
    { metrics, clock, random },
    options,
  );
  const front = await listenFront((socket, preRead) => proxy.handleHttp1Connection(socket, preRead, connection));
  return {
    port: front.port,
    proxy,
    discovery,
    profiles,
    metrics,
    close: async () => {
      front.server.close();
      await proxy.close();
    },
  };
}

/** An inbound proxy in front of `localApp`, behind the same stand-in for the connection layer. */
export async function startInboundProxy(localApp: SocketAddress, options: Partial<Http1ProxyOptions> = {}): Promise<ProxyUnderTest> {
  const metrics = new InMemoryProxyMetrics();
  const proxy = new Http1Proxy({ direction: 'inbound', localApp }, { metrics, clock: new SystemClock(), random: new SeededRandom(7) }, options);
  const front = await listenFront((socket, preRead) => proxy.handleHttp1Connection(socket, preRead));
  return {
    port: front.port,
    proxy,
    discovery: new InMemoryDiscoverEndpoints(),
    profiles: new InMemoryDiscoverProfile(),
    metrics,
    close: async () => {
      front.server.close();
      await proxy.close();
    },
  };
}

/** A plain TCP listener that reads each connection's first bytes, as protocol detection does, then hands it on. */
export async function listenFront(hand: (socket: Socket, preRead: Buffer) => void): Promise<{ port: number; server: NetServer }> {
  const server = createNetServer((socket) => {
    socket.once('data', (preRead: Buffer) => {
      socket.pause();
      hand(socket, preRead);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

export function authority(text: string): Authority {
  return unwrap(parseAuthority(text));
}

export function endpointOf(upstream: Upstream, labels: Record<string, string> = {}): Endpoint {
  return unwrap(makeEndpoint({ address: upstream.address, labels }));
}

export interface HttpResult {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface HttpCall {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer | string;
  readonly agent?: Agent | false;
}

/** One request with Node's http client; the whole response body is collected. */
export function httpCall(port: number, call: HttpCall = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method: call.method ?? 'GET', path: call.path ?? '/', headers: call.headers, agent: call.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(call.body);
  });
}

export interface RawExchange {
  /** Everything the server sent, as latin1 text. */
  readonly text: string;
  /** Whether the server closed the connection (rather than the client giving up). */
  readonly closedByServer: boolean;
}

/** Writes raw bytes and collects the answer until the server closes the connection or `waitMs` passes. */
export function sendRaw(port: number, bytes: string | Buffer, waitMs = 2_000): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port }, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    let closedByServer = false;
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => (closedByServer = true));
    socket.on('error', () => (closedByServer = true));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closedByServer });
    });
  });
}

/** Runs `count` calls with at most `concurrency` in flight; results in call order. */
export async function runConcurrently<T>(count: number, concurrency: number, call: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next;
      next += 1;
      results[index] = await call(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}
