import { type ClientReadableStream, credentials, type ServiceError, status } from '@grpc/grpc-js';
import { millisFromDuration, tap } from '@weft/contracts';
import { unwrap } from '@weft/core';
import { connect, createServer, type Socket } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseTapDenyHeaders } from './tap-header-deny-list.js';
import type { TapHeaders } from './tap-headers.js';
import { TapHub } from './tap-hub.js';
import { type ProxyTapServer, startTapServer, type TapServerEvent, type TapServerOptions } from './tap-server.js';

// Every test runs a real Tap server on loopback and observes it with the generated grpc-js client.

interface Exchange {
  readonly method?: string;
  readonly authority?: string;
  readonly path?: string;
  readonly port?: number;
  readonly status?: number;
  readonly requestHeaders?: TapHeaders;
  readonly responseHeaders?: TapHeaders;
  readonly trailers?: TapHeaders;
  readonly grpcStatus?: number;
}

interface Observed {
  readonly events: tap.TapEvent[];
  readonly error: ServiceError | undefined;
}

let hub: TapHub;
let server: ProxyTapServer;
let client: tap.TapClient;
let serverLog: TapServerEvent[];

async function start(options: Partial<TapServerOptions> = {}): Promise<void> {
  hub = options.hub ?? new TapHub();
  serverLog = [];
  server = await startTapServer({
    address: { ip: '127.0.0.1', port: 0 },
    limits: { maxLimit: 1_000 },
    log: (event) => serverLog.push(event),
    ...options,
    hub,
  });
  client = new tap.TapClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
}

beforeEach(() => start());

afterEach(async () => {
  client.close();
  await server.close();
});

/** Starts an observation and resolves once the server has attached it to the hub. */
async function observe(request: Partial<tap.ObserveRequest>): Promise<ClientReadableStream<tap.TapEvent>> {
  const before = hub.observerCount;
  const stream = client.observe({ limit: 10, extractHeaders: [], ...request });
  await vi.waitFor(() => expect(hub.observerCount).toBe(before + 1));
  return stream;
}

/** Reads until the server ends the stream; a stream still open after `ms` fails the test, naming what arrived. */
function readAll(stream: ClientReadableStream<tap.TapEvent>, ms = 3_000): Promise<Observed> {
  return new Promise((resolve, reject) => {
    const events: tap.TapEvent[] = [];
    const timer = setTimeout(() => {
      stream.cancel();
      reject(new Error(`the stream did not end within ${ms} ms; it brought the paths ${JSON.stringify(pathsOf(events))}`));
    }, ms);
    stream.on('data', (event: tap.TapEvent) => events.push(event));
    stream.on('end', () => {
      clearTimeout(timer);
      resolve({ events, error: undefined });
    });
    stream.on('error', (error: ServiceError) => {
      clearTimeout(timer);
      resolve({ events, error });
    });
  });
}

/** A loopback TCP relay to the tap server whose server-to-client direction can be stalled, like a congested link. */
async function startRelay(targetPort: number): Promise<{ port: number; hold(): void; release(): void; close(): Promise<void> }> {
  const upstreams = new Set<Socket>();
  const sockets = new Set<Socket>();
  const relay = createServer((downstream) => {
    const upstream = connect(targetPort, '127.0.0.1');
    upstreams.add(upstream);
    for (const socket of [downstream, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    downstream.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => downstream.write(chunk));
    downstream.on('close', () => upstream.destroy());
    upstream.on('close', () => downstream.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const address = relay.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    hold: () => upstreams.forEach((upstream) => upstream.pause()),
    release: () => upstreams.forEach((upstream) => upstream.resume()),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => relay.close(resolve));
    },
  };
}

function pathsOf(events: readonly tap.TapEvent[]): string[] {
  return events.flatMap((event) => (event.httpEvent?.$case === 'requestInit' ? [event.httpEvent.value.path] : []));
}

function requestInitOf(hub: TapHub, exchange: Exchange): number {
  const id = hub.nextRequestId();
  hub.requestInit({
    id,
    direction: 'outbound',
    source: { ip: '10.42.0.9', port: 50_000 },
    destination: { ip: '10.42.0.7', port: exchange.port ?? 8080 },
    method: exchange.method ?? 'GET',
    scheme: 'http',
    authority: exchange.authority ?? 'web.shop:8080',
    path: exchange.path ?? '/',
    headers: exchange.requestHeaders ?? {},
    destinationLabels: { pod: 'web-1', namespace: 'shop' },
    routeLabels: { route: 'books' },
  });
  return id;
}

function finish(hub: TapHub, id: number, exchange: Exchange): void {
  hub.responseInit({ id, sinceRequestInitMs: 3, status: exchange.status ?? 200, headers: exchange.responseHeaders ?? {} });
  hub.responseEnd({
    id,
    sinceRequestInitMs: 5.5,
    sinceResponseInitMs: 2.5,
    responseBytes: 1_234,
    grpcStatus: exchange.grpcStatus,
    trailers: exchange.trailers,
  });
}

/** One whole request, as the HTTP path publishes it. */
function publish(hub: TapHub, exchange: Exchange): void {
  finish(hub, requestInitOf(hub, exchange), exchange);
}

const traffic: readonly Exchange[] = [
  { method: 'GET', authority: 'web.shop:8080', path: '/books/1', port: 8080 },
  { method: 'POST', authority: 'web.shop:8080', path: '/orders', port: 8080, status: 201 },
  { method: 'GET', authority: 'Books.Shop:7000', path: '/books/2', port: 7000, status: 404 },
  { method: 'DELETE', authority: 'books.shop:7000', path: '/books/3', port: 7000 },
  { method: 'GET', authority: 'web.shop:8080', path: '/health', port: 8080 },
];

const authority = (value: string): tap.Match => ({ kind: { $case: 'authority', value } });
const pathPrefix = (value: string): tap.Match => ({ kind: { $case: 'pathPrefix', value } });
const method = (value: string): tap.Match => ({ kind: { $case: 'method', value } });
const destinationPort = (value: number): tap.Match => ({ kind: { $case: 'destinationPort', value } });
const all = (...matches: tap.Match[]): tap.Match => ({ kind: { $case: 'all', value: { matches } } });
const any = (...matches: tap.Match[]): tap.Match => ({ kind: { $case: 'any', value: { matches } } });
const not = (value: tap.Match): tap.Match => ({ kind: { $case: 'not', value } });

describe('Tap Observe: events', () => {
  it('streams RequestInit, ResponseInit and ResponseEnd of each request in order, then ends with OK at the limit', async () => {
    const stream = await observe({ limit: 2 });
    publish(hub, { method: 'GET', authority: 'web.shop:8080', path: '/books/1?page=2', status: 200, grpcStatus: 0 });
    publish(hub, { method: 'POST', authority: 'web.shop:8080', path: '/orders', status: 503, grpcStatus: 14 });

    const { events, error } = await readAll(stream);

    expect(error).toBeUndefined();
    expect(events.map((event) => event.httpEvent?.$case)).toEqual([
      'requestInit', 'responseInit', 'responseEnd',
      'requestInit', 'responseInit', 'responseEnd',
    ]);
    const [first, , firstEnd, second, secondInit, secondEnd] = events.map((event) => event.httpEvent?.value);
    expect(first).toMatchObject({ method: 'GET', scheme: 'http', authority: 'web.shop:8080', path: '/books/1?page=2', headers: [] });
    expect(second).toMatchObject({ method: 'POST', path: '/orders' });
    expect(secondInit).toMatchObject({ httpStatus: 503 });
    const end = secondEnd as tap.ResponseEnd;
    expect(millisFromDuration(end.sinceRequestInit ?? { seconds: 0n, nanos: 0 })).toBe(5.5);
    expect(millisFromDuration(end.sinceResponseInit ?? { seconds: 0n, nanos: 0 })).toBe(2.5);
    expect(end.responseBytes).toBe(1_234n);
    expect(end.eos).toEqual({ $case: 'grpcStatusCode', value: 14 });
    expect((firstEnd as tap.ResponseEnd).eos).toEqual({ $case: 'grpcStatusCode', value: 0 });
    expect(events[0]).toMatchObject({
      source: { ip: '10.42.0.9', port: 50_000 },
      destination: { ip: '10.42.0.7', port: 8080 },
      destinationLabels: { pod: 'web-1', namespace: 'shop' },
      routeLabels: { route: 'books' },
      direction: tap.ProxyDirection.PROXY_DIRECTION_OUTBOUND,
    });
    // One base for the whole observation, the stream counting requests from 0.
    const ids = events.map((event) => (event.httpEvent?.value as { id: tap.StreamId }).id);
    expect(new Set(ids.map((id) => id.base)).size).toBe(1);
    expect(ids.map((id) => id.stream)).toEqual([0n, 0n, 0n, 1n, 1n, 1n]);
  });

  it('keeps the events of interleaved requests tied together by their stream id', async () => {
    const stream = await observe({ limit: 2 });
    const slow = requestInitOf(hub, { path: '/slow' });
    const fast = requestInitOf(hub, { path: '/fast' });
    finish(hub, fast, {});
    hub.responseEnd({ id: slow, sinceRequestInitMs: 9, responseBytes: 0, resetErrorCode: 2 });

    const { events } = await readAll(stream);

    expect(events.map((event) => [event.httpEvent?.$case, (event.httpEvent?.value as { id: tap.StreamId }).id.stream])).toEqual([
      ['requestInit', 0n],
      ['requestInit', 1n],
      ['responseInit', 1n],
      ['responseEnd', 1n],
      ['responseEnd', 0n],
    ]);
    // The slow request failed before any response: no time since ResponseInit, and the reset code as its end.
    expect(events[4]?.httpEvent?.value).toMatchObject({ sinceResponseInit: undefined, eos: { $case: 'resetErrorCode', value: 2 } });
  });

  it('reports requests with the inbound direction and source labels as published', async () => {
    const stream = await observe({ limit: 1 });
    const id = hub.nextRequestId();
    hub.requestInit({
      id,
      direction: 'inbound',
      source: { ip: 'fd00::9', port: 41_000 },
      destination: { ip: '127.0.0.1', port: 8080 },
      method: 'GET',
      scheme: 'https',
      authority: 'web',
      path: '/',
      headers: {},
      sourceLabels: { tls_identity: 'checkout.shop.serviceaccount.identity.weft.cluster.local' },
    });
    hub.responseEnd({ id, sinceRequestInitMs: 1, responseBytes: 0, resetErrorCode: 0 });

    const { events } = await readAll(stream);

    expect(events[0]).toMatchObject({
      direction: tap.ProxyDirection.PROXY_DIRECTION_INBOUND,
      source: { ip: 'fd00::9', port: 41_000 },
      sourceLabels: { tls_identity: 'checkout.shop.serviceaccount.identity.weft.cluster.local' },
      httpEvent: { $case: 'requestInit', value: { scheme: 'https' } },
    });
    expect(events[1]?.httpEvent?.value).toMatchObject({ eos: { $case: 'resetErrorCode', value: 0 } });
  });

  it('does not report responses of requests that started before the observation', async () => {
    const earlier = requestInitOf(hub, { path: '/earlier' });
    const stream = await observe({ limit: 1 });
    finish(hub, earlier, {});
    publish(hub, { path: '/later' });

    const { events } = await readAll(stream);

    expect(pathsOf(events)).toEqual(['/later']);
    expect(events).toHaveLength(3);
  });
});

describe('Tap Observe: matches', () => {
  it.each([
    ['authority, either side in any case', authority('BOOKS.shop:7000'), ['/books/2', '/books/3']],
    ['path prefix', pathPrefix('/books'), ['/books/1', '/books/2', '/books/3']],
    ['method', method('GET'), ['/books/1', '/books/2', '/health']],
    ['destination port', destinationPort(7000), ['/books/2', '/books/3']],
    ['all of path prefix and method', all(pathPrefix('/books'), method('GET')), ['/books/1', '/books/2']],
    ['any of two methods', any(method('POST'), method('DELETE')), ['/orders', '/books/3']],
    ['not an authority', not(authority('web.shop:8080')), ['/books/2', '/books/3']],
    ['authority but not a path', all(authority('web.shop:8080'), not(pathPrefix('/health'))), ['/books/1', '/orders']],
    ['nested any inside all', all(destinationPort(8080), any(method('POST'), pathPrefix('/health'))), ['/orders', '/health']],
    ['an empty all (always holds)', all(), ['/books/1', '/orders', '/books/2', '/books/3', '/health']],
  ])('observes by %s', async (_name, match, expected) => {
    const stream = await observe({ limit: expected.length, match });
    for (const exchange of traffic) publish(hub, exchange);

    const { events, error } = await readAll(stream);

    expect(error).toBeUndefined();
    expect(pathsOf(events)).toEqual(expected);
    expect(events).toHaveLength(expected.length * 3);
  });

  it('observes nothing for an empty any', async () => {
    const stream = await observe({ limit: 1, match: any() });
    for (const exchange of traffic) publish(hub, exchange);
    publish(hub, { path: '/last' });
    const received: tap.TapEvent[] = [];
    stream.on('data', (event: tap.TapEvent) => received.push(event));
    stream.on('error', () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    stream.cancel();

    expect(received).toEqual([]);
  });
});

describe('Tap Observe: limit', () => {
  it('observes no request after the limit but still sends the responses of those it observes', async () => {
    const stream = await observe({ limit: 2 });
    const first = requestInitOf(hub, { path: '/one' });
    const second = requestInitOf(hub, { path: '/two' });
    const third = requestInitOf(hub, { path: '/three' });
    finish(hub, third, {});
    finish(hub, first, {});
    await nextTurn();
    // Still open: the second request has not ended yet.
    expect(hub.observerCount).toBe(1);
    finish(hub, second, { status: 500 });

    const { events, error } = await readAll(stream);

    expect(error).toBeUndefined();
    expect(pathsOf(events)).toEqual(['/one', '/two']);
    expect(events.map((event) => event.httpEvent?.$case)).toEqual([
      'requestInit', 'requestInit', 'responseInit', 'responseEnd', 'responseInit', 'responseEnd',
    ]);
    expect(events[4]?.httpEvent?.value).toMatchObject({ httpStatus: 500 });
    expect(hub.isTapping()).toBe(false);
  });

  it.each([
    ['a limit of 0', { limit: 0 }, 'limit must be from 1 to 1000'],
    ['a limit above the cap', { limit: 1_001 }, 'limit must be from 1 to 1000'],
    ['a method not in upper case', { match: method('get') }, 'upper case'],
    ['destination port 0', { match: destinationPort(0) }, 'out of range'],
    ['a nested match with no condition', { match: not({ kind: undefined }) }, 'no condition set'],
    ['a match nested too deep', { match: Array.from({ length: 20 }).reduce<tap.Match>((inner) => not(inner), method('GET')) }, 'deeper than 16'],
    ['too many header names', { extractHeaders: Array.from({ length: 65 }, (_, i) => `x-h${i}`) }, 'ask for 64 at most'],
  ])('refuses %s with INVALID_ARGUMENT and says why', async (_name, request, reason) => {
    const { error } = await readAll(client.observe({ limit: 1, extractHeaders: [], ...request }));

    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    expect(error?.details).toContain(reason);
    expect(hub.isTapping()).toBe(false);
  });
});

describe('Tap Observe: headers', () => {
  const secretValues = ['Bearer abc.def', 'session=s3cr3t', 'tok-123', 'shh', 'sid=9', 'proxy-pass', 'key-7'];
  const requestHeaders = {
    authorization: 'Bearer abc.def',
    cookie: 'session=s3cr3t',
    'x-auth-token': 'tok-123',
    'X-Api-Secret': 'shh',
    'proxy-authorization': 'proxy-pass',
    'user-agent': 'curl/8.5',
    'x-request-id': 'r-1',
    ':path': '/books/1',
  };
  const responseHeaders = ['Set-Cookie', 'sid=9', 'Content-Type', 'application/grpc', 'x-api-key', 'key-7'];
  const trailers = { 'grpc-status': '0', 'grpc-message': '', 'x-refresh-token': 'tok-123' };

  async function headersObserved(extractHeaders: string[]): Promise<tap.TapEvent[]> {
    const stream = await observe({ limit: 1, extractHeaders });
    publish(hub, { requestHeaders, responseHeaders, trailers, grpcStatus: 0 });
    const { events } = await readAll(stream);
    return events;
  }

  function namesIn(events: readonly tap.TapEvent[]): string[][] {
    return events.map((event) => {
      const value = event.httpEvent?.value;
      if (value === undefined) return [];
      const headers = 'trailers' in value ? value.trailers : value.headers;
      return headers.map((header) => header.name);
    });
  }

  function expectNoSecretOnTheWire(events: readonly tap.TapEvent[]): void {
    const wire = Buffer.concat(events.map((event) => tap.TapEvent.encode(event).finish())).toString('latin1');
    for (const secret of secretValues) expect(wire).not.toContain(secret);
  }

  it('sends no header unless asked', async () => {
    const events = await headersObserved([]);
    expect(namesIn(events)).toEqual([[], [], []]);
  });

  it('sends the headers asked for by name, in any case, and never a denied one even when asked by name', async () => {
    const events = await headersObserved([
      'User-Agent', 'authorization', 'cookie', 'x-auth-token', 'x-api-secret', 'proxy-authorization', 'set-cookie', 'content-type', 'grpc-status', 'x-refresh-token',
    ]);

    expect(namesIn(events)).toEqual([['user-agent'], ['content-type'], ['grpc-status']]);
    expect(events[0]?.httpEvent?.value).toMatchObject({ headers: [{ name: 'user-agent', value: 'curl/8.5' }] });
    expectNoSecretOnTheWire(events);
  });

  it('sends every header but the denied ones and the pseudo-headers for "*"', async () => {
    const events = await headersObserved(['*']);

    expect(namesIn(events)).toEqual([['user-agent', 'x-request-id'], ['content-type', 'x-api-key'], ['grpc-status', 'grpc-message']]);
  });

  it('also leaves out the headers the operator denies', async () => {
    client.close();
    await server.close();
    await start({ hub: new TapHub({ denyList: unwrap(parseTapDenyHeaders('x-api-key, *request*')) }) });

    const events = await headersObserved(['*']);

    expect(namesIn(events)).toEqual([['user-agent'], ['content-type'], ['grpc-status', 'grpc-message']]);
    expectNoSecretOnTheWire(events);
  });
});

describe('Tap Observe: lifecycle', () => {
  it('is not tapping while nobody observes, and stops as soon as an observation completes', async () => {
    expect(hub.isTapping()).toBe(false);
    const stream = await observe({ limit: 1 });
    expect(hub.isTapping()).toBe(true);
    publish(hub, {});
    await readAll(stream);

    expect(hub.isTapping()).toBe(false);
    expect(serverLog.map((entry) => entry.event)).toEqual(['tap-observe-started', 'tap-observe-ended']);
    expect(serverLog[1]).toMatchObject({ reason: 'completed' });
  });

  it('detaches a cancelled client from the hub', async () => {
    const stream = await observe({ limit: 100 });
    const ended = readAll(stream);
    publish(hub, {});
    stream.cancel();

    expect((await ended).error?.code).toBe(status.CANCELLED);
    await vi.waitFor(() => expect(hub.observerCount).toBe(0));
    expect(hub.isTapping()).toBe(false);
    expect(serverLog.at(-1)).toMatchObject({ event: 'tap-observe-ended', reason: 'cancelled' });
    expect(() => publish(hub, {})).not.toThrow();
  });

  it('gives two concurrent observers each their own matches and their own stream base', async () => {
    const books = await observe({ limit: 2, match: pathPrefix('/books/') });
    const writes = await observe({ limit: 1, match: method('POST') });
    for (const exchange of traffic) publish(hub, exchange);

    const [booksSeen, writesSeen] = await Promise.all([readAll(books), readAll(writes)]);

    expect(pathsOf(booksSeen.events)).toEqual(['/books/1', '/books/2']);
    expect(pathsOf(writesSeen.events)).toEqual(['/orders']);
    const baseOf = (observed: Observed) => (observed.events[0]?.httpEvent?.value as { id: tap.StreamId }).id;
    expect(baseOf(writesSeen)).toEqual({ base: expect.any(Number), stream: 0n });
    expect(baseOf(booksSeen).base).not.toBe(baseOf(writesSeen).base);
    expect(hub.isTapping()).toBe(false);
  });

  it('ends a client that reads too slowly with RESOURCE_EXHAUSTED instead of buffering without bound', async () => {
    client.close();
    await server.close();
    await start({ queueCap: 32 });
    // grpc-js clients read their socket eagerly even when paused, so the slow reader is a network path that stalls.
    const relay = await startRelay(server.port);
    client.close();
    client = new tap.TapClient(`127.0.0.1:${relay.port}`, credentials.createInsecure());
    try {
      const stream = await observe({ limit: 1_000, extractHeaders: ['*'] });
      const ended = readAll(stream, 5_000);
      relay.hold();
      const bulky = { 'x-padding': 'p'.repeat(4_096) };
      let published = 0;
      // Bounded: the cap must cut the stream long before 1000 requests.
      while (hub.isTapping() && published < 1_000) {
        publish(hub, { requestHeaders: bulky, responseHeaders: bulky });
        published += 1;
        await nextTurn();
      }
      expect(hub.isTapping()).toBe(false);
      expect(published).toBeLessThan(200);
      relay.release();

      const { events, error } = await ended;

      expect(error?.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(error?.details).toContain('read too slowly');
      expect(events.length).toBeLessThan(published * 3);
      expect(serverLog.at(-1)).toMatchObject({ event: 'tap-observe-ended', reason: 'slow-consumer' });
    } finally {
      await relay.close();
    }
  });

  it('ends open observations with UNAVAILABLE when the server closes', async () => {
    const stream = await observe({ limit: 10 });
    const ended = readAll(stream);
    await server.close();

    expect((await ended).error?.code).toBe(status.UNAVAILABLE);
    expect(hub.isTapping()).toBe(false);
  });
});
