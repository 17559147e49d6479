import { status as grpcStatus } from '@grpc/grpc-js';
import { InMemoryDiscoverEndpoints, InMemoryDiscoverProfile, InMemoryProxyMetrics, SeededRandom } from '@weft/adapter-memory';
import { SystemClock } from '@weft/adapter-system';
import { type ClientHttp2Session, connect as connectH2, constants } from 'node:http2';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TapRecorder } from '../http/tap-recorder.spec-helper.js';
import { EndpointBalancer } from '../outbound/endpoint-balancer.js';
import { TapHub } from '../tap/tap-hub.js';
import { H2Proxy, type H2ProxyOptions } from './h2-proxy.js';
import {
  authority,
  callUnary,
  echoClient,
  endpointAt,
  type H2StreamHandler,
  listenH2Front,
  serverStreamCall,
  startGrpcUpstream,
  startH2Upstream,
} from './h2-test-kit.spec-helper.js';
import { resetH2Stream } from './reset-h2-stream.js';

// H2Proxy publishing to a TapHub, observed by a recorder; real gRPC and h2c peers on loopback.

const BOOKS = 'books.shop.svc.cluster.local:7000';
const books = authority(BOOKS);
const { NGHTTP2_CANCEL, NGHTTP2_ENHANCE_YOUR_CALM } = constants;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface TappedProxy {
  readonly port: number;
  readonly hub: TapHub;
  readonly discovery: InMemoryDiscoverEndpoints;
}

async function tappedProxy(options: Partial<H2ProxyOptions> = {}): Promise<TappedProxy> {
  const discovery = new InMemoryDiscoverEndpoints();
  const clock = new SystemClock();
  const random = new SeededRandom(11);
  const hub = new TapHub();
  const proxy = new H2Proxy(
    { direction: 'outbound', balancers: (target) => new EndpointBalancer(discovery, target, clock, random), profiles: new InMemoryDiscoverProfile() },
    { metrics: new InMemoryProxyMetrics(), clock, random, tap: hub },
    options,
  );
  const front = await listenH2Front((socket) => proxy.handleH2Connection(socket));
  cleanups.push(async () => {
    front.server.close();
    proxy.forceClose();
    await new Promise<void>((resolve) => setImmediate(resolve));
  });
  return { port: front.port, hub, discovery };
}

function clientOf(port: number): ReturnType<typeof echoClient> {
  const client = echoClient(port, BOOKS);
  cleanups.push(() => client.close());
  return client;
}

function session(port: number): ClientHttp2Session {
  const client = connectH2(`http://127.0.0.1:${port}`);
  client.on('error', () => undefined);
  cleanups.push(() => void client.destroy());
  return client;
}

async function h2Upstream(handler: H2StreamHandler): Promise<Awaited<ReturnType<typeof startH2Upstream>>> {
  const upstream = await startH2Upstream(handler);
  cleanups.push(() => upstream.close());
  return upstream;
}

/** One request; resolves with the stream's close code once it closed. */
function exchange(client: ClientHttp2Session, path: string): Promise<{ status: number; rstCode: number | undefined; body: string }> {
  return new Promise((resolve) => {
    const stream = client.request({ ':path': path, ':authority': BOOKS, 'x-trace': 't-9', cookie: 'session=1' }, { endStream: true });
    let status = 0;
    let body = '';
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('error', () => undefined);
    stream.on('close', () => resolve({ status, rstCode: stream.rstCode, body }));
  });
}

describe('H2Proxy publishing to tap', () => {
  it('publishes a gRPC call once, with its grpc-status and trailers in the end', async () => {
    const upstream = await startGrpcUpstream();
    cleanups.push(() => upstream.close());
    const { port, hub, discovery } = await tappedProxy();
    discovery.setEndpoints(books, [endpointAt(upstream.address, { pod: 'books-0' })]);
    const recorder = TapRecorder.on(hub);

    const { status } = await callUnary(clientOf(port), { text: 'hi' });
    await recorder.waitForEnds(1);

    expect(status.code).toBe(grpcStatus.OK);
    const { init, kinds } = recorder.only();
    expect(kinds).toEqual(['requestInit', 'responseInit', 'responseEnd']);
    expect(init).toMatchObject({
      direction: 'outbound',
      source: { ip: '127.0.0.1' },
      destination: upstream.address,
      destinationLabels: { pod: 'books-0' },
      method: 'POST',
      scheme: 'http',
      authority: BOOKS,
      path: '/weft.test.Echo/Unary',
      routeLabels: undefined,
    });
    expect(init.headers['content-type']).toBe('application/grpc');
    expect(Object.keys(init.headers).some((name) => name.startsWith(':'))).toBe(false);
    expect(recorder.responseInitOf(init.id)).toMatchObject({ status: 200, headers: { 'x-initial': 'hello' } });
    const end = recorder.responseEndOf(init.id);
    expect(end).toMatchObject({ grpcStatus: 0, resetErrorCode: undefined, trailers: { 'grpc-status': '0', 'x-trailer': 'from-server' } });
    expect(end?.responseBytes).toBeGreaterThan(5);
  });

  it('publishes the grpc-status of a failed call', async () => {
    const upstream = await startGrpcUpstream();
    cleanups.push(() => upstream.close());
    const { port, hub, discovery } = await tappedProxy();
    discovery.setEndpoints(books, [endpointAt(upstream.address)]);
    const recorder = TapRecorder.on(hub);

    const { status } = await callUnary(clientOf(port), { fail: { code: grpcStatus.NOT_FOUND, message: 'no such book' } });
    await recorder.waitForEnds(1);

    expect(status.code).toBe(grpcStatus.NOT_FOUND);
    const { init, kinds } = recorder.only();
    expect(kinds).toEqual(['requestInit', 'responseInit', 'responseEnd']);
    expect(recorder.responseEndOf(init.id)).toMatchObject({ grpcStatus: grpcStatus.NOT_FOUND, resetErrorCode: undefined });
  });

  it('publishes a synthetic gRPC 503 as a trailers-only response with grpc-status UNAVAILABLE', async () => {
    const { port, hub, discovery } = await tappedProxy({ failFastMs: 100 });
    discovery.setEndpoints(books, []);
    const recorder = TapRecorder.on(hub);

    const { status } = await callUnary(clientOf(port), { text: 'hi' });
    await recorder.waitForEnds(1);

    expect(status.code).toBe(grpcStatus.UNAVAILABLE);
    const { init, kinds } = recorder.only();
    expect(kinds).toEqual(['requestInit', 'responseInit', 'responseEnd']);
    expect(init.destination).toEqual({ ip: '0.0.0.0', port: 7000 });
    expect(recorder.responseInitOf(init.id)).toMatchObject({ status: 200, headers: { 'grpc-status': '14' } });
    expect(recorder.responseEndOf(init.id)).toMatchObject({ grpcStatus: 14, responseBytes: 0 });
  });

  it('publishes a plain h2 request with its body bytes, and never the denied headers', async () => {
    const upstream = await h2Upstream((stream) => {
      stream.respond({ ':status': 201, 'set-cookie': 'a=b', 'x-from': 'books' });
      stream.end('created!');
    });
    const { port, hub, discovery } = await tappedProxy();
    discovery.setEndpoints(books, [endpointAt(upstream.address)]);
    const recorder = TapRecorder.on(hub);

    const result = await exchange(session(port), '/plain');
    await recorder.waitForEnds(1);

    expect(result.status).toBe(201);
    const { init, kinds } = recorder.only();
    expect(kinds).toEqual(['requestInit', 'responseInit', 'responseEnd']);
    expect(init.headers).toEqual({ 'x-trace': 't-9' });
    expect(recorder.responseInitOf(init.id)).toMatchObject({ status: 201, headers: { 'x-from': 'books' } });
    expect(recorder.responseInitOf(init.id)?.headers['set-cookie']).toBeUndefined();
    expect(recorder.responseEndOf(init.id)).toMatchObject({ responseBytes: 8, grpcStatus: undefined, resetErrorCode: undefined });
  });

  it('ends a stream the upstream reset before answering with the reset code, without a response', async () => {
    const upstream = await h2Upstream((stream) => resetH2Stream(stream, NGHTTP2_ENHANCE_YOUR_CALM));
    const { port, hub, discovery } = await tappedProxy();
    discovery.setEndpoints(books, [endpointAt(upstream.address)]);
    const recorder = TapRecorder.on(hub);

    expect((await exchange(session(port), '/reset')).rstCode).toBe(NGHTTP2_ENHANCE_YOUR_CALM);
    await recorder.waitForEnds(1);

    const { init, kinds } = recorder.only();
    expect(kinds).toEqual(['requestInit', 'responseEnd']);
    expect(recorder.responseEndOf(init.id)).toMatchObject({ resetErrorCode: NGHTTP2_ENHANCE_YOUR_CALM, sinceResponseInitMs: undefined });
  });

  it('ends a stream the upstream reset mid-response with that code, after its response head and bytes', async () => {
    const upstream = await h2Upstream((stream) => {
      stream.respond({ ':status': 200 });
      stream.write('partial');
      setTimeout(() => resetH2Stream(stream, NGHTTP2_ENHANCE_YOUR_CALM), 30);
    });
    const { port, hub, discovery } = await tappedProxy();
    discovery.setEndpoints(books, [endpointAt(upstream.address)]);
    const recorder = TapRecorder.on(hub);

    await exchange(session(port), '/reset-late');
    await recorder.waitForEnds(1);

    const { init, kinds } = recorder.only();
    expect(kinds).toEqual(['requestInit', 'responseInit', 'responseEnd']);
    expect(recorder.responseEndOf(init.id)).toMatchObject({ resetErrorCode: NGHTTP2_ENHANCE_YOUR_CALM, responseBytes: 7 });
  });

  it('ends a call the client cancelled mid-stream once, with CANCEL', async () => {
    const upstream = await startGrpcUpstream();
    cleanups.push(() => upstream.close());
    const { port, hub, discovery } = await tappedProxy();
    discovery.setEndpoints(books, [endpointAt(upstream.address)]);
    const recorder = TapRecorder.on(hub);

    const call = serverStreamCall(clientOf(port), { text: 'tick', count: 1_000, intervalMs: 10 });
    call.on('error', () => undefined);
    await new Promise((resolve) => call.once('data', resolve));
    call.cancel();
    await recorder.waitForEnds(1);

    const { init, kinds } = recorder.only();
    expect(kinds).toEqual(['requestInit', 'responseInit', 'responseEnd']);
    const end = recorder.responseEndOf(init.id);
    expect(end).toMatchObject({ resetErrorCode: NGHTTP2_CANCEL, grpcStatus: undefined });
    expect(end?.responseBytes).toBeGreaterThan(0);
  });

  it('asks the hub once per stream whether anybody taps, and builds nothing when nobody does', async () => {
    const upstream = await h2Upstream((stream) => stream.respond({ ':status': 200 }, { endStream: true }));
    const { port, hub, discovery } = await tappedProxy();
    discovery.setEndpoints(books, [endpointAt(upstream.address)]);
    const isTapping = vi.spyOn(hub, 'isTapping');
    const nextRequestId = vi.spyOn(hub, 'nextRequestId');

    const client = session(port);
    for (const path of ['/1', '/2']) expect((await exchange(client, path)).status).toBe(200);

    expect(isTapping).toHaveBeenCalledTimes(2);
    expect(isTapping.mock.results.every((result) => result.value === false)).toBe(true);
    expect(nextRequestId).not.toHaveBeenCalled();
  });
});
