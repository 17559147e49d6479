import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { InMemoryDiscoverEndpoints, InMemoryProxyMetrics, SeededRandom } from '@weft/adapter-memory';
import { SystemClock } from '@weft/adapter-system';
import { type Authority, type Endpoint, makeEndpoint, parseAuthority, type SocketAddress, unwrap } from '@weft/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EndpointBalancer } from '../outbound/endpoint-balancer.js';
import { PortSet } from '../proxy-config.js';
import { firstBytesOf, LoopbackPeers, patternBytes, transcriptOf } from '../transport/loopback-peers.spec-helper.js';
import type { TransportEvent } from '../transport/transport-log.js';
import { type ConnectionSettings, listenUpstream } from './listen-upstream.js';

const books = unwrap(parseAuthority('books.shop.svc.cluster.local:7000'));
const postgres = unwrap(parseAuthority('pg.db.svc.cluster.local:5432'));
const PG_GREETING = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]); // AuthenticationOk, as a server that speaks first

const endpointAt = (address: SocketAddress, weight?: number): Endpoint =>
  unwrap(makeEndpoint(weight === undefined ? { address } : { address, weight }));

describe('outbound opaque TCP through an upstream listener', () => {
  const peers = new LoopbackPeers();
  let discovery: InMemoryDiscoverEndpoints;
  let metrics: InMemoryProxyMetrics;
  let events: TransportEvent[];

  afterEach(() => peers.closeAll());

  /** A proxy listener for `authority` on an ephemeral loopback port, with short timeouts unless told otherwise. */
  async function upstreamProxy(authority: Authority, settings: Partial<ConnectionSettings> = {}): Promise<SocketAddress> {
    discovery ??= new InMemoryDiscoverEndpoints();
    metrics = new InMemoryProxyMetrics();
    events = [];
    const balancer = new EndpointBalancer(discovery, authority, new SystemClock(), new SeededRandom(1));
    const running = await listenUpstream({
      upstream: { name: 'test', authority, listenAddr: { ip: '127.0.0.1', port: 0 } },
      settings: {
        opaquePorts: new PortSet([[5432, 5432]]),
        detectTimeoutMs: 10_000,
        connectTimeoutMs: 1_000,
        failFastTimeoutMs: 3_000,
        ...settings,
      },
      balancer,
      discovery,
      metrics,
      log: (event) => events.push(event),
    });
    peers.onClose(async () => {
      await running.close();
      balancer.close();
    });
    return running.address;
  }

  function freshDiscovery(): InMemoryDiscoverEndpoints {
    discovery = new InMemoryDiscoverEndpoints();
    return discovery;
  }

  /** A server that sends `PG_GREETING` the moment a connection opens, then echoes. */
  function serverSpeaksFirst(): Promise<SocketAddress> {
    return peers.server((socket) => {
      socket.write(PG_GREETING);
      socket.pipe(socket);
    });
  }

  it('relays 10 MB each way byte for byte, and passes the FIN on both ways', async () => {
    freshDiscovery().setEndpoints(books, [endpointAt(await peers.echoServer())]);
    const proxy = await upstreamProxy(books);
    const client = await peers.connect(proxy);
    const sent = patternBytes(10 * 1024 * 1024);
    const transcript = transcriptOf(client);
    client.end(sent);
    const received = await transcript;
    expect(received.ended).toBe(true);
    expect(received.errorCode).toBeUndefined();
    expect(received.bytes.length).toBe(sent.length);
    expect(received.bytes.equals(sent)).toBe(true);
  });

  it('lets a client half-close and still read the reply the server sends after the FIN', async () => {
    const server = await peers.server((socket) => {
      const hash = createHash('sha256');
      socket.on('data', (chunk: Buffer) => hash.update(chunk));
      socket.on('end', () => setTimeout(() => socket.end(hash.digest('hex')), 50));
    });
    freshDiscovery().setEndpoints(books, [endpointAt(server)]);
    const proxy = await upstreamProxy(books);
    const client = await peers.connect(proxy);
    const sent = patternBytes(1024 * 1024, 3);
    const transcript = transcriptOf(client);
    client.end(sent);
    const received = await transcript;
    expect(received.bytes.toString()).toBe(createHash('sha256').update(sent).digest('hex'));
    expect(received.ended).toBe(true);
  });

  it('serves a client that half-closes before sending anything: the server still gets the FIN and replies', async () => {
    const server = await peers.server((socket) => {
      socket.resume();
      socket.once('end', () => socket.end('goodbye'));
    });
    freshDiscovery().setEndpoints(books, [endpointAt(server)]);
    const proxy = await upstreamProxy(books);
    const client = await peers.connect(proxy);
    const transcript = transcriptOf(client);
    client.end();
    expect(await transcript).toMatchObject({ bytes: Buffer.from('goodbye'), ended: true });
  });

  it('passes a server-speaks-first greeting on an opaque port at once, not after the detection timeout', async () => {
    freshDiscovery().setEndpoints(postgres, [endpointAt(await serverSpeaksFirst())]);
    const proxy = await upstreamProxy(postgres, { detectTimeoutMs: 10_000 });
    const started = performance.now();
    const client = await peers.connect(proxy);
    const greeting = await firstBytesOf(client, PG_GREETING.length);
    expect(performance.now() - started).toBeLessThan(200);
    expect(greeting.equals(PG_GREETING)).toBe(true);
    expect(events.filter((event) => event.event === 'protocol_detect_timeout')).toEqual([]);
  });

  it('on a port that is not opaque, falls back to opaque after the detection timeout when the client is silent', async () => {
    freshDiscovery().setEndpoints(books, [endpointAt(await serverSpeaksFirst())]);
    const proxy = await upstreamProxy(books, { detectTimeoutMs: 300 });
    const started = performance.now();
    const client = await peers.connect(proxy);
    const greeting = await firstBytesOf(client, PG_GREETING.length);
    const elapsed = performance.now() - started;
    expect(greeting.equals(PG_GREETING)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_500);
    expect(events).toContainEqual(
      expect.objectContaining({ event: 'protocol_detect_timeout', message: expect.stringContaining('timed out after 300ms') }),
    );
    // The connection is a working opaque one: what the client now sends comes back.
    const transcript = transcriptOf(client);
    client.end('after the timeout');
    expect((await transcript).bytes.toString()).toBe('after the timeout');
  });

  it('fails fast when discovery has no endpoint: the client is reset after the fail-fast timeout', async () => {
    freshDiscovery().setEndpoints(books, []);
    const proxy = await upstreamProxy(books, { failFastTimeoutMs: 500 });
    const started = performance.now();
    const client = await peers.connect(proxy);
    const transcript = transcriptOf(client);
    client.write(patternBytes(100));
    const result = await transcript;
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ bytes: Buffer.alloc(0), errorCode: 'ECONNRESET' });
    expect(elapsed).toBeGreaterThanOrEqual(490);
    expect(elapsed).toBeLessThan(2_000);
    expect(events).toContainEqual(
      expect.objectContaining({ event: 'endpoint_fail_fast', message: expect.stringMatching(/no endpoint of books\.shop\.svc\.cluster\.local:7000 became available within/) }),
    );
    await vi.waitFor(() => expect(metrics.value('tcp_close_total', { direction: 'outbound', classification: 'failure' })).toBe(1));
  });

  it('fails fast for a service discovery does not know', async () => {
    freshDiscovery();
    const proxy = await upstreamProxy(books, { failFastTimeoutMs: 300 });
    const client = await peers.connect(proxy);
    const transcript = transcriptOf(client);
    client.write(patternBytes(10));
    expect(await transcript).toMatchObject({ errorCode: 'ECONNRESET' });
    expect(events).toContainEqual(expect.objectContaining({ event: 'endpoint_fail_fast', message: expect.stringContaining('does-not-exist') }));
  });

  it('waits for an endpoint that discovery adds within the fail-fast timeout', async () => {
    freshDiscovery().setEndpoints(books, []);
    const proxy = await upstreamProxy(books, { failFastTimeoutMs: 3_000 });
    const echo = await peers.echoServer();
    const client = await peers.connect(proxy);
    const transcript = transcriptOf(client);
    client.end(patternBytes(1000));
    await sleep(200);
    discovery.setEndpoints(books, [endpointAt(echo)]);
    const result = await transcript;
    expect(result.bytes.equals(patternBytes(1000))).toBe(true);
  });

  it('skips a dead endpoint in favour of a live one, and keeps skipping it', async () => {
    const dead = await peers.refusingAddress();
    const live = await peers.echoServer();
    // The dead endpoint weighs far more, so the balancer offers it first.
    freshDiscovery().setEndpoints(books, [endpointAt(dead, 1_000_000), endpointAt(live, 1)]);
    const proxy = await upstreamProxy(books);
    for (let i = 0; i < 5; i++) {
      const client = await peers.connect(proxy);
      const transcript = transcriptOf(client);
      client.end(`request ${i}`);
      expect((await transcript).bytes.toString()).toBe(`request ${i}`);
    }
    const failures = events.filter((event) => event.event === 'endpoint_connect_failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ endpoint: `127.0.0.1:${dead.port}`, errno: 'ECONNREFUSED' });
  });

  it('gives a black-holed endpoint one connect timeout, then uses a live one', async () => {
    const blackhole = await peers.blackholeAddress();
    const live = await peers.echoServer();
    freshDiscovery().setEndpoints(books, [endpointAt(blackhole, 1_000_000), endpointAt(live, 1)]);
    const proxy = await upstreamProxy(books, { connectTimeoutMs: 300 });
    const started = performance.now();
    const client = await peers.connect(proxy);
    const transcript = transcriptOf(client);
    client.end('through');
    expect((await transcript).bytes.toString()).toBe('through');
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(events).toContainEqual(expect.objectContaining({ event: 'endpoint_connect_failed', errno: 'ETIMEDOUT' }));
  });

  it('retries a lone dead endpoint a bounded number of times, then resets the client', async () => {
    freshDiscovery().setEndpoints(books, [endpointAt(await peers.refusingAddress())]);
    const proxy = await upstreamProxy(books, { failFastTimeoutMs: 1_000 });
    const client = await peers.connect(proxy);
    const transcript = transcriptOf(client);
    client.write('hello?');
    expect(await transcript).toMatchObject({ errorCode: 'ECONNRESET' });
    const attempts = events.filter((event) => event.event === 'endpoint_connect_failed').length;
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(6);
    expect(events).toContainEqual(expect.objectContaining({ event: 'endpoint_fail_fast', errno: 'ECONNREFUSED' }));
  });

  it('passes an upstream reset on to the client as a reset', async () => {
    const server = await peers.server((socket) => socket.once('data', () => socket.resetAndDestroy()));
    freshDiscovery().setEndpoints(books, [endpointAt(server)]);
    const proxy = await upstreamProxy(books);
    const client = await peers.connect(proxy);
    const transcript = transcriptOf(client);
    client.write(patternBytes(10));
    expect(await transcript).toMatchObject({ errorCode: 'ECONNRESET', ended: false });
    await vi.waitFor(() =>
      expect(metrics.value('tcp_close_total', { classification: 'failure', errno: 'ECONNRESET' })).toBe(1),
    );
  });

  it('passes a client reset on to the upstream as a reset', async () => {
    let upstream: Promise<Awaited<ReturnType<typeof transcriptOf>>> | undefined;
    const server = await peers.server((socket: Socket) => {
      upstream = transcriptOf(socket);
    });
    freshDiscovery().setEndpoints(books, [endpointAt(server)]);
    const proxy = await upstreamProxy(books);
    const client = await peers.connect(proxy);
    client.write(patternBytes(10));
    await vi.waitFor(() => expect(upstream).toBeDefined());
    client.resetAndDestroy();
    expect(await upstream).toMatchObject({ errorCode: 'ECONNRESET', ended: false });
  });

  it('counts the connection and its bytes with the upstream labels', async () => {
    freshDiscovery().setEndpoints(books, [endpointAt(await peers.echoServer())]);
    const proxy = await upstreamProxy(books);
    const client = await peers.connect(proxy);
    const transcript = transcriptOf(client);
    client.end(patternBytes(64 * 1024));
    expect((await transcript).bytes.length).toBe(64 * 1024);
    const labels = {
      direction: 'outbound',
      authority: 'books.shop.svc.cluster.local:7000',
      target_addr: `127.0.0.1:${proxy.port}`,
      tls: 'no_identity',
      no_tls_reason: 'loopback',
    };
    await vi.waitFor(() => expect(metrics.value('tcp_close_total', { ...labels, classification: 'success' })).toBe(1));
    expect(metrics.value('tcp_open_total', labels)).toBe(1);
    expect(metrics.value('tcp_read_bytes_total', labels)).toBe(64 * 1024);
    expect(metrics.value('tcp_write_bytes_total', labels)).toBe(64 * 1024);
    expect(metrics.value('tcp_open_connections', labels)).toBe(0);
  });

  it('leaves no socket open once the client is done', async () => {
    let upstreamSocket: Socket | undefined;
    const server = await peers.server((socket) => {
      upstreamSocket = socket;
      socket.pipe(socket);
    });
    freshDiscovery().setEndpoints(books, [endpointAt(server)]);
    const proxy = await upstreamProxy(books);
    const client = await peers.connect(proxy);
    const transcript = transcriptOf(client);
    client.end('bye');
    await transcript;
    await vi.waitFor(() => expect(upstreamSocket?.closed).toBe(true));
    await vi.waitFor(() => expect(metrics.value('tcp_open_connections')).toBe(0));
  });
});
