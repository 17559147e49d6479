import { Metadata, status as grpcStatus } from '@grpc/grpc-js';
import { DEFAULT_RETRY_BUDGET, type ServiceProfile } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { PROXY_ERROR_HEADER } from '../http/proxy-error.js';
import {
  authority,
  callBidiPingPong,
  callClientStream,
  callServerStream,
  callUnary,
  echoClient,
  endpointAt,
  type EchoOverrides,
  type GrpcUpstream,
  type H2ProxyUnderTest,
  serverStreamCall,
  startGrpcUpstream,
  startOutboundH2Proxy,
} from './h2-test-kit.spec-helper.js';
import type { H2ProxyOptions } from './h2-proxy.js';

const BOOKS = 'books.shop.svc.cluster.local:7000';
const books = authority(BOOKS);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function grpcUpstream(overrides: EchoOverrides = {}): Promise<GrpcUpstream> {
  const upstream = await startGrpcUpstream(overrides);
  cleanups.push(() => upstream.close());
  return upstream;
}

async function proxyTo(upstreams: GrpcUpstream[], options: Partial<H2ProxyOptions> = {}): Promise<H2ProxyUnderTest> {
  const proxy = await startOutboundH2Proxy(options);
  cleanups.push(() => proxy.close());
  proxy.discovery.setEndpoints(books, upstreams.map((upstream) => endpointAt(upstream.address, { pod: `books-${upstream.port}` })));
  return proxy;
}

function clientOf(port: number, name = BOOKS): ReturnType<typeof echoClient> {
  const client = echoClient(port, name);
  cleanups.push(() => client.close());
  return client;
}

function profile(overrides: Partial<ServiceProfile>): ServiceProfile {
  return { fullyQualifiedName: 'books.shop.svc.cluster.local', routes: [], retryBudget: DEFAULT_RETRY_BUDGET, dstOverrides: [], opaqueProtocol: false, ...overrides };
}

const retryableUnary = {
  name: 'Unary',
  condition: { pathRegex: '/weft\\.test\\.Echo/Unary' },
  responseClasses: [],
  isRetryable: true,
} as const;

const until = async (check: () => boolean, ms = 2_000): Promise<void> => {
  const start = Date.now();
  while (!check() && Date.now() - start < ms) await new Promise((resolve) => setTimeout(resolve, 10));
};

describe('H2Proxy with gRPC (grpc-js client and server)', () => {
  it('forwards a unary call with its metadata, initial metadata and trailers (binary too), and counts it by grpc-status', async () => {
    const upstream = await grpcUpstream();
    const { port, metrics } = await proxyTo([upstream]);
    const metadata = new Metadata();
    metadata.set('x-request', 'from-client');
    metadata.set('x-request-bin', Buffer.from([9, 8, 7]));
    const { result, status, initialMetadata } = await callUnary(clientOf(port), { text: 'hi' }, { metadata });
    expect(status.code).toBe(grpcStatus.OK);
    expect(result).toEqual({ text: 'hi', index: 0, port: upstream.port });
    expect(upstream.log.lastMetadata['x-request']).toBe('from-client');
    expect(upstream.log.lastMetadata['x-request-bin']).toEqual(Buffer.from([9, 8, 7]));
    expect(upstream.log.lastMetadata[':authority']).toBeUndefined();
    expect(initialMetadata?.get('x-initial')).toEqual(['hello']);
    expect(status.metadata.get('x-trailer')).toEqual(['from-server']);
    expect(status.metadata.get('x-trailer-bin')).toEqual([Buffer.from([0, 1, 2, 255])]);

    const labels = { direction: 'outbound', authority: BOOKS, target_addr: `127.0.0.1:${upstream.port}`, dst_pod: `books-${upstream.port}` };
    expect(metrics.value('request_total', labels)).toBe(1);
    expect(metrics.value('response_total', { ...labels, classification: 'success', grpc_status: '0', status_code: '200' })).toBe(1);
    expect(metrics.value('route_response_total', { dst: BOOKS, rt_route: 'default', classification: 'success' })).toBe(1);
  });

  it('balances each call, not each connection: one client connection reaches every endpoint', async () => {
    const first = await grpcUpstream();
    const second = await grpcUpstream();
    const { port, proxy } = await proxyTo([first, second]);
    const client = clientOf(port);
    const ports = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const { result } = await callUnary(client, { text: `${i}` });
      if (result !== undefined) ports.add(result.port);
    }
    expect(ports).toEqual(new Set([first.port, second.port]));
    expect(proxy.sessionCount()).toBe(1);
    expect(proxy.upstreamSessionCount()).toBe(2);
  });

  it('streams 1,000 server messages in order', async () => {
    const upstream = await grpcUpstream();
    const { port } = await proxyTo([upstream]);
    const { result, status } = await callServerStream(clientOf(port), { text: 'm', count: 1_000 });
    expect(status.code).toBe(grpcStatus.OK);
    expect(result.map((reply) => reply.index)).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
  });

  it('forwards client streaming and interleaved bidi streaming', async () => {
    const upstream = await grpcUpstream();
    const { port } = await proxyTo([upstream]);
    const client = clientOf(port);
    const collected = await callClientStream(client, ['a', 'b', 'c'].map((text) => ({ text })));
    expect(collected.status.code).toBe(grpcStatus.OK);
    expect(collected.result).toMatchObject({ text: 'a,b,c', index: 3 });
    const bidi = await callBidiPingPong(client, ['x', 'y', 'z']);
    expect(bidi.status.code).toBe(grpcStatus.OK);
    expect(bidi.result.map((reply) => reply.text)).toEqual(['X', 'Y', 'Z']);
  });

  it('passes an error status with its message and trailers through, and counts it as a failure', async () => {
    const upstream = await grpcUpstream();
    const { port, metrics } = await proxyTo([upstream]);
    const { status } = await callUnary(clientOf(port), { fail: { code: grpcStatus.NOT_FOUND, message: 'no book 7 (ünïcode)' } });
    expect(status.code).toBe(grpcStatus.NOT_FOUND);
    expect(status.details).toBe('no book 7 (ünïcode)');
    expect(status.metadata.get('x-trailer')).toEqual(['from-server']);
    expect(status.metadata.get(PROXY_ERROR_HEADER)).toEqual([]);
    expect(metrics.value('response_total', { classification: 'failure', grpc_status: '5' })).toBe(1);
    expect(upstream.log.calls).toBe(1);
  });

  it('honours grpc-timeout: the client sees DEADLINE_EXCEEDED and the server sees the call cancelled', async () => {
    const upstream = await grpcUpstream();
    const { port } = await proxyTo([upstream]);
    const started = Date.now();
    const { status } = await callUnary(clientOf(port), { delayMs: 3_000 }, { deadlineMs: 200 });
    expect(status.code).toBe(grpcStatus.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(1_500);
    await until(() => upstream.log.cancelled === 1);
    expect(upstream.log.cancelled).toBe(1);
  });

  it('propagates a client cancel to the server (RST_STREAM through the proxy)', async () => {
    const upstream = await grpcUpstream();
    const { port, proxy } = await proxyTo([upstream]);
    const call = serverStreamCall(clientOf(port), { count: 1_000_000_000, intervalMs: 5 });
    call.on('error', () => undefined);
    await new Promise((resolve) => call.once('data', resolve));
    call.cancel();
    await until(() => upstream.log.cancelled === 1);
    expect(upstream.log.cancelled).toBe(1);
    // The upstream session stays for the next call; only the stream went.
    expect(proxy.upstreamSessionCount()).toBe(1);
  });

  it('answers a route timeout with a trailers-only DEADLINE_EXCEEDED tagged weft-proxy-error', async () => {
    const upstream = await grpcUpstream();
    const proxy = await proxyTo([upstream]);
    proxy.profiles.setProfile(
      books,
      profile({ routes: [{ name: 'Unary', condition: { pathRegex: '/weft\\.test\\.Echo/Unary' }, responseClasses: [], isRetryable: false, timeoutMs: 150 }] }),
    );
    const { status } = await callUnary(clientOf(proxy.port), { delayMs: 2_000 });
    expect(status.code).toBe(grpcStatus.DEADLINE_EXCEEDED);
    expect(status.details).toContain('timed out after 150 ms');
    expect(String(status.metadata.get(PROXY_ERROR_HEADER)[0])).toContain('Unary');
    expect(proxy.metrics.value('route_response_total', { rt_route: 'Unary', grpc_status: '4', classification: 'failure' })).toBe(1);
    // The attempt the timeout cut ended without an answer: a failed actual response with no status of its own.
    await until(() => proxy.metrics.value('route_actual_response_total', { rt_route: 'Unary' }) === 1);
    expect(proxy.metrics.value('route_actual_response_total', { rt_route: 'Unary', classification: 'failure' })).toBe(1);
    expect(proxy.metrics.value('route_actual_response_total', { rt_route: 'Unary', grpc_status: '4' })).toBeUndefined();
    expect(proxy.metrics.value('route_actual_request_total', { rt_route: 'Unary' })).toBe(1);
  });

  it('fails fast with UNAVAILABLE and weft-proxy-error when no endpoint comes in time', async () => {
    const proxy = await proxyTo([], { failFastMs: 200 });
    const started = Date.now();
    const { status } = await callUnary(clientOf(proxy.port), { text: 'anyone?' });
    expect(status.code).toBe(grpcStatus.UNAVAILABLE);
    expect(status.details).toContain('fail-fast');
    expect(String(status.metadata.get(PROXY_ERROR_HEADER)[0])).toContain('fail-fast');
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
  });

  it('answers UNAVAILABLE for a service discovery does not know', async () => {
    const proxy = await proxyTo([]);
    const { status } = await callUnary(clientOf(proxy.port, 'ghost.shop.svc.cluster.local:7000'), { text: 'x' });
    expect(status.code).toBe(grpcStatus.UNAVAILABLE);
    expect(String(status.metadata.get(PROXY_ERROR_HEADER)[0])).toContain('ghost.shop.svc.cluster.local:7000');
  });

  it('retries UNAVAILABLE on a retryable route on another endpoint; the client never sees it', async () => {
    let brokenCalls = 0;
    const broken = await grpcUpstream({
      unary: (_call: unknown, callback: (error: { code: number; details: string }) => void) => {
        brokenCalls += 1;
        callback({ code: grpcStatus.UNAVAILABLE, details: 'draining' });
      },
    });
    const healthy = await grpcUpstream();
    const proxy = await proxyTo([broken, healthy]);
    proxy.profiles.setProfile(books, profile({ routes: [retryableUnary] }));
    const client = clientOf(proxy.port);
    for (let i = 0; i < 20; i++) {
      const { status, result } = await callUnary(client, { text: `call ${i}` });
      expect(status.code).toBe(grpcStatus.OK);
      expect(result?.port).toBe(healthy.port);
    }
    expect(brokenCalls).toBeGreaterThan(0);
    // Every UNAVAILABLE was an attempt that a retry replaced.
    expect(proxy.metrics.value('response_total', { grpc_status: '14', classification: 'failure' })).toBe(brokenCalls);
    expect(proxy.metrics.value('request_total', { direction: 'outbound' })).toBe(20 + brokenCalls);
    expect(proxy.metrics.value('route_response_total', { rt_route: 'Unary', classification: 'success' })).toBe(20);
    // Logical requests are the client's 20 calls; actual ones are the attempts: the difference is the retries.
    expect(proxy.metrics.value('route_request_total', { rt_route: 'Unary' })).toBe(20);
    expect(proxy.metrics.value('route_actual_request_total', { dst: BOOKS, rt_route: 'Unary', direction: 'outbound' })).toBe(20 + brokenCalls);
    expect(proxy.metrics.value('route_actual_response_total', { rt_route: 'Unary', grpc_status: '14', classification: 'failure' })).toBe(brokenCalls);
    expect(proxy.metrics.value('route_actual_response_total', { rt_route: 'Unary', grpc_status: '0', classification: 'success' })).toBe(20);
    expect(proxy.metrics.value('route_response_total', { rt_route: 'Unary', grpc_status: '14' })).toBeUndefined();
  });

  it('never retries an answer such as NOT_FOUND, even on a retryable route', async () => {
    const upstream = await grpcUpstream();
    const proxy = await proxyTo([upstream]);
    proxy.profiles.setProfile(books, profile({ routes: [retryableUnary] }));
    const { status } = await callUnary(clientOf(proxy.port), { fail: { code: grpcStatus.NOT_FOUND, message: 'gone' } });
    expect(status.code).toBe(grpcStatus.NOT_FOUND);
    expect(upstream.log.calls).toBe(1);
  });

  it('does not retry UNAVAILABLE on a route that is not retryable', async () => {
    const upstream = await grpcUpstream();
    const proxy = await proxyTo([upstream]);
    const { status } = await callUnary(clientOf(proxy.port), { fail: { code: grpcStatus.UNAVAILABLE, message: 'draining' } });
    expect(status.code).toBe(grpcStatus.UNAVAILABLE);
    expect(status.details).toBe('draining');
    expect(upstream.log.calls).toBe(1);
  });

  it('sends a call to another endpoint when its first endpoint refuses connections', async () => {
    const healthy = await grpcUpstream();
    const dead = await grpcUpstream();
    await dead.close();
    const proxy = await proxyTo([dead, healthy]);
    const client = clientOf(proxy.port);
    for (let i = 0; i < 10; i++) {
      const { status } = await callUnary(client, { text: `call ${i}` });
      expect(status.code).toBe(grpcStatus.OK);
    }
  });
});
