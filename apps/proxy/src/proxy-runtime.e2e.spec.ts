import type { SocketAddress } from '@weft/core';
import { createServer, request, type Server } from 'node:http';
import { connect as connectH2, createServer as createH2Server } from 'node:http2';
import { type AddressInfo, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningProxy } from './proxy-runtime.js';
import { startProxyInProcess } from './proxy-runtime.spec-helper.js';
import type { TransportEvent } from './transport/transport-log.js';

async function serve(name: string): Promise<{ server: Server; address: SocketAddress }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-served-by': name }).end(`${name} ${req.method} ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, address: { ip: '127.0.0.1', port: (server.address() as AddressInfo).port } };
}

function get(address: SocketAddress, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address.ip, port: address.port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the proxy as main.ts runs it', () => {
  const servers: Server[] = [];
  let proxy: RunningProxy | undefined;

  afterEach(async () => {
    await proxy?.stop();
    proxy = undefined;
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  async function startWith(backend: SocketAddress, app: SocketAddress): Promise<{ proxy: RunningProxy; events: TransportEvent[] }> {
    const events: TransportEvent[] = [];
    const env = {
      WEFT_PROXY_UPSTREAMS: 'books=books.shop.svc.cluster.local:7000@4301',
      WEFT_PROXY_ENDPOINTS: `books.shop:7000=${backend.ip}:${backend.port}`,
      WEFT_PROXY_SHUTDOWN_GRACE_PERIOD: '2s',
    };
    const running = await startProxyInProcess(env, app, (event) => events.push(event));
    return { proxy: running.proxy, events };
  }

  it('carries requests to a standalone upstream and to the local app, and counts them on /metrics', async () => {
    const backend = await serve('books');
    const app = await serve('app');
    servers.push(backend.server, app.server);
    ({ proxy } = await startWith(backend.address, app.address));
    const upstream = proxy.upstreams.get('books')?.address;
    if (!upstream) throw new Error('no books listener');

    const viaUpstream = await get(upstream, '/books/1');
    expect(viaUpstream).toMatchObject({ status: 200, body: 'books GET /books/1' });
    const viaInbound = await get(proxy.inbound.address, '/hello', { 'weft-client-id': 'forged' });
    expect(viaInbound).toMatchObject({ status: 200, body: 'app GET /hello' });

    const admin = `http://127.0.0.1:${proxy.admin.address.port}`;
    expect((await fetch(`${admin}/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    expect(metrics).toMatch(/^request_total\{[^}]*direction="outbound"[^}]*authority="books\.shop\.svc\.cluster\.local:7000"[^}]*\} 1$/m);
    expect(metrics).toMatch(/^request_total\{[^}]*direction="inbound"[^}]*\} 1$/m);
    expect(metrics).toMatch(/^response_total\{[^}]*classification="success"[^}]*status_code="200"[^}]*\} 1$/m);
    expect(metrics).toMatch(/^tcp_open_total\{[^}]*direction="inbound"[^}]*\} 1$/m);
  });

  it('routes HTTP on the outbound listener by Host, and refuses what it cannot route', async () => {
    const backend = await serve('books');
    const app = await serve('app');
    servers.push(backend.server, app.server);
    ({ proxy } = await startWith(backend.address, app.address));
    const viaOutbound = await get(proxy.outbound.address, '/books/2', { host: 'books.shop.svc.cluster.local:7000' });
    expect(viaOutbound).toMatchObject({ status: 200, body: 'books GET /books/2' });

    const refused = await new Promise<string>((resolve) => {
      const socket = connect(proxy?.outbound.address.port ?? 0, '127.0.0.1', () => socket.write('\x00\x01 binary hello, no HTTP here\r\n'));
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      socket.on('close', () => resolve('closed'));
    });
    expect(['ECONNRESET', 'closed']).toContain(refused);
  });

  it('carries HTTP/2 prior-knowledge requests on an upstream listener', async () => {
    const h2backend = createH2Server();
    h2backend.on('stream', (stream, headers) => {
      stream.respond({ ':status': 200, 'x-path': String(headers[':path']) });
      stream.end('h2 books');
    });
    await new Promise<void>((resolve) => h2backend.listen(0, '127.0.0.1', resolve));
    const backend: SocketAddress = { ip: '127.0.0.1', port: (h2backend.address() as AddressInfo).port };
    const app = await serve('app');
    servers.push(app.server);
    try {
      ({ proxy } = await startWith(backend, app.address));
      const upstream = proxy.upstreams.get('books')?.address;
      if (!upstream) throw new Error('no books listener');
      const session = connectH2(`http://127.0.0.1:${upstream.port}`);
      const { status, path, body } = await new Promise<{ status: number; path: string; body: string }>((resolve, reject) => {
        const stream = session.request({ ':path': '/books/3' });
        let text = '';
        let head: Record<string, unknown> = {};
        stream.on('response', (headers) => (head = headers));
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => (text += chunk));
        stream.on('end', () => resolve({ status: Number(head[':status']), path: String(head['x-path']), body: text }));
        stream.on('error', reject);
      });
      session.close();
      expect({ status, path, body }).toEqual({ status: 200, path: '/books/3', body: 'h2 books' });
    } finally {
      await new Promise((resolve) => h2backend.close(resolve));
    }
  });

  it('answers 502 naming the connect error when the only endpoint refuses connections', async () => {
    const app = await serve('app');
    servers.push(app.server);
    const nothing: SocketAddress = { ip: '127.0.0.1', port: 1 };
    ({ proxy } = await startWith(nothing, app.address));
    const upstream = proxy.upstreams.get('books')?.address;
    if (!upstream) throw new Error('no books listener');
    const response = await get(upstream, '/books/1');
    expect(response.status).toBe(502);
    expect(String(response.headers['weft-proxy-error'])).toMatch(/connect/i);
  });

  it('drains on shutdown: not ready at once, then listeners closed', async () => {
    const backend = await serve('books');
    const app = await serve('app');
    servers.push(backend.server, app.server);
    ({ proxy } = await startWith(backend.address, app.address));
    const inbound = proxy.inbound.address;
    const summary = await proxy.shutdown.begin('SIGTERM');
    expect(summary.outcome).toBe('drained');
    expect(proxy.readiness.isReady()).toBe(false);
    await expect(get(inbound, '/')).rejects.toThrow(/ECONNREFUSED/);
  });
});
