import { FixedClock } from '@weft/adapter-memory';
import { request } from 'node:http';
import { connect } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { GracefulShutdown, type ShutdownSummary } from './graceful-shutdown.js';
import {
  type MetricsText,
  type ProxyAdminEvent,
  type ProxyAdminServer,
  type ProxyAdminServerOptions,
  startProxyAdminServer,
} from './proxy-admin-server.js';
import { Readiness } from './readiness.js';

const metricsText: MetricsText = {
  contentType: 'text/plain; version=0.0.4; charset=utf-8',
  body: '# HELP request_total Total count of HTTP requests.\n# TYPE request_total counter\nrequest_total{direction="inbound"} 7\n'.repeat(20),
};

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** One request with node:http and no connection reuse, returning the bytes as sent (no decompression). */
function send(
  port: number,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Writes raw bytes and collects everything the server sends until it closes the connection. */
function sendRaw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
}

describe('proxy admin server', () => {
  let admin: ProxyAdminServer | undefined;

  afterEach(async () => {
    await admin?.close();
    admin = undefined;
  });

  async function start(overrides: Partial<ProxyAdminServerOptions> = {}) {
    const readiness = new Readiness(['listeners']);
    const events: ProxyAdminEvent[] = [];
    admin = await startProxyAdminServer({
      address: { ip: '127.0.0.1', port: 0 },
      metrics: () => Promise.resolve(metricsText),
      readiness,
      log: (event) => events.push(event),
      ...overrides,
    });
    const port = admin.address.port;
    return { readiness, events, port, base: `http://127.0.0.1:${port}` };
  }

  it('answers /live with 200 "live"', async () => {
    const { base } = await start();
    const res = await fetch(`${base}/live`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe('live\n');
  });

  it('answers /ready with 503 until readiness is met, then 200', async () => {
    const { base, readiness } = await start();
    const before = await fetch(`${base}/ready`);
    expect(before.status).toBe(503);
    expect(await before.text()).toBe('not ready\n');
    readiness.markMet('listeners');
    const after = await fetch(`${base}/ready`);
    expect(after.status).toBe(200);
    expect(await after.text()).toBe('ready\n');
  });

  it('answers HEAD probes with the status and no body', async () => {
    const { port } = await start();
    const res = await send(port, 'HEAD', '/ready');
    expect(res.status).toBe(503);
    expect(res.headers['content-length']).toBe('10');
    expect(res.body.length).toBe(0);
  });

  it('serves the injected metrics text uncompressed to a client that does not ask for gzip', async () => {
    const { port } = await start();
    const res = await send(port, 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(metricsText.contentType);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.body.toString('utf8')).toBe(metricsText.body);
  });

  it('gzips /metrics for a client that accepts gzip', async () => {
    const { port } = await start();
    const res = await send(port, 'GET', '/metrics?format=prometheus', { headers: { 'accept-encoding': 'br, gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers.vary).toBe('accept-encoding');
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
    expect(res.body.length).toBeLessThan(metricsText.body.length);
    expect(gunzipSync(res.body).toString('utf8')).toBe(metricsText.body);
  });

  it('does not gzip when the client refuses it with q=0', async () => {
    const { port } = await start();
    const res = await send(port, 'GET', '/metrics', { headers: { 'accept-encoding': 'gzip;q=0, *' } });
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.body.toString('utf8')).toBe(metricsText.body);
  });

  it('gives fetch the metrics text it decompresses by itself', async () => {
    const { base } = await start();
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(await res.text()).toBe(metricsText.body);
  });

  it('answers 500 and logs when the metrics cannot be rendered', async () => {
    const { base, events } = await start({ metrics: () => Promise.reject(new Error('registry closed')) });
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(500);
    expect(events).toContainEqual({ event: 'admin-metrics-failed', error: 'registry closed' });
  });

  it('answers 404 for unknown paths, including /shutdown while it is disabled', async () => {
    const { base, port } = await start();
    expect((await fetch(`${base}/env.json`)).status).toBe(404);
    expect((await fetch(`${base}/metrics/extra`)).status).toBe(404);
    expect((await send(port, 'POST', '/shutdown')).status).toBe(404);
  });

  it('keeps /shutdown at 404 when the option is present but not enabled', async () => {
    const calls: string[] = [];
    const { port } = await start({ shutdownEndpoint: { enabled: false, onShutdown: () => calls.push('shutdown') } });
    expect((await send(port, 'POST', '/shutdown')).status).toBe(404);
    expect(calls).toEqual([]);
  });

  it('answers 405 with Allow for a wrong method', async () => {
    const { base } = await start({ shutdownEndpoint: { enabled: true, onShutdown: () => undefined } });
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const get = await fetch(`${base}/shutdown`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('accepts POST /shutdown from loopback when enabled and calls the shutdown callback', async () => {
    const calls: string[] = [];
    const { base, events } = await start({ shutdownEndpoint: { enabled: true, onShutdown: () => calls.push('shutdown') } });
    const res = await fetch(`${base}/shutdown`, { method: 'POST' });
    expect(res.status).toBe(202);
    expect(calls).toEqual(['shutdown']);
    expect(events).toContainEqual({ event: 'admin-shutdown-requested', peer: '127.0.0.1' });
  });

  it('refuses POST /shutdown with 403 from a peer that is not loopback', async () => {
    const calls: string[] = [];
    const { port, events } = await start({
      shutdownEndpoint: { enabled: true, onShutdown: () => calls.push('shutdown') },
      isLoopback: () => false,
    });
    const res = await send(port, 'POST', '/shutdown');
    expect(res.status).toBe(403);
    expect(res.body.toString('utf8')).toBe('Requests are only permitted from localhost.\n');
    expect(calls).toEqual([]);
    expect(events).toContainEqual({ event: 'admin-request-refused', path: '/shutdown', peer: '127.0.0.1' });
  });

  it('checks the real peer address with the loopback check it is given', async () => {
    const peers: string[] = [];
    const { port } = await start({
      shutdownEndpoint: { enabled: true, onShutdown: () => undefined },
      isLoopback: (ip) => (peers.push(ip), true),
    });
    expect((await send(port, 'POST', '/shutdown')).status).toBe(202);
    expect(peers).toEqual(['127.0.0.1']);
  });

  it('ignores a request body and closes the connection after answering', async () => {
    const calls: string[] = [];
    const { port } = await start({ shutdownEndpoint: { enabled: true, onShutdown: () => calls.push('shutdown') } });
    const response = await sendRaw(port, 'POST /shutdown HTTP/1.1\r\nHost: admin\r\nContent-Length: 5\r\n\r\nhello');
    expect(response).toMatch(/^HTTP\/1\.1 202 /);
    expect(response).toMatch(/\r\nconnection: close\r\n/i);
    expect(calls).toEqual(['shutdown']);
  });

  it('keeps a connection without a request body open for the next request', async () => {
    const { port } = await start();
    const socket = connect(port, '127.0.0.1');
    const received: string[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk.toString('latin1')));
    socket.write('GET /live HTTP/1.1\r\nHost: admin\r\n\r\nGET /live HTTP/1.1\r\nHost: admin\r\n\r\n');
    await expect.poll(() => received.join('').match(/HTTP\/1\.1 200 /g)?.length ?? 0).toBe(2);
    expect(received.join('')).toMatch(/\r\nconnection: keep-alive\r\n/i);
    socket.destroy();
  });

  it('answers 500 when the shutdown callback throws, and logs why', async () => {
    const { base, events } = await start({
      shutdownEndpoint: {
        enabled: true,
        onShutdown: () => {
          throw new Error('no drain configured');
        },
      },
    });
    expect((await fetch(`${base}/shutdown`, { method: 'POST' })).status).toBe(500);
    expect(events).toContainEqual({ event: 'admin-shutdown-failed', error: 'no drain configured' });
  });

  it('refuses a header section over 16 KiB with 431', async () => {
    const { port } = await start();
    const res = await send(port, 'GET', '/live', { headers: { 'x-big': 'a'.repeat(20 * 1024) } });
    expect(res.status).toBe(431);
  });

  it('refuses more than 100 headers with 431 rather than reading some of them', async () => {
    const { port } = await start();
    // node:http adds Host and Connection to these.
    const headersWith = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`x-h${i}`, 'v']));
    expect((await send(port, 'GET', '/live', { headers: headersWith(98) })).status).toBe(200);
    expect((await send(port, 'GET', '/live', { headers: headersWith(99) })).status).toBe(431);
  });

  it('refuses a request without Host with 400', async () => {
    const { port } = await start();
    const response = await sendRaw(port, 'GET /live HTTP/1.1\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('answers 408 and closes a connection whose headers arrive too slowly', async () => {
    const { port } = await start({ limits: { headersTimeoutMs: 200, requestTimeoutMs: 400, connectionsCheckingIntervalMs: 50 } });
    const startedAt = Date.now();
    const response = await sendRaw(port, 'GET /live HTTP/1.1\r\nHost: admin\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - startedAt).toBeLessThan(3_000);
  });

  it('fails to start on an address in use, naming the address', async () => {
    const { port } = await start();
    await expect(
      startProxyAdminServer({ address: { ip: '127.0.0.1', port }, metrics: () => Promise.resolve(metricsText), readiness: new Readiness() }),
    ).rejects.toThrow(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
  });

  it('drives a graceful shutdown: POST /shutdown turns /ready to 503 while a step drains', async () => {
    const readiness = new Readiness(['listeners']);
    readiness.markMet('listeners');
    const shutdown = new GracefulShutdown({ gracePeriodMs: 5_000, readiness, clock: new FixedClock() });
    let finishDrain: () => void = () => undefined;
    shutdown.register({
      name: 'outbound-http1',
      drain: () => new Promise<void>((resolve) => (finishDrain = resolve)),
      forceClose: () => undefined,
    });
    let summary: Promise<ShutdownSummary> | undefined;
    const { base } = await start({
      readiness,
      shutdownEndpoint: { enabled: true, onShutdown: () => (summary = shutdown.begin('admin')) },
    });
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    expect((await fetch(`${base}/shutdown`, { method: 'POST' })).status).toBe(202);
    const during = await fetch(`${base}/ready`);
    expect(during.status).toBe(503);
    expect(await during.text()).toBe('not ready\n');
    expect((await fetch(`${base}/live`)).status).toBe(200);
    expect(shutdown.state).toBe('draining');
    finishDrain();
    expect(await summary).toMatchObject({ reason: 'admin', outcome: 'drained', drained: ['outbound-http1'] });
  });
});
