import { type ClientReadableStream, credentials, status as grpcStatus } from '@grpc/grpc-js';
import { tap } from '@weft/contracts';
import { parseAuthority, type SocketAddress, unwrap } from '@weft/core';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { callUnary, echoClient, type GrpcUpstream, startGrpcUpstream } from './h2/h2-test-kit.spec-helper.js';
import type { RunningProxy } from './proxy-runtime.js';
import { startProxyInProcess } from './proxy-runtime.spec-helper.js';

// The whole proxy as main.ts runs it, observed through its Tap gRPC server with the generated client.

const BOOKS = 'books.shop.svc.cluster.local:7000';
const ECHO = 'echo.shop.svc.cluster.local:9000';
const EMPTY = 'empty.shop.svc.cluster.local:7100';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Running {
  readonly proxy: RunningProxy;
  readonly client: tap.TapClient;
  listener(name: 'books' | 'echo' | 'empty'): SocketAddress;
}

async function serveBooks(): Promise<SocketAddress> {
  const server: Server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'x-served-by': 'books', 'set-cookie': 'session=abc' }).end(`books ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { ip: '127.0.0.1', port: (server.address() as AddressInfo).port };
}

async function startTapped(books: SocketAddress, echo: GrpcUpstream | undefined, app: SocketAddress = books): Promise<Running> {
  const echoEndpoint = echo === undefined ? '' : `;echo.shop:9000=${echo.address.ip}:${echo.address.port}`;
  const { proxy, discovery } = await startProxyInProcess(
    {
      WEFT_PROXY_UPSTREAMS: `books=${BOOKS}@4301,echo=${ECHO}@4302,empty=${EMPTY}@4303`,
      WEFT_PROXY_ENDPOINTS: `books.shop:7000=${books.ip}:${books.port}${echoEndpoint}`,
      WEFT_PROXY_FAIL_FAST_TIMEOUT: '200ms',
      WEFT_PROXY_SHUTDOWN_GRACE_PERIOD: '2s',
    },
    app,
  );
  cleanups.push(() => proxy.stop());
  // Known to discovery, but without a single endpoint: requests wait, then fail fast with 503.
  discovery.setEndpoints(unwrap(parseAuthority(EMPTY)), []);
  const client = new tap.TapClient(`127.0.0.1:${proxy.tap.port}`, credentials.createInsecure());
  cleanups.push(() => client.close());
  const listener = (name: string): SocketAddress => {
    const address = proxy.upstreams.get(name)?.address;
    if (address === undefined) throw new Error(`no ${name} listener`);
    return address;
  };
  return { proxy, client, listener };
}

/** Starts an observation and resolves once the proxy's hub has it. */
async function observe(running: Running, request: Partial<tap.ObserveRequest>): Promise<ClientReadableStream<tap.TapEvent>> {
  const before = running.proxy.tapHub.observerCount;
  const stream = running.client.observe({ limit: 10, extractHeaders: [], ...request });
  await vi.waitFor(() => expect(running.proxy.tapHub.observerCount).toBe(before + 1));
  return stream;
}

/** Reads until the proxy ends the stream (at the observation's limit). */
function readAll(stream: ClientReadableStream<tap.TapEvent>, ms = 5_000): Promise<tap.TapEvent[]> {
  return new Promise((resolve, reject) => {
    const events: tap.TapEvent[] = [];
    const timer = setTimeout(() => {
      stream.cancel();
      reject(new Error(`the stream did not end within ${ms} ms; it brought ${JSON.stringify(events.map((event) => event.httpEvent?.$case))}`));
    }, ms);
    stream.on('data', (event: tap.TapEvent) => events.push(event));
    stream.on('end', () => {
      clearTimeout(timer);
      resolve(events);
    });
    stream.on('error', (error: Error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function get(address: SocketAddress, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address.ip, port: address.port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const pathPrefix = (value: string): tap.Match => ({ kind: { $case: 'pathPrefix', value } });

type HttpEvent = NonNullable<tap.TapEvent['httpEvent']>;
type ValueOf<C extends HttpEvent['$case']> = Extract<HttpEvent, { $case: C }>['value'];

function valuesOf<C extends HttpEvent['$case']>(events: readonly tap.TapEvent[], kind: C): ValueOf<C>[] {
  return events.flatMap((event) => (event.httpEvent?.$case === kind ? [event.httpEvent.value as ValueOf<C>] : []));
}

const headerNames = (headers: readonly tap.Header[]): string[] => headers.map((header) => header.name);

describe('tap of the running proxy', () => {
  it('shows HTTP/1 requests outbound and inbound matching a path prefix, without the denied headers even when asked for', async () => {
    const books = await serveBooks();
    const running = await startTapped(books, undefined);
    const stream = await observe(running, {
      limit: 2,
      match: pathPrefix('/books/'),
      extractHeaders: ['x-trace', 'authorization', 'cookie', 'x-served-by', 'set-cookie'],
    });

    const secret = { authorization: 'Bearer s3cret', cookie: 'session=abc' };
    expect(await get(running.listener('books'), '/other', { host: BOOKS })).toMatchObject({ status: 200 });
    expect(await get(running.listener('books'), '/books/1', { host: BOOKS, 'x-trace': 'abc', ...secret })).toEqual({ status: 200, body: 'books /books/1' });
    expect(await get(running.proxy.inbound.address, '/books/in', { host: 'web', ...secret })).toMatchObject({ status: 200 });
    const events = await readAll(stream);

    expect(events.map((event) => event.httpEvent?.$case)).toEqual(['requestInit', 'responseInit', 'responseEnd', 'requestInit', 'responseInit', 'responseEnd']);
    const [outbound, , , inbound] = events;
    expect(outbound).toMatchObject({
      direction: tap.ProxyDirection.PROXY_DIRECTION_OUTBOUND,
      source: { ip: '127.0.0.1' },
      destination: { ip: books.ip, port: books.port },
    });
    expect(inbound).toMatchObject({ direction: tap.ProxyDirection.PROXY_DIRECTION_INBOUND, destination: { ip: books.ip, port: books.port } });
    const [outboundInit, inboundInit] = valuesOf(events, 'requestInit');
    expect(outboundInit).toMatchObject({ method: 'GET', scheme: 'http', authority: BOOKS, path: '/books/1', headers: [{ name: 'x-trace', value: 'abc' }] });
    expect(inboundInit).toMatchObject({ method: 'GET', authority: 'web', path: '/books/in', headers: [] });
    for (const init of valuesOf(events, 'responseInit')) {
      expect(init.httpStatus).toBe(200);
      expect(init.headers).toEqual([{ name: 'x-served-by', value: 'books' }]);
    }
    const ends = valuesOf(events, 'responseEnd');
    expect(ends.map((end) => end.responseBytes)).toEqual([BigInt('books /books/1'.length), BigInt('books /books/in'.length)]);
    expect(ends.map((end) => end.eos)).toEqual([undefined, undefined]);
  });

  it('shows a gRPC call over HTTP/2 with its grpc-status in the response end', async () => {
    const books = await serveBooks();
    const echo = await startGrpcUpstream();
    cleanups.push(() => echo.close());
    const running = await startTapped(books, echo);
    const stream = await observe(running, { limit: 2, match: pathPrefix('/weft.test.Echo/'), extractHeaders: ['*'] });

    const client = echoClient(running.listener('echo').port, ECHO);
    cleanups.push(() => client.close());
    expect((await callUnary(client, { text: 'hi' })).status.code).toBe(grpcStatus.OK);
    expect((await callUnary(client, { fail: { code: grpcStatus.NOT_FOUND, message: 'no such book' } })).status.code).toBe(grpcStatus.NOT_FOUND);
    const events = await readAll(stream);

    const inits = valuesOf(events, 'requestInit');
    expect(inits.map((init) => [init.method, init.scheme, init.authority, init.path])).toEqual([
      ['POST', 'http', ECHO, '/weft.test.Echo/Unary'],
      ['POST', 'http', ECHO, '/weft.test.Echo/Unary'],
    ]);
    expect(inits[0]?.headers).toContainEqual({ name: 'content-type', value: 'application/grpc' });
    expect(headerNames(inits[0]?.headers ?? []).some((name) => name.startsWith(':'))).toBe(false);
    expect(events[0]?.destination).toEqual({ ip: echo.address.ip, port: echo.address.port });
    expect(valuesOf(events, 'responseInit').map((init) => init.httpStatus)).toEqual([200, 200]);
    const ends = valuesOf(events, 'responseEnd');
    expect(ends.map((end) => end.eos)).toEqual([
      { $case: 'grpcStatusCode', value: grpcStatus.OK },
      { $case: 'grpcStatusCode', value: grpcStatus.NOT_FOUND },
    ]);
    expect(ends[0]?.trailers).toContainEqual({ name: 'x-trailer', value: 'from-server' });
    expect(ends[0]?.responseBytes).toBeGreaterThan(0n);
  });

  it('shows a synthetic 503 (no endpoint within the fail-fast time) as a response with status 503, on HTTP/1 and as gRPC UNAVAILABLE on HTTP/2', async () => {
    const books = await serveBooks();
    const running = await startTapped(books, undefined);
    const stream = await observe(running, { limit: 2, match: pathPrefix('/'), extractHeaders: ['weft-proxy-error'] });

    const response = await get(running.listener('empty'), '/nowhere', { host: EMPTY });
    expect(response.status).toBe(503);
    const client = echoClient(running.listener('empty').port, EMPTY);
    cleanups.push(() => client.close());
    expect((await callUnary(client, { text: 'hi' })).status.code).toBe(grpcStatus.UNAVAILABLE);
    const events = await readAll(stream);

    expect(events.map((event) => event.httpEvent?.$case)).toEqual(['requestInit', 'responseInit', 'responseEnd', 'requestInit', 'responseInit', 'responseEnd']);
    expect(valuesOf(events, 'requestInit').map((init) => init.path)).toEqual(['/nowhere', '/weft.test.Echo/Unary']);
    expect(events[0]?.destination?.port).toBe(7100);
    const [http1, grpc] = valuesOf(events, 'responseInit');
    expect(http1?.httpStatus).toBe(503);
    expect(headerNames(http1?.headers ?? [])).toEqual(['weft-proxy-error']);
    expect(grpc?.httpStatus).toBe(200);
    const ends = valuesOf(events, 'responseEnd');
    expect(ends[0]).toMatchObject({ responseBytes: BigInt(Buffer.byteLength(response.body)), eos: undefined });
    expect(ends[1]?.eos).toEqual({ $case: 'grpcStatusCode', value: grpcStatus.UNAVAILABLE });
  });

  it('builds no tap events when nobody taps, and requests work as before', async () => {
    const books = await serveBooks();
    const echo = await startGrpcUpstream();
    cleanups.push(() => echo.close());
    const running = await startTapped(books, echo);
    const hub = running.proxy.tapHub;
    const isTapping = vi.spyOn(hub, 'isTapping');
    const nextRequestId = vi.spyOn(hub, 'nextRequestId');

    expect(await get(running.listener('books'), '/books/1', { host: BOOKS })).toEqual({ status: 200, body: 'books /books/1' });
    expect(await get(running.proxy.inbound.address, '/hello')).toEqual({ status: 200, body: 'books /hello' });
    const client = echoClient(running.listener('echo').port, ECHO);
    cleanups.push(() => client.close());
    const call = await callUnary(client, { text: 'hi' });
    expect(call.status.code).toBe(grpcStatus.OK);
    expect(call.result?.text).toBe('hi');

    expect(isTapping).toHaveBeenCalledTimes(3);
    expect(isTapping.mock.results.every((result) => result.value === false)).toBe(true);
    expect(nextRequestId).not.toHaveBeenCalled();
    expect(hub.isTapping()).toBe(false);
  });
});
