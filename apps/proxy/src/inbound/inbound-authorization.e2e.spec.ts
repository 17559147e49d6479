import { Metadata } from '@grpc/grpc-js';
import { InMemoryDiscoverInboundPolicy, memoryModule } from '@weft/adapter-memory';
import { PrometheusProxyMetrics, prometheusModule } from '@weft/adapter-prometheus';
import { systemModule } from '@weft/adapter-system';
import { type DefaultPolicy, type InboundServerPolicy, ProxyMetrics, type SocketAddress } from '@weft/core';
import { connect as h2Connect } from 'node:http2';
import { Agent } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { callUnary, echoClient, startGrpcUpstream, startH2Upstream } from '../h2/h2-test-kit.spec-helper.js';
import { startUpstream, type Upstream } from '../http/http-test-kit.spec-helper.js';
import { readProxyConfig } from '../proxy-config.js';
import { createProxyContainer } from '../proxy-container.js';
import { startProxy } from '../proxy-runtime.js';
import { LoopbackPeers, patternBytes, transcriptOf } from '../transport/loopback-peers.spec-helper.js';
import {
  type AuthorizedInbound,
  CLIENT_KINDS,
  CLIENTS,
  type ClientKind,
  httpFrom,
  identityAuthorization,
  INTRUDER_ID,
  networkAuthorization,
  serverPolicy,
  startAuthorizedInbound,
  WEB_ID,
  WORKLOAD,
} from './inbound-authorization.spec-helper.js';
import { DEFAULT_INBOUND_POLICY_SETTINGS } from './inbound-policy-settings.js';

type Admits = Readonly<Record<ClientKind, boolean>>;

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function httpApp(): Promise<Upstream> {
  const app = await startUpstream();
  closers.push(() => app.close());
  return app;
}

async function inbound(options: Parameters<typeof startAuthorizedInbound>[0]): Promise<AuthorizedInbound> {
  const running = await startAuthorizedInbound(options);
  closers.push(() => running.close());
  return running;
}

/** The TLS labels an inbound series of client `kind` carries (plaintext loopback clients count as `loopback`). */
function tlsLabelsOf(kind: ClientKind): Record<string, string> {
  const identity = CLIENTS[kind].identity;
  return identity === undefined ? { tls: 'no_identity', no_tls_reason: 'loopback' } : { tls: 'true', client_id: identity };
}

/**
 * Sends one request from each kind of client, each with a forged `weft-client-id`, and checks every answer, what the
 * app received, and the authorization counters against the requests sent.
 */
async function expectAdmits(proxy: AuthorizedInbound, app: Upstream, admits: Admits, server: { kind: string; name: string }): Promise<void> {
  for (const kind of CLIENT_KINDS) {
    const answer = await httpFrom(kind, proxy.address, `/from/${kind}`, { headers: { 'weft-client-id': 'forged.identity' } });
    if (admits[kind]) {
      expect(answer.status, kind).toBe(200);
      expect(answer.headers['weft-proxy-error'], kind).toBeUndefined();
    } else {
      expect(answer.status, kind).toBe(403);
      expect(answer.headers['weft-proxy-error'], kind).toMatch(/^unauthorized: no authorization for /);
      expect(answer.body, kind).toMatch(/^unauthorized: /);
    }
  }
  const admitted = CLIENT_KINDS.filter((kind) => admits[kind]);
  expect(app.requests.map((request) => request.url)).toEqual(admitted.map((kind) => `/from/${kind}`));
  // The app sees the verified identity of a meshed client, and never what a client claimed.
  for (const request of app.requests) {
    const kind = request.url.slice('/from/'.length) as ClientKind;
    expect(request.headers['weft-client-id'], kind).toBe(CLIENTS[kind].identity);
  }
  const srv = { srv_kind: server.kind, srv_name: server.name, srv_port: String(app.port), target_addr: `127.0.0.1:${app.port}` };
  // Plaintext clients share their TLS labels: each series counts the clients with its labels and verdict.
  for (const kind of CLIENT_KINDS) {
    const name = admits[kind] ? 'inbound_http_authz_allow_total' : 'inbound_http_authz_deny_total';
    const alike = CLIENT_KINDS.filter((other) => admits[other] === admits[kind] && CLIENTS[other].identity === CLIENTS[kind].identity);
    expect(proxy.metrics.value(name, { ...srv, ...tlsLabelsOf(kind) }), kind).toBe(alike.length);
  }
  expect(proxy.metrics.value('inbound_http_authz_allow_total') ?? 0).toBe(admitted.length);
  expect(proxy.metrics.value('inbound_http_authz_deny_total') ?? 0).toBe(CLIENT_KINDS.length - admitted.length);
  expect(proxy.metrics.value('inbound_tcp_authz_allow_total')).toBeUndefined();
}

describe('inbound authorization of HTTP/1: the policy matrix', () => {
  // Columns: unmeshed (outside the cluster networks), inNetwork (inside, plaintext), meshed (inside, web identity),
  // wrongIdentity (outside, another identity). The seam describes the meshed clients (see describeTestPeer).
  const defaults: [DefaultPolicy, Admits][] = [
    ['all-unauthenticated', { unmeshed: true, inNetwork: true, meshed: true, wrongIdentity: true }],
    ['all-authenticated', { unmeshed: false, inNetwork: false, meshed: true, wrongIdentity: true }],
    ['cluster-unauthenticated', { unmeshed: false, inNetwork: true, meshed: true, wrongIdentity: false }],
    ['cluster-authenticated', { unmeshed: false, inNetwork: false, meshed: true, wrongIdentity: false }],
    ['deny', { unmeshed: false, inNetwork: false, meshed: false, wrongIdentity: false }],
    ['audit', { unmeshed: true, inNetwork: true, meshed: true, wrongIdentity: true }],
  ];

  it.each(defaults)('the default policy %s admits exactly the expected clients', async (policy, admits) => {
    const app = await httpApp();
    const proxy = await inbound({ app: app.address, defaultPolicy: policy });
    await expectAdmits(proxy, app, admits, { kind: 'default', name: policy });
    // Every admission names its rule: the default policy itself (audit: the audit default).
    const allowed = proxy.metrics.allSeries().filter((series) => series.name === 'inbound_http_authz_allow_total');
    expect(allowed.every((series) => series.labels['authz_kind'] === 'default' && series.labels['authz_name'] === policy)).toBe(true);
  });

  const servers: [string, InboundServerPolicy['authorizations'], Admits][] = [
    ['an AuthorizationPolicy requiring the web identity', [identityAuthorization('web-only', WEB_ID)], {
      unmeshed: false,
      inNetwork: false,
      meshed: true,
      wrongIdentity: false,
    }],
    ['a NetworkAuthentication of 127.0.0.2/32', [networkAuthorization('office', '127.0.0.2/32')], {
      unmeshed: false,
      inNetwork: true,
      meshed: false,
      wrongIdentity: false,
    }],
  ];

  it.each(servers)('a Server with %s admits exactly the expected clients', async (_name, authorizations, admits) => {
    const app = await httpApp();
    const discovery = InMemoryDiscoverInboundPolicy.create();
    discovery.setPolicy(WORKLOAD, app.port, serverPolicy(app.port, 'books-http', authorizations));
    const proxy = await inbound({ app: app.address, defaultPolicy: 'all-unauthenticated', discovery });
    await expectAdmits(proxy, app, admits, { kind: 'server', name: 'books-http' });
    const rule = authorizations[0]?.name ?? '';
    expect(proxy.metrics.value('inbound_http_authz_allow_total', { authz_kind: 'authorizationpolicy', authz_name: rule })).toBe(1);
  });

  it('labels the traffic of a meshed client tls="true" with its client_id, and of a plaintext one no_identity', async () => {
    const app = await httpApp();
    const proxy = await inbound({ app: app.address, defaultPolicy: 'all-unauthenticated' });
    await httpFrom('meshed', proxy.address);
    await httpFrom('wrongIdentity', proxy.address);
    await httpFrom('unmeshed', proxy.address);
    const inboundResponses = { direction: 'inbound', status_code: '200' };
    // A response is counted when the proxy has sent its end, which may be just after the client read it.
    await vi.waitFor(() => expect(proxy.metrics.value('response_total', inboundResponses)).toBe(3));
    expect(proxy.metrics.value('response_total', { ...inboundResponses, tls: 'true', client_id: WEB_ID })).toBe(1);
    expect(proxy.metrics.value('response_total', { ...inboundResponses, tls: 'true', client_id: INTRUDER_ID })).toBe(1);
    expect(proxy.metrics.value('response_total', { ...inboundResponses, tls: 'no_identity', no_tls_reason: 'loopback' })).toBe(1);
  });
});

describe('inbound authorization of HTTP/1: routes and policy changes', () => {
  it('admits per route: route authorizations add to the Server\'s, and a request no route matches is refused', async () => {
    const app = await httpApp();
    const discovery = InMemoryDiscoverInboundPolicy.create();
    const policy: InboundServerPolicy = {
      ...serverPolicy(app.port, 'books-http', []),
      httpRoutes: [
        { name: 'public', matches: [{ path: { type: 'PathPrefix', value: '/public' } }], authorizations: [networkAuthorization('anyone', '127.0.0.0/8')] },
        { name: 'admin', matches: [{ path: { type: 'PathPrefix', value: '/admin' }, method: 'POST' }], authorizations: [identityAuthorization('web-admin', WEB_ID)] },
      ],
    };
    discovery.setPolicy(WORKLOAD, app.port, policy);
    const proxy = await inbound({ app: app.address, defaultPolicy: 'deny', discovery });

    expect((await httpFrom('unmeshed', proxy.address, '/public/books')).status).toBe(200);
    expect((await httpFrom('unmeshed', proxy.address, '/admin')).status).toBe(403);
    const post = await httpFrom('meshed', proxy.address, '/admin/reindex', { method: 'POST' });
    expect(post.status).toBe(200);
    const forbidden = await httpFrom('wrongIdentity', proxy.address, '/admin/reindex', { method: 'POST' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers['weft-proxy-error']).toBe(`unauthorized: no authorization for client ${INTRUDER_ID} from 127.0.0.4`);
    const unrouted = await httpFrom('meshed', proxy.address, '/private');
    expect(unrouted.headers['weft-proxy-error']).toBe('unauthorized: no route matches GET /private');

    expect(app.requests.map((request) => `${request.method} ${request.url}`)).toEqual(['GET /public/books', 'POST /admin/reindex']);
    const routed = { route_group: 'policy.weft.io', route_kind: 'HTTPRoute' };
    expect(proxy.metrics.value('inbound_http_authz_allow_total', { ...routed, route_name: 'public', authz_name: 'anyone' })).toBe(1);
    expect(proxy.metrics.value('inbound_http_authz_allow_total', { ...routed, route_name: 'admin', authz_name: 'web-admin', client_id: WEB_ID })).toBe(1);
    expect(proxy.metrics.value('inbound_http_authz_deny_total', { route_name: 'admin', client_id: INTRUDER_ID })).toBe(1);
    expect(proxy.metrics.value('inbound_http_authz_deny_total')).toBe(3);
  });

  it('applies a policy change to the next request, on a connection that is already open', async () => {
    const app = await httpApp();
    const discovery = InMemoryDiscoverInboundPolicy.create();
    const proxy = await inbound({ app: app.address, defaultPolicy: 'all-unauthenticated', discovery });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    closers.push(() => agent.destroy());
    const statuses: number[] = [];
    const send = async (): Promise<void> => void statuses.push((await httpFrom('unmeshed', proxy.address, '/', { agent })).status);

    await send();
    discovery.setPolicy(WORKLOAD, app.port, serverPolicy(app.port, 'locked', []));
    await send();
    await send();
    discovery.setPolicy(WORKLOAD, app.port, serverPolicy(app.port, 'office', [networkAuthorization('loopback', '127.0.0.0/8')]));
    await send();
    discovery.clearPolicy(WORKLOAD, app.port);
    await send();

    expect(statuses).toEqual([200, 403, 403, 200, 200]);
    expect(new Set(app.requests.map((request) => request.connection))).toEqual(new Set([1]));
    expect(proxy.metrics.value('inbound_http_authz_allow_total', { srv_name: 'all-unauthenticated' })).toBe(2);
    expect(proxy.metrics.value('inbound_http_authz_deny_total', { srv_kind: 'server', srv_name: 'locked' })).toBe(2);
    expect(proxy.metrics.value('inbound_http_authz_allow_total', { srv_name: 'office', authz_name: 'loopback' })).toBe(1);
  });

  it('refuses an Upgrade (WebSocket) request a policy denies before it reaches the app', async () => {
    const app = await httpApp();
    const proxy = await inbound({ app: app.address, defaultPolicy: 'deny' });
    const peers = new LoopbackPeers();
    closers.push(() => peers.closeAll());
    const client = await peers.connect(proxy.address);
    const transcript = transcriptOf(client);
    client.once('end', () => client.end());
    client.write('GET /ws HTTP/1.1\r\nHost: books\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n');
    const answer = (await transcript).bytes.toString();
    expect(answer).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(answer).toContain('weft-proxy-error: unauthorized: no authorization for unauthenticated client from 127.0.0.1');
    expect(app.stats.connections).toBe(0);
    expect(proxy.metrics.value('inbound_http_authz_deny_total')).toBe(1);
  });
});

describe('inbound authorization of HTTP/2 and gRPC', () => {
  it('answers a refused gRPC call PERMISSION_DENIED, trailers-only, and lets calls through once a policy admits them', async () => {
    const app = await startGrpcUpstream();
    closers.push(() => app.close());
    const discovery = InMemoryDiscoverInboundPolicy.create({ defaultPolicy: 'deny' });
    const proxy = await inbound({ app: app.address, defaultPolicy: 'all-unauthenticated', discovery });
    const client = echoClient(proxy.address.port, 'books.shop.svc.cluster.local:7000');
    closers.push(() => client.close());
    const forged = new Metadata();
    forged.set('weft-client-id', 'forged.identity');

    const refused = await callUnary(client, { text: 'hello' }, { metadata: forged });
    expect(refused.status.code).toBe(7);
    // The client sees the reason as written: grpc-message is percent-encoded only where gRPC requires it.
    expect(refused.status.details).toBe('unauthorized: no authorization for unauthenticated client from 127.0.0.1');
    expect(refused.status.metadata.get('weft-proxy-error')).toEqual(['unauthorized: no authorization for unauthenticated client from 127.0.0.1']);
    expect(refused.initialMetadata).toBeUndefined();
    expect(app.log.calls).toBe(0);

    discovery.setPolicy(WORKLOAD, app.port, serverPolicy(app.port, 'grpc', [networkAuthorization('loopback', '127.0.0.0/8')]));
    const admitted = await callUnary(client, { text: 'hello' }, { metadata: forged });
    expect(admitted.status.code).toBe(0);
    expect(admitted.result?.text).toBe('hello');
    expect(app.log.calls).toBe(1);
    expect(app.log.lastMetadata['weft-client-id']).toBeUndefined();
    expect(proxy.metrics.value('inbound_http_authz_deny_total', { srv_name: 'deny' })).toBe(1);
    expect(proxy.metrics.value('inbound_http_authz_allow_total', { srv_name: 'grpc', authz_name: 'loopback' })).toBe(1);
  });

  it('refuses plain HTTP/2 streams per request and gives the app the verified identity of a meshed peer', async () => {
    const app = await startH2Upstream((stream) => {
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
    closers.push(() => app.close());
    const discovery = InMemoryDiscoverInboundPolicy.create();
    discovery.setPolicy(WORKLOAD, app.port, serverPolicy(app.port, 'books-h2', [identityAuthorization('web-only', WEB_ID)]));
    const proxy = await inbound({ app: app.address, defaultPolicy: 'all-unauthenticated', discovery });

    const meshed = await h2Get('meshed', proxy.address, '/books');
    expect(meshed.status).toBe(200);
    const intruder = await h2Get('wrongIdentity', proxy.address, '/books');
    expect(intruder.status).toBe(403);
    expect(intruder.proxyError).toBe(`unauthorized: no authorization for client ${INTRUDER_ID} from 127.0.0.4`);

    expect(app.requests).toHaveLength(1);
    const received = app.requests[0] ?? [];
    const clientIds = received.filter((_, i) => i % 2 === 1 && received[i - 1] === 'weft-client-id');
    expect(clientIds).toEqual([WEB_ID]);
    expect(proxy.metrics.value('inbound_http_authz_allow_total', { client_id: WEB_ID, authz_name: 'web-only' })).toBe(1);
    expect(proxy.metrics.value('inbound_http_authz_deny_total', { client_id: INTRUDER_ID })).toBe(1);
  });
});

describe('inbound authorization of opaque TCP', () => {
  it('resets a refused connection before the app sees a byte, and forwards an admitted one', async () => {
    const peers = new LoopbackPeers();
    closers.push(() => peers.closeAll());
    const seen = { connections: 0, bytes: 0 };
    const app = await peers.server((socket) => {
      seen.connections += 1;
      socket.on('data', (chunk: Buffer) => (seen.bytes += chunk.length));
      socket.pipe(socket);
    });
    const proxy = await inbound({ app, defaultPolicy: 'all-authenticated', opaque: true });

    const refused = await tcpExchange('unmeshed', proxy.address, patternBytes(64 * 1024));
    expect(refused.bytes.length).toBe(0);
    expect(['ECONNRESET', 'EPIPE']).toContain(refused.error);

    const payload = patternBytes(100_000, 5);
    const admitted = await tcpExchange('meshed', proxy.address, payload);
    expect(admitted.error).toBeUndefined();
    expect(admitted.bytes.equals(payload)).toBe(true);

    expect(seen).toEqual({ connections: 1, bytes: payload.length });
    const srv = { srv_kind: 'default', srv_name: 'all-authenticated', srv_port: String(app.port) };
    // Nothing is detected on an opaque port, so whether the client spoke TLS is not known there.
    expect(proxy.metrics.value('inbound_tcp_authz_deny_total', { ...srv, tls: 'no_identity', no_tls_reason: 'port_skipped' })).toBe(1);
    expect(proxy.metrics.value('inbound_tcp_authz_allow_total', { ...srv, tls: 'true', client_id: WEB_ID, authz_name: 'all-authenticated' })).toBe(1);
    expect(proxy.metrics.value('inbound_http_authz_deny_total')).toBeUndefined();
    await vi.waitFor(() => expect(proxy.metrics.value('tcp_close_total', { direction: 'inbound' })).toBe(2));
    expect(proxy.metrics.value('tcp_close_total', { direction: 'inbound', classification: 'failure' })).toBe(1);
  });

  it('authorizes what detection found to be neither HTTP/1 nor HTTP/2 when it goes on as opaque TCP', async () => {
    const peers = new LoopbackPeers();
    closers.push(() => peers.closeAll());
    let connections = 0;
    const app = await peers.server((socket) => {
      connections += 1;
      socket.pipe(socket);
    });
    const proxy = await inbound({ app, defaultPolicy: 'cluster-unauthenticated' });
    const refused = await tcpExchange('unmeshed', proxy.address, Buffer.from('\x00\x01binary protocol\r\n'));
    expect(refused.bytes.length).toBe(0);
    const admitted = await tcpExchange('inNetwork', proxy.address, Buffer.from('\x00\x01binary protocol\r\n'));
    expect(admitted.bytes.toString()).toBe('\x00\x01binary protocol\r\n');
    expect(connections).toBe(1);
    expect(proxy.metrics.value('inbound_tcp_authz_deny_total')).toBe(1);
    expect(proxy.metrics.value('inbound_tcp_authz_allow_total')).toBe(1);
  });
});

describe('inbound authorization in the whole proxy', () => {
  it('is wired by startProxy: the container\'s policy discovery decides, and /metrics shows the counters', async () => {
    const app = await httpApp();
    const container = createProxyContainer([systemModule(), memoryModule({ omit: [ProxyMetrics] }), prometheusModule({ version: 'test' })]);
    const anyPort = { ip: '127.0.0.1', port: 0 };
    const config = { ...readProxyConfig({}), outboundAddr: anyPort, inboundAddr: anyPort, tapAddr: anyPort, adminAddr: anyPort, inboundAppAddr: app.address };
    const proxy = await startProxy({ config, container, log: () => undefined });
    closers.push(async () => void (await proxy.stop()));
    const discovery = container.get(InMemoryDiscoverInboundPolicy);
    // Unset, WEFT_PROXY_POLICY_WORKLOAD names the workload after the host.
    const workload = config.inboundPolicy?.workload ?? DEFAULT_INBOUND_POLICY_SETTINGS.workload;
    expect(workload.namespace).toBe('default');
    expect(discovery.watcherCount(workload, app.port)).toBe(1);

    const open = await httpFrom('unmeshed', proxy.inbound.address, '/', { headers: { 'weft-client-id': 'forged.identity' } });
    expect(open.status).toBe(200);
    expect(app.requests[0]?.headers['weft-client-id']).toBeUndefined();
    discovery.setPolicy(workload, app.port, serverPolicy(app.port, 'locked', []));
    const locked = await httpFrom('unmeshed', proxy.inbound.address);
    expect(locked.status).toBe(403);
    expect(app.requests).toHaveLength(1);

    const text = await container.get(PrometheusProxyMetrics).metricsText();
    expect(text).toMatch(/^inbound_http_authz_allow_total\{[^}]*srv_name="all-unauthenticated"[^}]*\} 1$/m);
    expect(text).toMatch(/^inbound_http_authz_deny_total\{[^}]*srv_kind="server",srv_name="locked"[^}]*\} 1$/m);
  });
});

/** One plain HTTP/2 GET from client `kind`, on its own connection. */
function h2Get(kind: ClientKind, proxy: SocketAddress, path: string): Promise<{ status: number; proxyError: string | undefined }> {
  return new Promise((resolve, reject) => {
    const session = h2Connect(`http://${proxy.ip}:${proxy.port}`, {
      createConnection: () => netConnect({ host: proxy.ip, port: proxy.port, localAddress: CLIENTS[kind].ip }),
    });
    session.on('error', reject);
    const stream = session.request({ ':method': 'GET', ':path': path, 'weft-client-id': 'forged.identity' });
    stream.on('response', (headers) => {
      const proxyError = headers['weft-proxy-error'];
      stream.resume();
      stream.on('end', () => {
        session.close();
        resolve({ status: Number(headers[':status']), proxyError: typeof proxyError === 'string' ? proxyError : undefined });
      });
    });
    stream.on('error', reject);
  });
}

/** Connects from client `kind`, sends `payload`, half-closes, and collects what comes back until the connection ends. */
async function tcpExchange(kind: ClientKind, proxy: SocketAddress, payload: Buffer): Promise<{ bytes: Buffer; error: string | undefined }> {
  const socket: Socket = netConnect({ host: proxy.ip, port: proxy.port, localAddress: CLIENTS[kind].ip, allowHalfOpen: true });
  const chunks: Buffer[] = [];
  let error: string | undefined;
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', (cause: NodeJS.ErrnoException) => (error ??= cause.code));
  socket.once('connect', () => socket.end(payload));
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { bytes: Buffer.concat(chunks), error };
}
