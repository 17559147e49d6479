import { InMemoryDiscoverInboundPolicy } from '@weft/adapter-memory';
import { SystemClock } from '@weft/adapter-system';
import type { DefaultPolicy, InboundAuthorization, SocketAddress } from '@weft/core';
import { request as httpRequest } from 'node:http';
import { connect as h2Connect } from 'node:http2';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startH2Upstream } from '../h2/h2-test-kit.spec-helper.js';
import { startUpstream } from '../http/http-test-kit.spec-helper.js';
import { MeshCertificates, meshIdentityName } from '../tls/mesh-certificates.spec-helper.js';
import type { MeshEndpoint } from '../tls/mesh-tls-client.js';
import { MeshTlsTerminator } from '../tls/mesh-tls-terminator.js';
import { meshClient, meshEndpoint, MutableCredentials } from '../tls/mesh-tls.spec-helper.js';
import { LoopbackPeers, patternBytes, transcriptOf } from '../transport/loopback-peers.spec-helper.js';
import {
  type AuthorizedInbound,
  type HttpAnswer,
  httpFrom,
  identityAuthorization,
  serverPolicy,
  startAuthorizedInbound,
  WORKLOAD,
} from './inbound-authorization.spec-helper.js';

/** The `web` app on `appPort` behind its proxy's inbound port, as discovery gives it (with its TLS identity). */
function webEndpoint(appPort: number, inboundPort: number): MeshEndpoint {
  return meshEndpoint('web', appPort, inboundPort) as MeshEndpoint;
}

const CLIENT_ID = meshIdentityName('client');
const OTHER_ID = meshIdentityName('other');

/** Every client of these specs comes over real mesh mTLS (MeshTlsClient to MeshTlsTerminator), or in plaintext. */
describe('inbound authorization of clients that come over real mesh mTLS', () => {
  const peers = new LoopbackPeers();
  const closers: (() => Promise<void> | void)[] = [];
  let certs: MeshCertificates;

  beforeAll(async () => {
    certs = await MeshCertificates.mint();
  }, 60_000);
  afterAll(() => certs.remove());
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await peers.closeAll();
  });

  /** The `web` workload's inbound listener with mTLS in front of `app`; its port is governed by `authorizations`. */
  async function webInbound(app: SocketAddress, policy: DefaultPolicy | readonly InboundAuthorization[]): Promise<AuthorizedInbound> {
    const terminator = new MeshTlsTerminator({ credentials: new MutableCredentials(await certs.credentials('web')), clock: new SystemClock() });
    closers.push(() => terminator.close());
    const discovery = InMemoryDiscoverInboundPolicy.create({ defaultPolicy: 'deny' });
    if (typeof policy !== 'string') discovery.setPolicy(WORKLOAD, app.port, serverPolicy(app.port, 'web-http', policy));
    const inbound = await startAuthorizedInbound({
      app,
      defaultPolicy: typeof policy === 'string' ? policy : 'deny',
      ...(typeof policy === 'string' ? {} : { discovery }),
      meshTls: terminator,
    });
    closers.push(() => inbound.close());
    return inbound;
  }

  /** One HTTP/1 request from workload `from`'s proxy, over a mesh session to `web`'s inbound port for `app`. */
  async function meshHttp(from: 'client' | 'other', inbound: AuthorizedInbound, app: SocketAddress, path: string): Promise<HttpAnswer> {
    const client = meshClient(new MutableCredentials(await certs.credentials(from)));
    const socket = await client.connect(webEndpoint(app.port, inbound.address.port), 'http1', { timeoutMs: 2_000 });
    peers.track(socket);
    return new Promise((resolve, reject) => {
      const headers = { 'weft-client-id': 'forged.identity', connection: 'close' };
      const req = httpRequest({ host: app.ip, port: app.port, path, headers, createConnection: () => socket }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('admits the identity a Server policy names and refuses another identity and plaintext, counting each', async () => {
    const app = await startUpstream();
    closers.push(() => app.close());
    const inbound = await webInbound(app.address, [identityAuthorization('client-only', CLIENT_ID)]);

    const admitted = await meshHttp('client', inbound, app.address, '/from/client');
    expect(admitted.status).toBe(200);
    const refused = await meshHttp('other', inbound, app.address, '/from/other');
    expect(refused.status).toBe(403);
    expect(refused.headers['weft-proxy-error']).toBe(`unauthorized: no authorization for client ${OTHER_ID} from 127.0.0.1`);
    const plaintext = await httpFrom('unmeshed', inbound.address, '/from/plaintext');
    expect(plaintext.headers['weft-proxy-error']).toBe('unauthorized: no authorization for unauthenticated client from 127.0.0.1');

    expect(app.requests.map((request) => request.url)).toEqual(['/from/client']);
    expect(app.requests[0]?.headers['weft-client-id']).toBe(CLIENT_ID);
    const srv = { srv_kind: 'server', srv_name: 'web-http', srv_port: String(app.port) };
    expect(inbound.metrics.value('inbound_http_authz_allow_total', { ...srv, tls: 'true', client_id: CLIENT_ID, authz_name: 'client-only' })).toBe(1);
    expect(inbound.metrics.value('inbound_http_authz_deny_total', { ...srv, tls: 'true', client_id: OTHER_ID })).toBe(1);
    expect(inbound.metrics.value('inbound_http_authz_deny_total', { ...srv, tls: 'no_identity', no_tls_reason: 'loopback' })).toBe(1);
    await vi.waitFor(() => expect(inbound.metrics.value('response_total', { direction: 'inbound', tls: 'true', client_id: CLIENT_ID })).toBe(1));
  });

  it('under the default policy all-authenticated admits every mesh identity and no plaintext client', async () => {
    const app = await startUpstream();
    closers.push(() => app.close());
    const inbound = await webInbound(app.address, 'all-authenticated');
    expect((await meshHttp('client', inbound, app.address, '/a')).status).toBe(200);
    expect((await meshHttp('other', inbound, app.address, '/b')).status).toBe(200);
    expect((await httpFrom('unmeshed', inbound.address, '/c')).status).toBe(403);
    expect(app.requests.map((request) => request.headers['weft-client-id'])).toEqual([CLIENT_ID, OTHER_ID]);
    expect(inbound.metrics.value('inbound_http_authz_allow_total', { srv_name: 'all-authenticated', authz_name: 'all-authenticated' })).toBe(2);
    expect(inbound.metrics.value('inbound_http_authz_deny_total')).toBe(1);
  });

  it('decides each HTTP/2 stream of a mesh session and gives the app the verified identity', async () => {
    const app = await startH2Upstream((stream) => {
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
    closers.push(() => app.close());
    const inbound = await webInbound(app.address, [identityAuthorization('client-only', CLIENT_ID)]);
    const statusOver = async (from: 'client' | 'other'): Promise<number> => {
      const client = meshClient(new MutableCredentials(await certs.credentials(from)));
      const socket = peers.track(await client.connect(webEndpoint(app.port, inbound.address.port), 'http2', { timeoutMs: 2_000 }));
      const session = h2Connect(`http://web.shop:${app.port}`, { createConnection: () => socket });
      closers.push(() => void session.destroy());
      return new Promise((resolve, reject) => {
        const stream = session.request({ ':path': '/books', 'weft-client-id': 'forged.identity' });
        stream.on('response', (headers) => resolve(Number(headers[':status'])));
        stream.on('error', reject);
        stream.resume();
      });
    };

    expect(await statusOver('client')).toBe(200);
    expect(await statusOver('other')).toBe(403);
    expect(app.requests).toHaveLength(1);
    const received = app.requests[0] ?? [];
    expect(received.filter((_, i) => i % 2 === 1 && received[i - 1] === 'weft-client-id')).toEqual([CLIENT_ID]);
    expect(inbound.metrics.value('inbound_http_authz_deny_total', { tls: 'true', client_id: OTHER_ID })).toBe(1);
  });

  it('resets an opaque mesh session of an identity the policy refuses before the app sees a byte', async () => {
    let appConnections = 0;
    const app = await peers.server((socket) => {
      appConnections += 1;
      socket.pipe(socket);
    });
    const inbound = await webInbound(app, [identityAuthorization('client-only', CLIENT_ID)]);
    const session = async (from: 'client' | 'other', payload: Buffer) => {
      const client = meshClient(new MutableCredentials(await certs.credentials(from)));
      const socket = peers.track(await client.connect(webEndpoint(app.port, inbound.address.port), 'opaque', { timeoutMs: 2_000 }));
      const transcript = transcriptOf(socket);
      socket.end(payload);
      return transcript;
    };

    const payload = patternBytes(50_000);
    expect((await session('client', payload)).bytes.equals(payload)).toBe(true);
    const refused = await session('other', payload);
    expect(refused.bytes.length).toBe(0);
    expect(appConnections).toBe(1);
    // The mesh client sees its session end (the reset is under its TLS); the proxy counts the connection failed.
    await vi.waitFor(() => expect(inbound.metrics.value('tcp_close_total', { direction: 'inbound', tls: 'true', classification: 'failure' })).toBe(1));
    expect(inbound.metrics.value('inbound_tcp_authz_allow_total', { tls: 'true', client_id: CLIENT_ID })).toBe(1);
    expect(inbound.metrics.value('inbound_tcp_authz_deny_total', { tls: 'true', client_id: OTHER_ID, srv_name: 'web-http' })).toBe(1);
  });
});
