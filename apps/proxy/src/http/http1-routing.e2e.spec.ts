import { DEFAULT_RETRY_BUDGET, type ServiceProfile } from '@weft/core';
import { Agent } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  authority,
  endpointOf,
  httpCall,
  type ProxyUnderTest,
  runConcurrently,
  startOutboundProxy,
  startUpstream,
  type Upstream,
  type UpstreamHandler,
} from './http-test-kit.spec-helper.js';
import { PROXY_ERROR_HEADER } from './proxy-error.js';

const BOOKS = 'books.shop.svc.cluster.local:7000';
const books = authority(BOOKS);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function upstreamWith(handler?: UpstreamHandler): Promise<Upstream> {
  const upstream = await startUpstream(handler);
  cleanups.push(() => upstream.close());
  return upstream;
}

async function proxyWith(options: Parameters<typeof startOutboundProxy>[0] = {}): Promise<ProxyUnderTest> {
  const proxy = await startOutboundProxy(options);
  cleanups.push(() => proxy.close());
  return proxy;
}

function keepAliveAgent(maxSockets: number): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets });
  cleanups.push(() => agent.destroy());
  return agent;
}

function profile(overrides: Partial<ServiceProfile>): ServiceProfile {
  return {
    fullyQualifiedName: 'books.shop.svc.cluster.local',
    routes: [],
    retryBudget: DEFAULT_RETRY_BUDGET,
    dstOverrides: [],
    opaqueProtocol: false,
    ...overrides,
  };
}

const answering =
  (status: number, delayMs = 0): UpstreamHandler =>
  (req, res, upstream) => {
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        const body = status === 200 ? JSON.stringify({ port: upstream.port }) : 'nope';
        res.writeHead(status, { 'content-length': Buffer.byteLength(body) }).end(body);
      }, delayMs),
    );
  };

const portOf = (body: Buffer): number => (JSON.parse(body.toString()) as { port: number }).port;

describe('Http1Proxy routes, retries and balancing', () => {
  it('retries a 503 of a retryable route on another endpoint, and the client never sees it', async () => {
    const broken = await upstreamWith(answering(503));
    const healthy = await upstreamWith();
    const { port, discovery, profiles, metrics } = await proxyWith();
    profiles.setProfile(books, profile({ routes: [{ name: 'GET /items', condition: { method: 'GET' }, responseClasses: [], isRetryable: true }] }));
    discovery.setEndpoints(books, [endpointOf(broken), endpointOf(healthy)]);
    const agent = keepAliveAgent(4);
    const results = await runConcurrently(40, 4, () => httpCall(port, { path: '/items', headers: { host: BOOKS }, agent }));
    expect(results.map((result) => result.status)).toEqual(Array(40).fill(200));
    expect(results.every((result) => portOf(result.body) === healthy.port)).toBe(true);
    // Every 503 was an attempt that a retry replaced: attempts = requests + 503s.
    const failedAttempts = broken.requests.length;
    expect(failedAttempts).toBeGreaterThan(0);
    expect(metrics.value('response_total', { status_code: '503', classification: 'failure' })).toBe(failedAttempts);
    expect(metrics.value('request_total', { direction: 'outbound' })).toBe(40 + failedAttempts);
    expect(metrics.value('route_response_total', { rt_route: 'GET /items', classification: 'success', status_code: '200' })).toBe(40);
    // The route's logical requests are the clients'; its actual ones are the attempts, so the difference is the retries.
    expect(metrics.value('route_request_total', { rt_route: 'GET /items' })).toBe(40);
    expect(metrics.value('route_actual_request_total', { dst: BOOKS, rt_route: 'GET /items', direction: 'outbound' })).toBe(40 + failedAttempts);
    expect(metrics.value('route_actual_response_total', { rt_route: 'GET /items', classification: 'failure', status_code: '503' })).toBe(failedAttempts);
    expect(metrics.value('route_actual_response_total', { rt_route: 'GET /items', classification: 'success', status_code: '200' })).toBe(40);
    expect(metrics.value('route_response_total', { rt_route: 'GET /items', status_code: '503' })).toBeUndefined();
  });

  it('replays a small POST body on retry, but never retries a body over 64 KiB', async () => {
    const healthy = await upstreamWith();
    let onFirstFailure = (): void => undefined;
    const broken = await upstreamWith((req, res) => {
      req.resume();
      req.on('end', () => {
        onFirstFailure();
        res.writeHead(503, { 'content-length': '4' }).end('nope');
      });
    });
    const { port, discovery, profiles } = await proxyWith();
    profiles.setProfile(books, profile({ routes: [{ name: 'POST /items', condition: { method: 'POST' }, responseClasses: [], isRetryable: true }] }));
    // The broken endpoint alone takes the first attempt; the healthy one appears as it fails.
    discovery.setEndpoints(books, [endpointOf(broken)]);
    onFirstFailure = () => {
      onFirstFailure = () => undefined;
      discovery.setEndpoints(books, [endpointOf(broken), endpointOf(healthy)]);
    };
    const small = await httpCall(port, { method: 'POST', path: '/items', headers: { host: BOOKS }, body: 'x'.repeat(1_000) });
    expect(small.status).toBe(200);
    expect(JSON.parse(small.body.toString())).toMatchObject({ port: healthy.port, bytes: 1_000 });
    expect(broken.requests).toHaveLength(1);

    discovery.setEndpoints(books, [endpointOf(broken)]);
    const large = await httpCall(port, { method: 'POST', path: '/items', headers: { host: BOOKS }, body: 'x'.repeat(70_000) });
    // The upstream's own 503 comes back: the body was streamed, so there was nothing to replay.
    expect(large.status).toBe(503);
    expect(large.headers[PROXY_ERROR_HEADER]).toBeUndefined();
    expect(broken.requests).toHaveLength(2);
  });

  it('answers 504 with weft-proxy-error when a route times out', async () => {
    const slow = await upstreamWith(answering(200, 1_000));
    const { port, discovery, profiles, metrics } = await proxyWith();
    profiles.setProfile(books, profile({ routes: [{ name: 'slow', condition: { pathRegex: '/slow.*' }, responseClasses: [], isRetryable: false, timeoutMs: 200 }] }));
    discovery.setEndpoints(books, [endpointOf(slow)]);
    const started = performance.now();
    const result = await httpCall(port, { path: '/slow/1', headers: { host: BOOKS } });
    const elapsed = performance.now() - started;
    expect(result.status).toBe(504);
    expect(result.headers[PROXY_ERROR_HEADER]).toMatch(/route "slow" timed out after 200 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(900);
    expect(metrics.value('route_response_total', { rt_route: 'slow', status_code: '504', classification: 'failure' })).toBe(1);
    // The attempt the timeout cut got no response head: a failure without a status code, and no 504 of its own.
    await vi.waitFor(() => expect(metrics.value('route_actual_response_total', { rt_route: 'slow' })).toBe(1));
    expect(metrics.value('route_actual_response_total', { rt_route: 'slow', classification: 'failure' })).toBe(1);
    expect(metrics.allSeries().find((series) => series.name === 'route_actual_response_total')?.labels['status_code']).toBeUndefined();
    expect(metrics.value('route_actual_request_total', { rt_route: 'slow' })).toBe(1);
  });

  it('fails fast with 503 when no endpoint appears in time, and serves one that appears during the wait', async () => {
    const upstream = await upstreamWith();
    const { port, discovery } = await proxyWith({ failFastMs: 300 });
    discovery.setEndpoints(books, []);
    const started = performance.now();
    const failed = await httpCall(port, { path: '/', headers: { host: BOOKS } });
    const elapsed = performance.now() - started;
    expect(failed.status).toBe(503);
    expect(failed.headers[PROXY_ERROR_HEADER]).toMatch(/no endpoint of books\.shop\.svc\.cluster\.local:7000 was available within 300 ms \(fail-fast\)/);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_500);

    const waiting = httpCall(port, { path: '/', headers: { host: BOOKS } });
    setTimeout(() => discovery.setEndpoints(books, [endpointOf(upstream)]), 100);
    expect((await waiting).status).toBe(200);
  });

  it('answers gRPC requests with a trailers-only grpc-status instead of an HTTP error', async () => {
    const { port, discovery } = await proxyWith({ failFastMs: 100 });
    discovery.setEndpoints(books, []);
    const result = await httpCall(port, { method: 'POST', path: '/books.Books/Get', headers: { host: BOOKS, 'content-type': 'application/grpc' } });
    expect(result.status).toBe(200);
    expect(result.headers['content-type']).toBe('application/grpc');
    expect(result.headers['grpc-status']).toBe('14');
    expect(decodeURIComponent(String(result.headers['grpc-message']))).toMatch(/fail-fast/);
    expect(result.headers[PROXY_ERROR_HEADER]).toMatch(/fail-fast/);
    expect(result.body.length).toBe(0);
  });

  it('answers 502 when the only endpoint refuses connections', async () => {
    const gone = await upstreamWith();
    gone.kill();
    const { port, discovery } = await proxyWith();
    discovery.setEndpoints(books, [endpointOf(gone)]);
    const result = await httpCall(port, { path: '/', headers: { host: BOOKS } });
    expect(result.status).toBe(502);
    expect(result.headers[PROXY_ERROR_HEADER]).toMatch(new RegExp(`connection to 127\\.0\\.0\\.1:${gone.port} failed \\(ECONNREFUSED\\)`));
  });

  it('splits traffic 80/20 between two backends by the profile dstOverrides', async () => {
    const v1 = await upstreamWith();
    const v2 = await upstreamWith();
    const { port, discovery, profiles } = await proxyWith();
    discovery.setEndpoints(books, [endpointOf(v1)]);
    discovery.setEndpoints(authority('books-v1.shop.svc.cluster.local:7000'), [endpointOf(v1)]);
    discovery.setEndpoints(authority('books-v2.shop.svc.cluster.local:7000'), [endpointOf(v2)]);
    profiles.setProfile(
      books,
      profile({
        dstOverrides: [
          { authority: 'books-v1.shop.svc.cluster.local:7000', weight: 80 },
          { authority: 'books-v2.shop.svc.cluster.local:7000', weight: 20 },
        ],
      }),
    );
    const agent = keepAliveAgent(16);
    const results = await runConcurrently(1_000, 16, () => httpCall(port, { path: '/', headers: { host: BOOKS }, agent }));
    expect(results.every((result) => result.status === 200)).toBe(true);
    const toV2 = results.filter((result) => portOf(result.body) === v2.port).length;
    // Binomial(1000, 0.2): sd 12.6, so +-50 is about four sd.
    expect(toV2).toBeGreaterThan(150);
    expect(toV2).toBeLessThan(250);
  });

  it('sends at least 90 % of requests to the two fast endpoints when the third answers in 50 ms', async () => {
    const fastA = await upstreamWith(answering(200, 1));
    const fastB = await upstreamWith(answering(200, 1));
    const slow = await upstreamWith(answering(200, 50));
    const { port, discovery } = await proxyWith();
    discovery.setEndpoints(books, [endpointOf(fastA), endpointOf(slow), endpointOf(fastB)]);
    const agent = keepAliveAgent(8);
    const results = await runConcurrently(1_000, 8, () => httpCall(port, { path: '/', headers: { host: BOOKS }, agent }));
    expect(results.every((result) => result.status === 200)).toBe(true);
    expect(slow.requests.length).toBeLessThanOrEqual(100);
    expect(fastA.requests.length + fastB.requests.length).toBeGreaterThanOrEqual(900);
  });

  it('stops sending to a killed endpoint, and retries save every request that was on it', async () => {
    const a = await upstreamWith(answering(200, 2));
    const b = await upstreamWith(answering(200, 2));
    const doomed = await upstreamWith(answering(200, 2));
    const { port, discovery, profiles, metrics } = await proxyWith();
    profiles.setProfile(books, profile({ routes: [{ name: 'all', condition: { all: [] }, responseClasses: [], isRetryable: true }] }));
    discovery.setEndpoints(books, [endpointOf(a), endpointOf(b), endpointOf(doomed)]);
    const agent = keepAliveAgent(8);
    const doomedAddr = { target_addr: `127.0.0.1:${doomed.port}` };
    let attemptsAtKill = 0;
    const results = await runConcurrently(600, 8, async (index) => {
      if (index === 200) {
        doomed.kill();
        attemptsAtKill = metrics.value('request_total', doomedAddr) ?? 0;
      }
      return httpCall(port, { path: `/${index}`, headers: { host: BOOKS }, agent });
    });
    expect(results.map((result) => result.status)).toEqual(Array(600).fill(200));
    expect(attemptsAtKill).toBeGreaterThan(0);
    // After the kill, only a few probes (in-flight requests, connect attempts after each backoff) go to it.
    const attemptsAfterKill = (metrics.value('request_total', doomedAddr) ?? 0) - attemptsAtKill;
    expect(attemptsAfterKill).toBeLessThanOrEqual(10);
    expect(metrics.value('route_response_total', { rt_route: 'all', classification: 'success' })).toBe(600);
  });
});
