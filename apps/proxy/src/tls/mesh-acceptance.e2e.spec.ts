import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { type ClientHttp2Session, connect as h2Connect } from 'node:http2';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { status as grpcStatus } from '@grpc/grpc-js';
import type { SocketAddress } from '@weft/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { callUnary, echoClient, startGrpcUpstream, startH2Upstream } from '../h2/h2-test-kit.spec-helper.js';
import { httpCall, startUpstream, type Upstream } from '../http/http-test-kit.spec-helper.js';
import type { ProxyCredentials } from '../identity/proxy-credentials.js';
import { patternBytes } from '../transport/loopback-peers.spec-helper.js';
import { closedWith, meshClient, MutableCredentials } from './mesh-tls.spec-helper.js';
import { meshEndpointOf, meshIdentityOf, type MeshProxy, metricSum, TwoProxyMesh, waitFor } from './two-proxy-mesh.spec-helper.js';

const WEB = meshIdentityOf('web');
const CLIENT = meshIdentityOf('client');
const BOOKS_NAME = 'books.shop.svc.cluster.local:7000';
const FORGED = 'admin.shop.serviceaccount.identity.weft.cluster.local';

/** The labels each side of a two-proxy hop carries: the client proxy names the server, the server proxy the client. */
const OUTBOUND = { direction: 'outbound', tls: 'true', server_id: WEB } as const;
const INBOUND = { direction: 'inbound', tls: 'true', client_id: CLIENT } as const;

const cleanups: (() => Promise<void> | void)[] = [];

/** Runs the cleanups of one test, newest first (clients, then apps), then stops its proxies. */
async function cleanUp(mesh: TwoProxyMesh): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await mesh.stopProxies();
}

/** The server proxy `web` in front of `app`, the client proxy `client` whose `books` is that app, both certified. */
async function twoProxies(mesh: TwoProxyMesh, app: SocketAddress): Promise<{ server: MeshProxy; client: MeshProxy }> {
  const server = await mesh.proxyFor('web', { appAddr: app });
  const client = await mesh.proxyFor('client', { upstream: true });
  mesh.route(client, server, app);
  return { server, client };
}

async function httpApp(): Promise<Upstream> {
  const app = await startUpstream();
  cleanups.push(() => app.close());
  return app;
}

/** Waits until `name{labels}` on `proxy` has reached `count`, and returns what it is then (a test expects it exact). */
async function counted(proxy: MeshProxy, name: string, labels: Readonly<Record<string, string>>, count: number): Promise<number> {
  let value = 0;
  await waitFor(async () => (value = metricSum(await proxy.metrics(), name, labels)) >= count, `${name} ${JSON.stringify(labels)} to reach ${count}`).catch(
    () => undefined, // the expectation that follows says what it was
  );
  return value;
}

/** The values of header `name` among flat HTTP/2 raw headers. */
function rawHeaderValues(rawHeaders: readonly string[], name: string): string[] {
  return rawHeaders.filter((_, index) => index % 2 === 1 && rawHeaders[index - 1]?.toLowerCase() === name);
}

/** One GET with Node's client; whether the agent reused a kept-alive connection for it. */
function get(port: number, path: string, agent: Agent, headers: Record<string, string>): Promise<{ status: number; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end();
  });
}

function h2Get(session: ClientHttp2Session, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ...headers });
    let status = 0;
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (head) => (status = Number(head[':status'])));
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => resolve({ status, body }));
    stream.on('error', reject);
  });
}

interface LoadOutcome {
  readonly sent: number;
  /** One line per request that did not get a 200: its number and what it got instead. */
  readonly failures: string[];
}

/**
 * About 50 requests a second through `port`, every other one on a kept-alive connection and the rest each on a new
 * one, until `done()` or `maxMs`; resolves once every request has ended.
 */
async function runLoad(port: number, done: () => boolean, maxMs: number): Promise<LoadOutcome> {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const failures: string[] = [];
  const inFlight: Promise<void>[] = [];
  const deadline = Date.now() + maxMs;
  let sent = 0;
  while (!done() && Date.now() < deadline) {
    const index = sent;
    sent += 1;
    const call = httpCall(port, { path: `/load/${index}`, agent: index % 2 === 0 ? agent : false }).then(
      (answer) => {
        if (answer.status !== 200) failures.push(`#${index}: ${answer.status} ${String(answer.headers['weft-proxy-error'] ?? '')}`);
      },
      (error: NodeJS.ErrnoException) => void failures.push(`#${index}: ${error.code ?? error.message}`),
    );
    inFlight.push(call);
    await sleep(20); // the pace of the load, not a wait for something
  }
  await Promise.all(inFlight);
  agent.destroy();
  return { sent, failures };
}

/** True once `condition` has held for `ms` without a break. */
function heldFor(condition: () => boolean, ms: number): () => boolean {
  let since: number | undefined;
  return () => {
    if (!condition()) {
      since = undefined;
      return false;
    }
    since ??= Date.now();
    return Date.now() - since >= ms;
  };
}

/**
 * One HTTP/1 request over a mesh session opened by hand with `credentials` (a peer proxy holding them) to `server`'s
 * inbound port for `app`: the status, or the error the connection failed with.
 */
async function meshGet(credentials: ProxyCredentials, server: MeshProxy, app: SocketAddress, path: string): Promise<number | string> {
  const client = meshClient(new MutableCredentials(credentials));
  const socket = await client.connect(meshEndpointOf(server, app), 'http1', { timeoutMs: 2_000 });
  return new Promise((resolve) => {
    const req = httpRequest({ host: app.ip, port: app.port, path, headers: { connection: 'close' }, createConnection: () => socket }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end();
  });
}

/** openssl s_client against `address` with `args`, fed `input`; its output. */
function sClient(address: SocketAddress, args: readonly string[], input: string): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile(
      'openssl',
      ['s_client', '-connect', `${address.ip}:${address.port}`, '-ign_eof', ...args],
      { timeout: 8_000, encoding: 'utf8' },
      (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
    );
    child.stdin?.end(input);
  });
}

// Each test starts two proxies: 20 s leaves room on a busy machine, far above what they take.
describe('two proxies on loopback, certified by a real CA: every hop is mTLS', { timeout: 20_000 }, () => {
  let mesh: TwoProxyMesh;

  beforeAll(async () => {
    mesh = await TwoProxyMesh.create();
  }, 30_000);
  afterAll(() => mesh.remove());
  afterEach(() => cleanUp(mesh));

  it('carries HTTP/1.1 keep-alive requests, gives the app the verified client identity, and counts each with both identities', async () => {
    const app = await httpApp();
    const { server, client } = await twoProxies(mesh, app.address);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    const requests = 20;

    const answers = [];
    for (let index = 0; index < requests; index += 1) {
      // Every other request forges the header a peer proxy sets.
      const headers: Record<string, string> = index % 2 === 0 ? { 'weft-client-id': FORGED } : {};
      answers.push(await get(client.upstreamAddress().port, `/books/${index}`, agent, headers));
    }

    expect(answers.map((answer) => answer.status)).toEqual(Array.from({ length: requests }, () => 200));
    expect(answers.filter((answer) => answer.reused).length).toBeGreaterThan(0); // keep-alive from the app held
    expect(app.requests.map((request) => request.url)).toEqual(Array.from({ length: requests }, (_, index) => `/books/${index}`));
    expect(app.requests.map((request) => request.headers['weft-client-id'])).toEqual(Array.from({ length: requests }, () => CLIENT));
    expect(await counted(server, 'response_total', INBOUND, requests)).toBe(requests);
    expect(metricSum(await server.metrics(), 'request_total', INBOUND)).toBe(requests);
    expect(metricSum(await server.metrics(), 'response_total', { ...INBOUND, classification: 'success', status_code: '200' })).toBe(requests);
    expect(metricSum(await server.metrics(), 'request_total', { direction: 'inbound' })).toBe(requests); // none without mTLS
    expect(await counted(client, 'response_total', OUTBOUND, requests)).toBe(requests);
    expect(metricSum(await client.metrics(), 'request_total', OUTBOUND)).toBe(requests);
    expect(metricSum(await client.metrics(), 'response_total', { ...OUTBOUND, classification: 'success', status_code: '200' })).toBe(requests);
    expect(metricSum(await client.metrics(), 'request_total', { direction: 'outbound' })).toBe(requests);
  });

  it('carries HTTP/2 streams from a prior-knowledge h2c client to an h2c app, with both identities', async () => {
    const app = await startH2Upstream((stream) => {
      stream.respond({ ':status': 200 });
      stream.end('from the h2c app');
    });
    cleanups.push(() => app.close());
    const { server, client } = await twoProxies(mesh, app.address);
    const session = h2Connect(`http://127.0.0.1:${client.upstreamAddress().port}`);
    session.on('error', () => undefined);
    cleanups.push(() => void session.destroy());
    const streams = 10;

    const answers = await Promise.all(Array.from({ length: streams }, (_, index) => h2Get(session, `/h2/${index}`, { 'weft-client-id': FORGED })));

    expect(answers).toEqual(Array.from({ length: streams }, () => ({ status: 200, body: 'from the h2c app' })));
    expect(app.requests.map((raw) => rawHeaderValues(raw, 'weft-client-id'))).toEqual(Array.from({ length: streams }, () => [CLIENT]));
    expect(await counted(server, 'response_total', { ...INBOUND, classification: 'success' }, streams)).toBe(streams);
    expect(metricSum(await server.metrics(), 'request_total', INBOUND)).toBe(streams);
    expect(await counted(client, 'response_total', { ...OUTBOUND, classification: 'success' }, streams)).toBe(streams);
    expect(metricSum(await client.metrics(), 'request_total', OUTBOUND)).toBe(streams);
  });

  it('carries a grpc-js unary call, with both identities', async () => {
    const app = await startGrpcUpstream();
    cleanups.push(() => app.close());
    const { server, client } = await twoProxies(mesh, app.address);
    const grpc = echoClient(client.upstreamAddress().port, BOOKS_NAME);
    cleanups.push(() => grpc.close());

    const { result, status } = await callUnary(grpc, { text: 'over mTLS' }, { deadlineMs: 5_000 });

    expect(status.code).toBe(grpcStatus.OK);
    expect(result).toEqual({ text: 'over mTLS', index: 0, port: app.port });
    expect(app.log.lastMetadata['weft-client-id']).toBe(CLIENT);
    expect(await counted(server, 'response_total', { ...INBOUND, classification: 'success', grpc_status: '0' }, 1)).toBe(1);
    expect(await counted(client, 'response_total', { ...OUTBOUND, classification: 'success', grpc_status: '0' }, 1)).toBe(1);
  });

  it('relays a 1 MB WebSocket message byte for byte, the upgrade carrying the verified client identity', async () => {
    const app = await httpApp();
    const wss = new WebSocketServer({ server: app.server });
    const upgradeClientIds: unknown[] = [];
    wss.on('connection', (socket, req) => {
      upgradeClientIds.push(req.headers['weft-client-id']);
      socket.on('message', (data: Buffer, isBinary) => socket.send(data, { binary: isBinary }));
    });
    cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    const { server, client } = await twoProxies(mesh, app.address);
    const ws = new WebSocket(`ws://127.0.0.1:${client.upstreamAddress().port}/echo`, {
      headers: { host: BOOKS_NAME, 'weft-client-id': FORGED },
      maxPayload: 4 * 1024 * 1024,
    });
    cleanups.push(() => ws.terminate());
    await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));

    const payload = patternBytes(1024 * 1024, 11);
    const echoed = new Promise<Buffer>((resolve) => ws.once('message', (data: Buffer) => resolve(data)));
    ws.send(payload);

    expect((await echoed).equals(payload)).toBe(true);
    expect(upgradeClientIds).toEqual([CLIENT]);
    expect(metricSum(await server.metrics(), 'request_total', INBOUND)).toBe(1);
    expect(metricSum(await client.metrics(), 'request_total', OUTBOUND)).toBe(1);
  });

  describe('bad peers: each refused and counted, nothing reaches the app, the proxy keeps serving', () => {
    /** The mesh with an HTTP app; `stillServes` sends a good request through both proxies after a refusal. */
    async function meshWithApp() {
      const app = await httpApp();
      const { server, client } = await twoProxies(mesh, app.address);
      const stillServes = async (path: string) => {
        const answer = await httpCall(client.upstreamAddress().port, { path });
        expect(answer.status).toBe(200);
        expect(app.requests.at(-1)?.url).toBe(path);
        expect(app.requests.at(-1)?.headers['weft-client-id']).toBe(CLIENT);
      };
      await stillServes('/before');
      return { app, server, client, stillServes };
    }

    /** Waits for the server proxy's refusal counter, then checks that the app got nothing since `before`. */
    async function expectRefused(server: MeshProxy, app: Upstream, before: { connections: number; bytesReceived: number }): Promise<void> {
      expect(await counted(server, 'inbound_tcp_errors_total', { error: 'tls_handshake_failure' }, 1)).toBe(1);
      expect(metricSum(await server.metrics(), 'inbound_tcp_errors_total')).toBe(1);
      expect(app.stats).toEqual(before);
      expect(app.requests.map((request) => request.url)).toEqual(['/before']);
    }

    /** A peer holding `credentials` opens a mesh HTTP/1 session to `server` and sends a request; what came back. */
    async function badPeerRequest(credentials: ProxyCredentials, server: MeshProxy, app: Upstream): Promise<{ bytes: Buffer; errorCode?: string | undefined }> {
      const peer = meshClient(new MutableCredentials(credentials));
      // With TLS 1.3 the client may finish its side before the server has judged its certificate: either way the
      // connection ends without a byte coming back.
      return peer.connect(meshEndpointOf(server, app.address), 'http1', { timeoutMs: 2_000 }).then(
        async (socket) => {
          socket.write(`GET /smuggled HTTP/1.1\r\nHost: ${BOOKS_NAME}\r\n\r\n`);
          return closedWith(socket);
        },
        (error: NodeJS.ErrnoException) => ({ bytes: Buffer.alloc(0), errorCode: error.code }),
      );
    }

    it('refuses openssl s_client offering TLS 1.2 with the right SNI, ALPN and a good client certificate', async () => {
      const { app, server, client, stillServes } = await meshWithApp();
      const before = { ...app.stats };
      const credentials = client.credentials();
      const leafFile = join(mesh.dir, 'client-leaf.pem');
      const keyFile = join(mesh.dir, 'client-key.pem');
      await writeFile(leafFile, /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(credentials.certificateChainPem)?.[0] ?? '');
      await writeFile(keyFile, credentials.privateKeyPem, { mode: 0o600 });

      const output = await sClient(
        server.proxy.inbound.address,
        ['-tls1_2', '-servername', WEB, '-alpn', 'transport.weft.io/v1', '-CAfile', mesh.anchorsFile, '-cert', leafFile, '-key', keyFile],
        `GET /smuggled HTTP/1.1\r\nHost: ${BOOKS_NAME}\r\n\r\n`,
      );

      expect(output).toMatch(/alert protocol version/);
      expect(output).not.toMatch(/HTTP\/1\.1/);
      await expectRefused(server, app, before);
      await stillServes('/after');
    });

    it('refuses a client certificate from a foreign CA', async () => {
      const { app, server, stillServes } = await meshWithApp();
      const before = { ...app.stats };

      const outcome = await badPeerRequest(await mesh.foreignLeaf('client'), server, app);

      expect(outcome.bytes.length).toBe(0);
      await expectRefused(server, app, before);
      await stillServes('/after');
    });

    it('refuses an expired client certificate from the mesh CA', async () => {
      const { app, server, stillServes } = await meshWithApp();
      const before = { ...app.stats };
      const expired = await mesh.leafIssuedAt('client', Date.now() - 2 * 60 * 60 * 1_000, 60_000);
      expect(expired.notAfter).toBeLessThan(Date.now());

      const outcome = await badPeerRequest(expired, server, app);

      expect(outcome.bytes.length).toBe(0);
      await expectRefused(server, app, before);
      await stillServes('/after');
    });
  });
});

describe('the certificate lifecycle under traffic (leaves of 20 s, renewed 10 s after issue)', () => {
  let mesh: TwoProxyMesh;

  beforeAll(async () => {
    mesh = await TwoProxyMesh.create({ leafLifetimeMs: 20_000 });
  }, 30_000);
  afterAll(() => mesh.remove());
  afterEach(() => cleanUp(mesh));

  it('renews both proxies under load with no failed request, and accepts client certificates from before and after', async () => {
    const app = await httpApp();
    const { server, client } = await twoProxies(mesh, app.address);
    const first = { server: server.credentials(), client: client.credentials() };
    const rotated = () => server.credentials() !== first.server && client.credentials() !== first.client;

    // From before the first renewal until 2 s after the later of the two.
    const load = await runLoad(client.upstreamAddress().port, heldFor(rotated, 2_000), 20_000);

    expect(load.failures).toEqual([]);
    expect(rotated()).toBe(true);
    expect(app.requests.length).toBe(load.sent);
    for (const proxy of [server, client]) {
      expect(metricSum(await proxy.metrics(), 'identity_cert_refresh_count')).toBe(2);
      expect(metricSum(await proxy.metrics(), 'identity_cert_expiration_timestamp_seconds')).toBe(proxy.credentials().notAfter / 1_000);
      expect(proxy.credentials().certificateChainPem).not.toBe((proxy === server ? first.server : first.client).certificateChainPem);
    }
    expect(metricSum(await server.metrics(), 'request_total', INBOUND)).toBe(load.sent);
    // The rotated server, asked directly by peers holding the client's first and its renewed certificate.
    expect(await meshGet(first.client, server, app.address, '/first-certificate')).toBe(200);
    expect(await meshGet(client.credentials(), server, app.address, '/renewed-certificate')).toBe(200);
    expect(app.requests.slice(-2).map((request) => request.headers['weft-client-id'])).toEqual([CLIENT, CLIENT]);
  }, 30_000);

  it('keeps serving on its certificate while the CA is away, and stays ready while it is valid', async () => {
    const app = await httpApp();
    const { server, client } = await twoProxies(mesh, app.address);
    const first = { server: server.credentials(), client: client.credentials() };
    server.certifier.away = true;
    client.certifier.away = true;
    const renewalsRefused = () => server.certifier.refused > 0 && client.certifier.refused > 0;
    const readiness: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        readiness.push(await server.readyStatus(), await client.readyStatus());
        await sleep(200);
      }
    })();

    // From before the renewal is due until 1 s after both proxies have had theirs refused.
    const load = await runLoad(client.upstreamAddress().port, heldFor(renewalsRefused, 1_000), 16_000);
    polling = false;
    await poller;

    expect(load.failures).toEqual([]);
    expect(renewalsRefused()).toBe(true);
    expect(Date.now()).toBeLessThan(Math.min(first.server.notAfter, first.client.notAfter)); // still valid
    expect(readiness.length).toBeGreaterThan(10);
    expect(readiness.filter((status) => status !== 200)).toEqual([]);
    expect(app.requests.length).toBe(load.sent);
    for (const proxy of [server, client]) {
      expect(proxy.credentials()).toBe(proxy === server ? first.server : first.client);
      expect(metricSum(await proxy.metrics(), 'identity_cert_refresh_count')).toBe(1);
      expect(metricSum(await proxy.metrics(), 'identity_cert_expiration_timestamp_seconds')).toBe(proxy.credentials().notAfter / 1_000);
    }
  }, 30_000);
});
