import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createH2Server, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { InMemoryDiscoverEndpoints, InMemoryProxyMetrics, SeededRandom } from '@weft/adapter-memory';
import { SystemClock } from '@weft/adapter-system';
import { type Endpoint, makeEndpoint, parseAuthority, type SocketAddress, unwrap } from '@weft/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_H2_UPSTREAM_OPTIONS, H2UpstreamSessions } from '../h2/h2-upstream-sessions.js';
import { sendUpstream } from '../http/recording-upstream-handler.spec-helper.js';
import { DEFAULT_UPSTREAM_POOL_OPTIONS, UpstreamPools } from '../http/upstream-pools.js';
import { meshPeerOf } from '../inbound/mesh-peer.js';
import { EndpointBalancer } from '../outbound/endpoint-balancer.js';
import { OutboundTcpForwarder } from '../tcp/outbound-tcp-forwarder.js';
import { LoopbackPeers, patternBytes, transcriptOf } from '../transport/loopback-peers.spec-helper.js';
import { TcpListener } from '../transport/tcp-listener.js';
import type { TransportEvent } from '../transport/transport-log.js';
import { MeshCertificates, meshIdentityName } from './mesh-certificates.spec-helper.js';
import type { MeshTlsClient } from './mesh-tls-client.js';
import { meshClient, meshEndpoint, type MeshServer, MutableCredentials, startMeshServer } from './mesh-tls.spec-helper.js';

const WEB = meshIdentityName('web');
const CLIENT = meshIdentityName('client');
const books = unwrap(parseAuthority('books.shop.svc.cluster.local:7000'));

/** What the test servers answer: who the server proxy said the peer is. */
function describePeer(socket: Socket): string {
  return JSON.stringify(meshPeerOf(socket) ?? null);
}

describe('mesh mTLS on the proxy paths', () => {
  const peers = new LoopbackPeers();
  let certs: MeshCertificates;

  beforeAll(async () => {
    certs = await MeshCertificates.mint();
  }, 60_000);
  afterAll(() => certs.remove());
  afterEach(() => peers.closeAll());

  async function clientCredentials(): Promise<MutableCredentials> {
    return new MutableCredentials(await certs.credentials('client'));
  }

  describe('opaque TCP (outbound forwarder to inbound listener)', () => {
    /** A client proxy's listener for `books`, whose endpoints are `endpoints`, forwarding with `meshTls`. */
    async function clientProxy(endpoints: readonly Endpoint[], meshTls: MeshTlsClient) {
      const discovery = new InMemoryDiscoverEndpoints();
      discovery.setEndpoints(books, endpoints);
      const balancer = new EndpointBalancer(discovery, books, new SystemClock(), new SeededRandom(1));
      const events: TransportEvent[] = [];
      const forwarder = new OutboundTcpForwarder({
        target: books,
        balancer,
        discovery,
        connectTimeoutMs: 1_000,
        failFastTimeoutMs: 500,
        meshTls,
        log: (event) => events.push(event),
      });
      const metrics = new InMemoryProxyMetrics();
      const listener = await TcpListener.listen({
        address: { ip: '127.0.0.1', port: 0 },
        direction: 'outbound',
        metrics,
        tlsDecidedLater: true,
        onConnection: (connection) => void forwarder.forward(connection),
      });
      peers.onClose(async () => {
        await listener.close();
        forwarder.close();
        balancer.close();
      });
      return { address: listener.address, metrics, events };
    }

    it('relays a session both ways over mTLS, with half-close, labelled with both identities', async () => {
      const app = await peers.echoServer();
      const server = await startMeshServer(peers, new MutableCredentials(await certs.credentials('web')), app);
      const proxy = await clientProxy([meshEndpoint('web', app.port, server.address.port)], meshClient(await clientCredentials()));

      const socket = await peers.connect(proxy.address);
      const sent = patternBytes(2 * 1024 * 1024);
      const transcript = transcriptOf(socket);
      socket.end(sent);
      const received = await transcript;

      expect(received.ended).toBe(true);
      expect(received.errorCode).toBeUndefined();
      expect(received.bytes.equals(sent)).toBe(true);
      expect(proxy.metrics.value('tcp_open_total', { direction: 'outbound', tls: 'true', server_id: WEB })).toBe(1);
      await vi.waitFor(() => expect(proxy.metrics.value('tcp_close_total', { tls: 'true', server_id: WEB, classification: 'success' })).toBe(1));
      expect(server.metrics.value('tcp_open_total', { direction: 'inbound', tls: 'true', client_id: CLIENT })).toBe(1);
      expect(server.served[0]?.peer?.tls).toEqual({ tls: 'true', peerIdentity: CLIENT });
    });

    it('connects in plaintext, as before, to an endpoint without an identity, labelled not_provided_by_service_discovery', async () => {
      const app = await peers.echoServer();
      const proxy = await clientProxy([unwrap(makeEndpoint({ address: app }))], meshClient(await clientCredentials()));

      const socket = await peers.connect(proxy.address);
      const transcript = transcriptOf(socket);
      socket.end('plain');
      expect((await transcript).bytes.toString()).toBe('plain');
      expect(proxy.metrics.value('tcp_open_total', { tls: 'no_identity', no_tls_reason: 'not_provided_by_service_discovery' })).toBe(1);
    });

    it('resets the client, and logs why, when this proxy has no certificate yet', async () => {
      const app = await peers.echoServer();
      const server = await startMeshServer(peers, new MutableCredentials(await certs.credentials('web')), app);
      const proxy = await clientProxy([meshEndpoint('web', app.port, server.address.port)], meshClient(new MutableCredentials()));

      const socket = await peers.connect(proxy.address);
      const transcript = transcriptOf(socket);
      socket.write('never sent in plaintext');
      const received = await transcript;

      expect(received.errorCode).toBe('ECONNRESET');
      expect(received.bytes.length).toBe(0);
      expect(proxy.events).toContainEqual(expect.objectContaining({ event: 'endpoint_connect_failed', errno: 'WEFT_NO_CERTIFICATE' }));
      expect(server.served).toEqual([]);
      expect(server.metrics.value('tcp_open_total')).toBeUndefined();
    });
  });

  describe('HTTP/1 upstream pools', () => {
    async function http1Server(): Promise<{ server: MeshServer; app: SocketAddress }> {
      const http = createHttpServer((req: IncomingMessage, res: ServerResponse) => res.end(`${req.url} ${describePeer(req.socket)}`));
      const app = await peers.server(() => undefined);
      const server = await startMeshServer(peers, new MutableCredentials(await certs.credentials('web')), app, {
        handlers: { http1: (detected) => http.emit('connection', detected.socket) },
      });
      peers.onClose(() => void http.close());
      return { server, app };
    }

    it('sends requests over mTLS as an HTTP/1 session, reusing the connection', async () => {
      const { server, app } = await http1Server();
      const pools = new UpstreamPools({ ...DEFAULT_UPSTREAM_POOL_OPTIONS, meshTls: meshClient(await clientCredentials()) });
      peers.onClose(() => pools.close());
      const endpoint = meshEndpoint('web', app.port, server.address.port);

      for (const path of ['/one', '/two']) {
        const response = await sendUpstream(pools.get(endpoint.address, endpoint), { path, headers: ['host', 'books'] });
        expect(response.status).toBe(200);
        expect(response.body).toBe(`${path} ${JSON.stringify({ tls: { tls: 'true', peerIdentity: CLIENT }, remoteIp: '127.0.0.1', targetPort: app.port })}`);
      }
      expect(server.served.map((served) => served.protocol)).toEqual(['http1']);
    });

    it('never shares a pool between identities, nor between mTLS and plaintext', async () => {
      const pools = new UpstreamPools({ ...DEFAULT_UPSTREAM_POOL_OPTIONS, meshTls: meshClient(await clientCredentials()) });
      peers.onClose(() => pools.close());
      const web = meshEndpoint('web', 8080, 4143);
      const other = meshEndpoint('other', 8080, 4143);

      expect(pools.get(web.address, web)).toBe(pools.get(web.address, web));
      expect(pools.get(web.address, web)).not.toBe(pools.get(other.address, other));
      expect(pools.get(web.address)).not.toBe(pools.get(web.address, web));
      expect(pools.size()).toBe(3);
    });

    it('fails the request rather than send it in plaintext when this proxy has no certificate yet', async () => {
      const { server, app } = await http1Server();
      const pools = new UpstreamPools({ ...DEFAULT_UPSTREAM_POOL_OPTIONS, meshTls: meshClient(new MutableCredentials()) });
      peers.onClose(() => pools.close());
      const endpoint = meshEndpoint('web', app.port, server.address.port);

      const failure = await sendUpstream(pools.get(endpoint.address, endpoint), { path: '/', headers: ['host', 'books'] }).then(
        () => undefined,
        (error: { code?: string }) => error.code,
      );
      expect(failure).toBe('WEFT_NO_CERTIFICATE');
      expect(server.served).toEqual([]);
    });
  });

  describe('HTTP/2 upstream sessions', () => {
    async function h2Server(): Promise<{ server: MeshServer; app: SocketAddress }> {
      const h2 = createH2Server();
      h2.on('stream', (stream: ServerHttp2Stream, headers) => {
        stream.respond({ ':status': 200 });
        stream.end(String(headers[':path']));
      });
      const app = await peers.server(() => undefined);
      const server = await startMeshServer(peers, new MutableCredentials(await certs.credentials('web')), app, {
        handlers: { h2: (detected) => h2.emit('connection', detected.socket) },
      });
      peers.onClose(() => void h2.close());
      return { server, app };
    }

    async function get(sessions: H2UpstreamSessions, endpoint: Endpoint, path: string): Promise<string> {
      const stream = sessions.get(endpoint.address, endpoint).request([':method', 'GET', ':path', path, ':scheme', 'http', ':authority', 'books'], { endStream: true });
      let body = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (body += chunk));
      await new Promise<void>((resolve, reject) => {
        stream.once('end', resolve);
        stream.once('error', reject);
      });
      return body;
    }

    it('opens streams over mTLS as an HTTP/2 session, one session per identity', async () => {
      const { server, app } = await h2Server();
      const sessions = new H2UpstreamSessions({ ...DEFAULT_H2_UPSTREAM_OPTIONS, meshTls: meshClient(await clientCredentials()) });
      peers.onClose(() => sessions.destroy());
      const endpoint = meshEndpoint('web', app.port, server.address.port);

      expect(await get(sessions, endpoint, '/a')).toBe('/a');
      expect(await get(sessions, endpoint, '/b')).toBe('/b');
      expect(server.served.map((served) => served.protocol)).toEqual(['h2']);
      expect(server.served[0]?.peer).toEqual({ tls: { tls: 'true', peerIdentity: CLIENT }, remoteIp: '127.0.0.1', targetPort: app.port });
      const other = meshEndpoint('other', app.port, server.address.port);
      expect(sessions.get(other.address, other)).not.toBe(sessions.get(endpoint.address, endpoint));
    });

    it('fails the session rather than speak h2c when this proxy has no certificate yet', async () => {
      const { server, app } = await h2Server();
      const sessions = new H2UpstreamSessions({ ...DEFAULT_H2_UPSTREAM_OPTIONS, meshTls: meshClient(new MutableCredentials()) });
      peers.onClose(() => sessions.destroy());
      const endpoint = meshEndpoint('web', app.port, server.address.port);

      const upstream = sessions.get(endpoint.address, endpoint);
      const closed = new Promise((resolve) => upstream.session.once('close', resolve));
      const failure = await get(sessions, endpoint, '/').then(() => undefined, (error: { code?: string }) => error.code);
      await closed;
      expect(failure).toBeDefined();
      expect(upstream.failure).toBe('WEFT_NO_CERTIFICATE');
      expect(upstream.retired).toBe(true);
      expect(server.served).toEqual([]);
    });
  });
});
