import { InMemoryDiscoverEndpoints, InMemoryDiscoverProfile, InMemoryProxyMetrics, SeededRandom } from '@weft/adapter-memory';
import { SystemClock } from '@weft/adapter-system';
import { DEFAULT_RETRY_BUDGET, makeEndpoint, type ProfileRoute, type ServiceProfile, unwrap } from '@weft/core';
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EndpointBalancer } from '../outbound/endpoint-balancer.js';
import { TapHub } from '../tap/tap-hub.js';
import { Http1Proxy, type Http1ProxyOptions } from './http1-proxy.js';
import { authority, endpointOf, httpCall, listenFront, startUpstream, type Upstream, type UpstreamHandler } from './http-test-kit.spec-helper.js';
import { TapRecorder } from './tap-recorder.spec-helper.js';

// Http1Proxy publishing to a TapHub, observed by a recorder; real upstreams and clients on loopback.

const BOOKS = 'books.shop.svc.cluster.local:7000';
const books = authority(BOOKS);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface TappedProxy {
  readonly port: number;
  readonly hub: TapHub;
  readonly discovery: InMemoryDiscoverEndpoints;
  readonly profiles: InMemoryDiscoverProfile;
}

async function tappedProxy(options: Partial<Http1ProxyOptions> = {}): Promise<TappedProxy> {
  const discovery = new InMemoryDiscoverEndpoints();
  const profiles = new InMemoryDiscoverProfile();
  const clock = new SystemClock();
  const random = new SeededRandom(7);
  const hub = new TapHub();
  const proxy = new Http1Proxy(
    { direction: 'outbound', balancers: (target) => new EndpointBalancer(discovery, target, clock, random), profiles },
    { metrics: new InMemoryProxyMetrics(), clock, random, tap: hub },
    options,
  );
  const front = await listenFront((socket, preRead) => proxy.handleHttp1Connection(socket, preRead));
  cleanups.push(async () => {
    front.server.close();
    await proxy.close();
  });
  return { port: front.port, hub, discovery, profiles };
}

async function upstreamWith(handler?: UpstreamHandler): Promise<Upstream> {
  const upstream = await startUpstream(handler);
  cleanups.push(() => upstream.close());
  return upstream;
}

function profileWith(...routes: ProfileRoute[]): ServiceProfile {
  return { fullyQualifiedName: 'books.shop.svc.cluster.local', routes, retryBudget: DEFAULT_RETRY_BUDGET, dstOverrides: [], opaqueProtocol: false };
}

const text =
  (status: number, body: string, delayMs = 0): UpstreamHandler =>
  (req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.writeHead(status, { 'content-type': 'text/plain', 'x-from': 'books' }).end(body), delayMs));
  };

describe('Http1Proxy publishing to tap', () => {
  it('publishes a forwarded request once: request, response head and end, with route and destination labels', async () => {
    const upstream = await upstreamWith(text(200, 'twelve bytes'));
    const { port, hub, discovery, profiles } = await tappedProxy();
    discovery.setEndpoints(books, [endpointOf(upstream, { pod: 'books-1' })]);
    profiles.setProfile(books, profileWith({ name: 'GET /books', condition: { pathRegex: '/books/.*' }, responseClasses: [], isRetryable: false }));
    const recorder = TapRecorder.on(hub);

    const response = await httpCall(port, { path: '/books/1?x=1', headers: { host: BOOKS, 'x-trace': 't-1', authorization: 'Bearer s3cret' } });
    await recorder.waitForEnds(1);

    expect(response.status).toBe(200);
    const { init, kinds } = recorder.only();
    expect(kinds).toEqual(['requestInit', 'responseInit', 'responseEnd']);
    expect(init).toMatchObject({
      direction: 'outbound',
      source: { ip: '127.0.0.1' },
      destination: upstream.address,
      method: 'GET',
      scheme: 'http',
      authority: BOOKS,
      path: '/books/1?x=1',
      routeLabels: { dst: BOOKS, route: 'GET /books' },
      destinationLabels: { pod: 'books-1' },
    });
    expect(init.headers['x-trace']).toBe('t-1');
    expect(recorder.responseInitOf(init.id)).toMatchObject({ status: 200, headers: { 'x-from': 'books', 'content-type': 'text/plain' } });
    const end = recorder.responseEndOf(init.id);
    expect(end).toMatchObject({ responseBytes: 12, grpcStatus: undefined, resetErrorCode: undefined });
    expect(end?.sinceResponseInitMs).toBeGreaterThanOrEqual(0);
    expect(end?.sinceRequestInitMs).toBeGreaterThanOrEqual(end?.sinceResponseInitMs ?? 0);
  });

  it('leaves route labels out when no profile route matched, and publishes the retried request once with its final response', async () => {
    let calls = 0;
    const upstream = await upstreamWith((req, res) => {
      calls += 1;
      text(calls === 1 ? 500 : 200, calls === 1 ? 'failed' : 'ok')(req, res, upstream);
    });
    const { port, hub, discovery, profiles } = await tappedProxy();
    discovery.setEndpoints(books, [endpointOf(upstream)]);
    profiles.setProfile(books, profileWith({ name: 'retry', condition: { method: 'GET' }, responseClasses: [], isRetryable: true }));
    const recorder = TapRecorder.on(hub);

    expect((await httpCall(port, { path: '/a', headers: { host: BOOKS } })).status).toBe(200);
    expect((await httpCall(port, { method: 'POST', path: '/b', headers: { host: BOOKS } })).status).toBe(200);
    await recorder.waitForEnds(2);

    expect(calls).toBe(3);
    const inits = recorder.events.filter((event) => event.kind === 'requestInit');
    expect(inits.map((event) => [event.method, event.path, event.routeLabels])).toEqual([
      ['GET', '/a', { dst: BOOKS, route: 'retry' }],
      ['POST', '/b', undefined],
    ]);
    expect(recorder.events.map((event) => event.kind)).toEqual(['requestInit', 'responseInit', 'responseEnd', 'requestInit', 'responseInit', 'responseEnd']);
    expect(recorder.responseInitOf(inits[0]?.id ?? -1)?.status).toBe(200);
  });

  it('publishes a synthetic 502 (endpoint refuses connections) as its response, with the body bytes', async () => {
    const { port, hub, discovery } = await tappedProxy();
    discovery.setEndpoints(books, [unwrap(makeEndpoint({ address: { ip: '127.0.0.1', port: 1 } }))]);
    const recorder = TapRecorder.on(hub);

    const response = await httpCall(port, { path: '/x', headers: { host: BOOKS } });
    await recorder.waitForEnds(1);

    expect(response.status).toBe(502);
    const { init, kinds } = recorder.only();
    expect(kinds).toEqual(['requestInit', 'responseInit', 'responseEnd']);
    expect(init.destination).toEqual({ ip: '127.0.0.1', port: 1 });
    expect(recorder.responseInitOf(init.id)?.headers['weft-proxy-error']).toMatch(/connect/);
    expect(recorder.responseEndOf(init.id)).toMatchObject({ responseBytes: response.body.length, resetErrorCode: undefined });
  });

  it('publishes a fail-fast 503 for a service without endpoints, its destination the authority port', async () => {
    const { port, hub, discovery } = await tappedProxy({ failFastMs: 100 });
    discovery.setEndpoints(books, []);
    const recorder = TapRecorder.on(hub);

    const response = await httpCall(port, { path: '/x', headers: { host: BOOKS } });
    await recorder.waitForEnds(1);

    expect(response.status).toBe(503);
    const { init, kinds } = recorder.only();
    expect(kinds).toEqual(['requestInit', 'responseInit', 'responseEnd']);
    expect(init.destination).toEqual({ ip: '0.0.0.0', port: 7000 });
    expect(recorder.responseInitOf(init.id)?.status).toBe(503);
  });

  it('publishes a route timeout as a 504, once, although the late upstream answer arrives afterwards', async () => {
    const upstream = await upstreamWith(text(200, 'late', 400));
    const { port, hub, discovery, profiles } = await tappedProxy();
    discovery.setEndpoints(books, [endpointOf(upstream)]);
    profiles.setProfile(books, profileWith({ name: 'slow', condition: { all: [] }, responseClasses: [], isRetryable: false, timeoutMs: 100 }));
    const recorder = TapRecorder.on(hub);

    expect((await httpCall(port, { path: '/slow', headers: { host: BOOKS } })).status).toBe(504);
    await new Promise((resolve) => setTimeout(resolve, 450));

    const { init, kinds } = recorder.only();
    expect(kinds).toEqual(['requestInit', 'responseInit', 'responseEnd']);
    expect(recorder.responseInitOf(init.id)?.status).toBe(504);
  });

  it('ends a request whose client left mid-response once, with reset code 0 and the bytes sent so far', async () => {
    const upstream = await upstreamWith((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part');
    });
    const { port, hub, discovery } = await tappedProxy();
    discovery.setEndpoints(books, [endpointOf(upstream)]);
    const recorder = TapRecorder.on(hub);

    await new Promise<void>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/stream', headers: { host: BOOKS }, agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.end();
    });
    await recorder.waitForEnds(1);

    const { init, kinds } = recorder.only();
    expect(kinds).toEqual(['requestInit', 'responseInit', 'responseEnd']);
    const end = recorder.responseEndOf(init.id);
    expect(end).toMatchObject({ responseBytes: 10, resetErrorCode: 0 });
    expect(end?.sinceResponseInitMs).toBeDefined();
  });

  it('ends a request whose client left while it waited for an endpoint, without a response', async () => {
    const { port, hub, discovery } = await tappedProxy({ failFastMs: 2_000 });
    discovery.setEndpoints(books, []);
    const recorder = TapRecorder.on(hub);

    const req = httpRequest({ host: '127.0.0.1', port, path: '/waiting', headers: { host: BOOKS }, agent: false });
    req.on('error', () => undefined);
    req.end();
    setTimeout(() => req.destroy(), 100);
    await recorder.waitForEnds(1);

    const { init, kinds } = recorder.only();
    expect(kinds).toEqual(['requestInit', 'responseEnd']);
    expect(init.path).toBe('/waiting');
    expect(recorder.responseEndOf(init.id)).toMatchObject({ resetErrorCode: 0, sinceResponseInitMs: undefined, responseBytes: 0 });
  });

  it('cuts short a response whose upstream dies mid-body, and ends it with reset code 0', async () => {
    const upstream = await upstreamWith((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const { port, hub, discovery } = await tappedProxy();
    discovery.setEndpoints(books, [endpointOf(upstream)]);
    const recorder = TapRecorder.on(hub);

    await httpCall(port, { path: '/cut', headers: { host: BOOKS } }).catch(() => undefined);
    await recorder.waitForEnds(1);

    const { init, kinds } = recorder.only();
    expect(kinds).toEqual(['requestInit', 'responseInit', 'responseEnd']);
    expect(recorder.responseEndOf(init.id)).toMatchObject({ responseBytes: 7, resetErrorCode: 0 });
  });

  it('forwards the trailers and grpc-status of a gRPC-over-HTTP/1 response to tap', async () => {
    const upstream = await upstreamWith((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/grpc', trailer: 'grpc-status' });
        res.write('msg');
        res.addTrailers({ 'grpc-status': '5', 'grpc-message': 'no such book' });
        res.end();
      });
    });
    const { port, hub, discovery } = await tappedProxy();
    discovery.setEndpoints(books, [endpointOf(upstream)]);
    const recorder = TapRecorder.on(hub);

    await httpCall(port, { method: 'POST', path: '/weft.Books/Get', headers: { host: BOOKS, 'content-type': 'application/grpc', te: 'trailers' } });
    await recorder.waitForEnds(1);

    const { init } = recorder.only();
    expect(recorder.responseEndOf(init.id)).toMatchObject({ grpcStatus: 5, responseBytes: 3, trailers: { 'grpc-status': '5', 'grpc-message': 'no such book' } });
  });

  it('asks the hub once per request whether anybody taps, and builds nothing when nobody does', async () => {
    const upstream = await upstreamWith(text(200, 'ok'));
    const { port, hub, discovery } = await tappedProxy();
    discovery.setEndpoints(books, [endpointOf(upstream)]);
    const isTapping = vi.spyOn(hub, 'isTapping');
    const nextRequestId = vi.spyOn(hub, 'nextRequestId');

    for (const path of ['/1', '/2', '/3']) expect((await httpCall(port, { path, headers: { host: BOOKS } })).status).toBe(200);

    expect(isTapping).toHaveBeenCalledTimes(3);
    expect(isTapping.mock.results.every((result) => result.value === false)).toBe(true);
    expect(nextRequestId).not.toHaveBeenCalled();
  });
});
