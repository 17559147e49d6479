import { performance } from 'node:perf_hooks';
import { InMemoryProxyMetrics } from '@weft/adapter-memory';
import type { SocketAddress } from '@weft/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PortSet } from '../proxy-config.js';
import type { DetectedConnection } from '../transport/connection-detector.js';
import { firstBytesOf, LoopbackPeers, patternBytes, transcriptOf } from '../transport/loopback-peers.spec-helper.js';
import type { TransportEvent } from '../transport/transport-log.js';
import type { ConnectionSettings } from './listen-upstream.js';
import { listenInbound } from './listen-inbound.js';

describe('inbound opaque TCP to the local app', () => {
  const peers = new LoopbackPeers();
  let metrics: InMemoryProxyMetrics;
  let events: TransportEvent[];
  afterEach(() => peers.closeAll());

  async function inboundProxy(
    appAddr: SocketAddress,
    settings: Partial<ConnectionSettings> = {},
    http1?: (detected: DetectedConnection) => void,
  ): Promise<SocketAddress> {
    metrics = new InMemoryProxyMetrics();
    events = [];
    const running = await listenInbound({
      address: { ip: '127.0.0.1', port: 0 },
      appAddr,
      settings: { opaquePorts: new PortSet([]), detectTimeoutMs: 10_000, connectTimeoutMs: 1_000, failFastTimeoutMs: 1_000, ...settings },
      metrics,
      ...(http1 ? { handlers: { http1 } } : {}),
      log: (event) => events.push(event),
    });
    peers.onClose(() => running.close());
    return running.address;
  }

  it('relays bytes both ways to the app and counts them with inbound labels', async () => {
    const app = await peers.echoServer();
    const proxy = await inboundProxy(app);
    const client = await peers.connect(proxy);
    const transcript = transcriptOf(client);
    const sent = patternBytes(2 * 1024 * 1024, 11);
    client.end(sent);
    const received = await transcript;
    expect(received.bytes.equals(sent)).toBe(true);
    expect(received.ended).toBe(true);
    const labels = { direction: 'inbound', target_addr: `127.0.0.1:${app.port}`, tls: 'no_identity', no_tls_reason: 'loopback' };
    await vi.waitFor(() => expect(metrics.value('tcp_close_total', { ...labels, classification: 'success' })).toBe(1));
    expect(metrics.value('tcp_read_bytes_total', labels)).toBe(sent.length);
    expect(metrics.value('tcp_write_bytes_total', labels)).toBe(sent.length);
  });

  it('skips detection when the app port is opaque, so the app can speak first', async () => {
    const app = await peers.server((socket) => socket.end('220 smtp.example ESMTP ready\r\n'));
    const proxy = await inboundProxy(app, { opaquePorts: new PortSet([[app.port, app.port]]) });
    const started = performance.now();
    const client = await peers.connect(proxy);
    const banner = await firstBytesOf(client, 5);
    expect(performance.now() - started).toBeLessThan(200);
    expect(banner.toString()).toMatch(/^220 s/);
  });

  it('gives detected HTTP/1 to the http1 handler and the rest to the app', async () => {
    const app = await peers.echoServer();
    const seen: string[] = [];
    const proxy = await inboundProxy(app, {}, ({ socket, detection }) => {
      seen.push(detection.protocol);
      socket.end('HTTP/1.1 204 No Content\r\n\r\n');
    });
    const http = await peers.connect(proxy);
    const httpTranscript = transcriptOf(http);
    http.end('GET / HTTP/1.1\r\nHost: app\r\n\r\n');
    expect((await httpTranscript).bytes.toString()).toBe('HTTP/1.1 204 No Content\r\n\r\n');
    const opaque = await peers.connect(proxy);
    const opaqueTranscript = transcriptOf(opaque);
    opaque.end(patternBytes(100));
    expect((await opaqueTranscript).bytes.equals(patternBytes(100))).toBe(true);
    expect(seen).toEqual(['http1']);
  });

  it('resets the client when the app refuses, and counts a failure', async () => {
    const app = await peers.refusingAddress();
    const proxy = await inboundProxy(app);
    const client = await peers.connect(proxy);
    const transcript = transcriptOf(client);
    client.write(patternBytes(10));
    expect(await transcript).toMatchObject({ errorCode: 'ECONNRESET' });
    expect(events).toContainEqual(expect.objectContaining({ event: 'app_connect_failed', errno: 'ECONNREFUSED' }));
    await vi.waitFor(() =>
      expect(metrics.value('tcp_close_total', { direction: 'inbound', classification: 'failure', errno: 'ECONNREFUSED' })).toBe(1),
    );
  });

  it('passes an app reset on to the client', async () => {
    const app = await peers.server((socket) => socket.once('data', () => socket.resetAndDestroy()));
    const proxy = await inboundProxy(app);
    const client = await peers.connect(proxy);
    const transcript = transcriptOf(client);
    client.write(patternBytes(10));
    expect(await transcript).toMatchObject({ errorCode: 'ECONNRESET', ended: false });
  });
});
