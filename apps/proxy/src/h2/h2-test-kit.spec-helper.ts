// Test peers for the HTTP/2 proxy specs: an H2Proxy behind the real protocol detector, gRPC and plain h2 upstreams.
import {
  type CallOptions,
  Client,
  type ClientReadableStream,
  credentials,
  type handleBidiStreamingCall,
  type handleClientStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  Metadata,
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type StatusObject,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { InMemoryDiscoverEndpoints, InMemoryDiscoverProfile, InMemoryProxyMetrics, SeededRandom } from '@weft/adapter-memory';
import { SystemClock } from '@weft/adapter-system';
import { type Authority, type Endpoint, makeEndpoint, parseAuthority, type SocketAddress, unwrap } from '@weft/core';
import { createServer as createH2Server, type Http2Server, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { EndpointBalancer } from '../outbound/endpoint-balancer.js';
import { ConnectionDetector } from '../transport/connection-detector.js';
import { resetSocket } from '../transport/reset-socket.js';
import { type H2ConnectionInfo, H2Proxy, type H2ProxyOptions } from './h2-proxy.js';

export function authority(text: string): Authority {
  return unwrap(parseAuthority(text));
}

export function endpointAt(address: SocketAddress, labels: Record<string, string> = {}): Endpoint {
  return unwrap(makeEndpoint({ address, labels }));
}

// ----- the proxy under test -----

export interface H2ProxyUnderTest {
  readonly port: number;
  readonly proxy: H2Proxy;
  readonly discovery: InMemoryDiscoverEndpoints;
  readonly profiles: InMemoryDiscoverProfile;
  readonly metrics: InMemoryProxyMetrics;
  close(): Promise<void>;
}

/**
 * A TCP listener that plays the connection layer with the real ConnectionDetector: it reads the first bytes, decides
 * the protocol and hands an h2 socket (replaying from its first byte) to `hand`; anything else is reset.
 */
export async function listenH2Front(hand: (socket: Socket) => void): Promise<{ port: number; server: NetServer }> {
  const refuse = ({ socket }: { socket: Socket }): void => resetSocket(socket);
  const detector = new ConnectionDetector({
    handlers: { h2: ({ socket }) => hand(socket), http1: refuse, tls: refuse, opaque: refuse },
    opaquePorts: new Set<number>(),
    timeoutMs: 10_000,
  });
  const server = createNetServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    detector.accept({ socket, labels: { direction: 'outbound', targetAddr: '127.0.0.1:0', tls: { tls: 'disabled' } }, markFailed: () => undefined }, 0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

/** An outbound H2Proxy with in-memory discovery and profiles, behind `listenH2Front`. */
export async function startOutboundH2Proxy(options: Partial<H2ProxyOptions> = {}, connection?: H2ConnectionInfo): Promise<H2ProxyUnderTest> {
  const discovery = new InMemoryDiscoverEndpoints();
  const profiles = new InMemoryDiscoverProfile();
  const metrics = new InMemoryProxyMetrics();
  const clock = new SystemClock();
  const random = new SeededRandom(11);
  const proxy = new H2Proxy(
    { direction: 'outbound', balancers: (target) => new EndpointBalancer(discovery, target, clock, random), profiles },
    { metrics, clock, random },
    options,
  );
  const front = await listenH2Front((socket) => proxy.handleH2Connection(socket, connection));
  return { port: front.port, proxy, discovery, profiles, metrics, close: closer(front.server, proxy) };
}

/** An inbound H2Proxy in front of `localApp`. */
export async function startInboundH2Proxy(localApp: SocketAddress, options: Partial<H2ProxyOptions> = {}): Promise<H2ProxyUnderTest> {
  const metrics = new InMemoryProxyMetrics();
  const proxy = new H2Proxy({ direction: 'inbound', localApp }, { metrics, clock: new SystemClock(), random: new SeededRandom(11) }, options);
  const front = await listenH2Front((socket) => proxy.handleH2Connection(socket));
  const discovery = new InMemoryDiscoverEndpoints();
  return { port: front.port, proxy, discovery, profiles: new InMemoryDiscoverProfile(), metrics, close: closer(front.server, proxy) };
}

function closer(front: NetServer, proxy: H2Proxy): () => Promise<void> {
  return async () => {
    front.close();
    proxy.forceClose();
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
}

// ----- a plain h2c upstream -----

export interface H2Upstream {
  readonly port: number;
  readonly address: SocketAddress;
  readonly server: Http2Server;
  /** Streams that reached this server, sessions accepted, and request bytes received over all of them. */
  readonly stats: { streams: number; sessions: number; bytesReceived: number };
  /** The raw request headers of every stream, in arrival order. */
  readonly requests: string[][];
  close(): Promise<void>;
}

export type H2StreamHandler = (stream: ServerHttp2Stream, rawHeaders: string[], upstream: H2Upstream) => void;

/** A Node h2c server on 127.0.0.1 that counts what reaches it. */
export async function startH2Upstream(handler: H2StreamHandler): Promise<H2Upstream> {
  const server = createH2Server({ settings: { initialWindowSize: 1024 * 1024 } });
  const sessions = new Set<ServerHttp2Session>();
  const stats = { streams: 0, sessions: 0, bytesReceived: 0 };
  const requests: string[][] = [];
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const upstream: H2Upstream = {
    port,
    address: { ip: '127.0.0.1', port },
    server,
    stats,
    requests,
    close: async () => {
      server.close();
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
  };
  server.on('session', (session: ServerHttp2Session) => {
    stats.sessions += 1;
    sessions.add(session);
    session.on('error', () => undefined);
    session.once('close', () => sessions.delete(session));
  });
  server.on('stream', (stream: ServerHttp2Stream, _headers: unknown, _flags: number, rawHeaders: string[]) => {
    stats.streams += 1;
    requests.push(rawHeaders);
    stream.on('error', () => undefined);
    stream.on('data', (chunk: Buffer) => (stats.bytesReceived += chunk.length));
    handler(stream, rawHeaders, upstream);
  });
  return upstream;
}

// ----- a gRPC test service (messages are JSON bytes, so no codegen is needed) -----

export interface EchoRequest {
  readonly text?: string;
  /** Server streaming: how many replies. */
  readonly count?: number;
  /** The server waits this long before it answers. */
  readonly delayMs?: number;
  /** Server streaming: one reply per interval (a stream that trickles) instead of batches of 100. */
  readonly intervalMs?: number;
  /** The server fails the call with this status and message. */
  readonly fail?: { readonly code: number; readonly message: string };
}

export interface EchoReply {
  readonly text: string;
  readonly index: number;
  readonly port: number;
}

const json = {
  requestSerialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  requestDeserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as unknown,
  responseSerialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  responseDeserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as unknown,
};

export const ECHO_SERVICE = {
  unary: { path: '/weft.test.Echo/Unary', requestStream: false, responseStream: false, ...json },
  serverStream: { path: '/weft.test.Echo/ServerStream', requestStream: false, responseStream: true, ...json },
  clientStream: { path: '/weft.test.Echo/ClientStream', requestStream: true, responseStream: false, ...json },
  bidi: { path: '/weft.test.Echo/Bidi', requestStream: true, responseStream: true, ...json },
} satisfies ServiceDefinition;

/** What a gRPC test server saw. */
export interface GrpcServerLog {
  calls: number;
  cancelled: number;
  /** The metadata of the last call, as a plain map. */
  lastMetadata: Record<string, unknown>;
}

export interface GrpcUpstream {
  readonly port: number;
  readonly address: SocketAddress;
  readonly log: GrpcServerLog;
  close(): Promise<void>;
}

/** Optional replacements for the Echo methods (each test server otherwise echoes). */
export type EchoOverrides = Partial<Record<keyof typeof ECHO_SERVICE, UntypedServiceImplementation[string]>>;

/** A grpc-js server with the Echo service on 127.0.0.1. */
export async function startGrpcUpstream(overrides: EchoOverrides = {}): Promise<GrpcUpstream> {
  const server = new Server();
  const log: GrpcServerLog = { calls: 0, cancelled: 0, lastMetadata: {} };
  let port = 0;
  const seen = (call: { metadata: Metadata; on(event: 'cancelled', listener: () => void): unknown }): void => {
    log.calls += 1;
    log.lastMetadata = call.metadata.getMap();
    call.on('cancelled', () => (log.cancelled += 1));
  };
  const unary: handleUnaryCall<EchoRequest, EchoReply> = (call, callback) => {
    seen(call);
    const request = call.request;
    setTimeout(() => {
      if (request.fail !== undefined) {
        const trailer = new Metadata();
        trailer.set('x-trailer', 'from-server');
        callback({ code: request.fail.code, details: request.fail.message, metadata: trailer });
        return;
      }
      const trailer = new Metadata();
      trailer.set('x-trailer', 'from-server');
      trailer.set('x-trailer-bin', Buffer.from([0, 1, 2, 255]));
      const initial = new Metadata();
      initial.set('x-initial', 'hello');
      call.sendMetadata(initial);
      callback(null, { text: request.text ?? '', index: 0, port }, trailer);
    }, request.delayMs ?? 0);
  };
  const serverStream: handleServerStreamingCall<EchoRequest, EchoReply> = (call) => {
    seen(call);
    const count = call.request.count ?? 1;
    let index = 0;
    let cancelled = false;
    call.on('cancelled', () => (cancelled = true));
    // At most 100 messages a turn, so a long stream never holds the event loop the proxy shares with it.
    const pump = (): void => {
      const batchSize = call.request.intervalMs === undefined ? 100 : 1;
      for (let batch = 0; index < count && batch < batchSize && !cancelled; batch++) {
        const more = call.write({ text: call.request.text ?? '', index, port });
        index += 1;
        if (!more) {
          call.once('drain', pump);
          return;
        }
      }
      if (cancelled) return;
      if (index < count) setTimeout(pump, call.request.intervalMs ?? 0);
      else call.end();
    };
    setTimeout(pump, call.request.delayMs ?? 0);
  };
  const clientStream: handleClientStreamingCall<EchoRequest, EchoReply> = (call, callback) => {
    seen(call);
    const texts: string[] = [];
    call.on('data', (request: EchoRequest) => texts.push(request.text ?? ''));
    call.on('end', () => callback(null, { text: texts.join(','), index: texts.length, port }));
  };
  const bidi: handleBidiStreamingCall<EchoRequest, EchoReply> = (call) => {
    seen(call);
    let index = 0;
    call.on('data', (request: EchoRequest) => {
      call.write({ text: (request.text ?? '').toUpperCase(), index, port });
      index += 1;
    });
    call.on('end', () => call.end());
  };
  server.addService(ECHO_SERVICE, { unary, serverStream, clientStream, bidi, ...overrides } as UntypedServiceImplementation);
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    port,
    address: { ip: '127.0.0.1', port },
    log,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** A grpc-js client through `port`, sending `authorityName` as `:authority` (what the proxy routes by). */
export function echoClient(port: number, authorityName: string): Client {
  return new Client(`127.0.0.1:${port}`, credentials.createInsecure(), { 'grpc.default_authority': authorityName });
}

const serialize = (value: EchoRequest): Buffer => Buffer.from(JSON.stringify(value));
const deserialize = (bytes: Buffer): EchoReply => JSON.parse(bytes.toString()) as EchoReply;

export interface CallOutcome<T> {
  readonly result: T;
  readonly status: StatusObject;
  readonly initialMetadata: Metadata | undefined;
}

/** Options of one call: metadata and a deadline in ms from now. */
export interface EchoCallOptions {
  readonly metadata?: Metadata;
  readonly deadlineMs?: number;
}

function callOptionsOf(options: EchoCallOptions): CallOptions {
  return options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
}

/** Waits for a call's final status (and its initial metadata, if any came). */
function outcomeOf<T>(call: ClientCallLike, result: () => T): Promise<CallOutcome<T>> {
  return new Promise((resolve) => {
    let initialMetadata: Metadata | undefined;
    call.on('metadata', (metadata: Metadata) => (initialMetadata = metadata));
    call.on('status', (status: StatusObject) => setImmediate(() => resolve({ result: result(), status, initialMetadata })));
  });
}

interface ClientCallLike {
  on(event: 'metadata', listener: (metadata: Metadata) => void): unknown;
  on(event: 'status', listener: (status: StatusObject) => void): unknown;
}

export function callUnary(client: Client, request: EchoRequest, options: EchoCallOptions = {}): Promise<CallOutcome<EchoReply | undefined>> {
  let reply: EchoReply | undefined;
  const call = client.makeUnaryRequest(
    ECHO_SERVICE.unary.path,
    serialize,
    deserialize,
    request,
    options.metadata ?? new Metadata(),
    callOptionsOf(options),
    (_error, value) => (reply = value),
  );
  return outcomeOf(call, () => reply);
}

export function callServerStream(client: Client, request: EchoRequest, options: EchoCallOptions = {}): Promise<CallOutcome<EchoReply[]>> {
  const replies: EchoReply[] = [];
  const call = client.makeServerStreamRequest(ECHO_SERVICE.serverStream.path, serialize, deserialize, request, options.metadata ?? new Metadata(), callOptionsOf(options));
  call.on('data', (reply: EchoReply) => replies.push(reply));
  call.on('error', () => undefined);
  return outcomeOf(call, () => replies);
}

export function callClientStream(client: Client, requests: readonly EchoRequest[]): Promise<CallOutcome<EchoReply | undefined>> {
  let reply: EchoReply | undefined;
  const call = client.makeClientStreamRequest(ECHO_SERVICE.clientStream.path, serialize, deserialize, new Metadata(), {}, (_error, value) => (reply = value));
  for (const request of requests) call.write(request);
  call.end();
  return outcomeOf(call, () => reply);
}

/** A bidi call where each reply is awaited before the next request goes: proves the streams interleave. */
export async function callBidiPingPong(client: Client, texts: readonly string[]): Promise<CallOutcome<EchoReply[]>> {
  const replies: EchoReply[] = [];
  const call = client.makeBidiStreamRequest(ECHO_SERVICE.bidi.path, serialize, deserialize, new Metadata(), {});
  const outcome = outcomeOf(call, () => replies);
  call.on('error', () => undefined);
  for (const text of texts) {
    const next = new Promise<EchoReply>((resolve) => call.once('data', resolve));
    call.write({ text });
    replies.push(await next);
  }
  call.end();
  call.resume();
  return outcome;
}

export function serverStreamCall(client: Client, request: EchoRequest): ClientReadableStream<EchoReply> {
  return client.makeServerStreamRequest(ECHO_SERVICE.serverStream.path, serialize, deserialize, request, new Metadata(), {});
}
