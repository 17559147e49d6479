import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { connect as connectTls, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { connect as connectTcp, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SocketAddress } from '@weft/core';
import { LoopbackPeers, patternBytes, transcriptOf } from '../transport/loopback-peers.spec-helper.js';
import type { TransportEvent } from '../transport/transport-log.js';
import { BAD_LEAF_FAULTS, type LeafFault, MeshCertificates, meshIdentityName } from './mesh-certificates.spec-helper.js';
import { MESH_CONNECT_ERRORS } from './mesh-tls-client.js';
import {
  closedWith,
  headerFrame,
  meshClient,
  meshEndpoint,
  type MeshServer,
  MutableCredentials,
  rawMeshTls,
  startMeshServer,
} from './mesh-tls.spec-helper.js';

const WEB = meshIdentityName('web');
const CLIENT = meshIdentityName('client');

/** Runs openssl s_client against `address` with `args`, feeding it `input`; resolves with its exit code and output. */
function sClient(address: SocketAddress, args: readonly string[], input: Buffer): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      'openssl',
      ['s_client', '-connect', `${address.ip}:${address.port}`, '-ign_eof', ...args],
      { timeout: 8_000, encoding: 'utf8' },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
    child.stdin?.end(input);
  });
}

describe('mesh mTLS between two proxies', () => {
  const peers = new LoopbackPeers();
  let certs: MeshCertificates;
  let app: SocketAddress;
  /** What the app received on each connection. */
  let appReceived: Buffer[];

  beforeAll(async () => {
    certs = await MeshCertificates.mint();
  }, 60_000);
  afterAll(() => certs.remove());
  afterEach(() => peers.closeAll());

  async function echoApp(): Promise<SocketAddress> {
    appReceived = [];
    return peers.server((socket) => {
      const chunks: Buffer[] = [];
      const index = appReceived.push(Buffer.alloc(0)) - 1;
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        appReceived[index] = Buffer.concat(chunks);
      });
      socket.pipe(socket);
    });
  }

  async function webServer(fault: LeafFault = 'good', handshakeTimeoutMs?: number): Promise<MeshServer> {
    app = await echoApp();
    const credentials = new MutableCredentials(await certs.credentials('web', fault));
    return startMeshServer(peers, credentials, app, handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs });
  }

  /** An opaque session from the `client` workload through `server` to the app, echoed back. */
  async function echoThrough(server: MeshServer, payload: Buffer, credentials?: MutableCredentials): Promise<Buffer> {
    const client = meshClient(credentials ?? new MutableCredentials(await certs.credentials('client')));
    const socket = await client.connect(meshEndpoint('web', app.port, server.address.port), 'opaque', { timeoutMs: 2_000 });
    peers.track(socket);
    const transcript = transcriptOf(socket);
    socket.end(payload);
    const received = await transcript;
    expect(received.errorCode).toBeUndefined();
    return received.bytes;
  }

  /** The server still serves a good client: used after each refusal. */
  async function stillServes(server: MeshServer): Promise<void> {
    const payload = patternBytes(4_096, 3);
    expect((await echoThrough(server, payload)).equals(payload)).toBe(true);
  }

  it('completes the handshake both ways, names each identity, and delivers the header before the session', async () => {
    const server = await webServer();
    const payload = patternBytes(256 * 1024);
    const echoed = await echoThrough(server, payload);

    expect(echoed.equals(payload)).toBe(true);
    // The app got the session's bytes only: the header was taken off by the server proxy.
    expect(appReceived[0]?.equals(payload)).toBe(true);
    const [session] = server.served;
    expect(session?.peer).toEqual({ tls: { tls: 'true', peerIdentity: CLIENT }, remoteIp: '127.0.0.1', targetPort: app.port });
    expect((session?.socket as TLSSocket).servername).toBe(WEB);
    expect(session?.tlsVersion).toBe('TLSv1.3');
    expect(server.metrics.value('tcp_open_total', { direction: 'inbound', tls: 'true', client_id: CLIENT })).toBe(1);
    await vi.waitFor(() => expect(server.metrics.value('tcp_close_total', { tls: 'true', client_id: CLIENT, classification: 'success' })).toBe(1));
  });

  it('names the server identity on the client side and sends the endpoint port in the header', async () => {
    const server = await webServer();
    const client = meshClient(new MutableCredentials(await certs.credentials('client')));
    const endpoint = meshEndpoint('web', app.port, server.address.port);
    const socket = peers.track(await client.connect(endpoint, 'opaque', { timeoutMs: 2_000 })) as TLSSocket;

    expect(client.tlsStatusOf(endpoint)).toEqual({ tls: 'true', peerIdentity: WEB });
    expect(socket.getPeerX509Certificate()?.subjectAltName).toContain(`DNS:${WEB}`);
    expect(socket.getProtocol()).toBe('TLSv1.3');
    socket.destroy();
  });

  it('refuses openssl s_client without a client certificate, counts it, and keeps serving', async () => {
    const server = await webServer();
    const result = await sClient(server.address, ['-servername', WEB, '-alpn', 'transport.weft.io/v1', '-CAfile', certs.anchorFile], headerFrame(app.port));

    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/alert certificate required/);
    expect(appReceived).toEqual([]);
    expect(server.terminator.refusalCounts().handshake).toBe(1);
    expect(server.events.some((event) => event.event === 'mesh_tls_refused' && event.errno === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE')).toBe(true);
    await stillServes(server);
  });

  it('refuses openssl s_client offering TLS 1.2, even with a good certificate', async () => {
    const server = await webServer();
    const leaf = await certs.leaf('client');
    const result = await sClient(
      server.address,
      ['-tls1_2', '-servername', WEB, '-alpn', 'transport.weft.io/v1', '-CAfile', certs.anchorFile, '-cert', leaf.chainFile, '-cert_chain', certs.issuerFile, '-key', leaf.keyFile],
      headerFrame(app.port),
    );

    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/alert protocol version/);
    expect(appReceived).toEqual([]);
    expect(server.terminator.refusalCounts().handshake).toBe(1);
    await stillServes(server);
  });

  it('serves openssl s_client with a good client certificate, as an independent client', async () => {
    app = await peers.server((socket) => socket.once('data', (chunk: Buffer) => socket.end(`app got: ${chunk.toString()}`)));
    const server = await startMeshServer(peers, new MutableCredentials(await certs.credentials('web')), app);
    const leaf = await certs.leaf('client');
    const result = await sClient(
      server.address,
      ['-servername', WEB, '-alpn', 'transport.weft.io/v1', '-CAfile', certs.anchorFile, '-cert', leaf.chainFile, '-cert_chain', certs.issuerFile, '-key', leaf.keyFile],
      Buffer.concat([headerFrame(app.port), Buffer.from('ping over mTLS\n')]),
    );

    expect(result.output).toMatch(/Verify return code: 0/);
    expect(result.output).toContain('app got: ping over mTLS');
    expect(server.served[0]?.peer?.tls).toEqual({ tls: 'true', peerIdentity: CLIENT });
  });

  it('accepts a client whose leaf comes from another issuer under the same anchor (an issuer rotation)', async () => {
    const server = await webServer();
    const payload = Buffer.from('from a client renewed by the new issuer');
    const echoed = await echoThrough(server, payload, new MutableCredentials(await certs.credentials('client', 'second-issuer')));

    expect(echoed.equals(payload)).toBe(true);
    expect(server.served[0]?.peer?.tls).toEqual({ tls: 'true', peerIdentity: CLIENT });
  });

  it('names a plaintext client no_identity on its socket and in its labels, and forwards it as before', async () => {
    const server = await webServer();
    const socket = await peers.connect(server.address);
    const transcript = transcriptOf(socket);
    socket.end('plain bytes');

    expect((await transcript).bytes.toString()).toBe('plain bytes');
    expect(server.served[0]?.peer).toEqual({ tls: { tls: 'no_identity', reason: 'loopback' }, remoteIp: '127.0.0.1', targetPort: app.port });
    expect(server.metrics.value('tcp_open_total', { direction: 'inbound', tls: 'no_identity', no_tls_reason: 'loopback' })).toBe(1);
  });

  /** How each bad leaf is caught: by the handshake (Node's chain checks) or by the SPIFFE leaf rules after it. */
  const CAUGHT_BY: Readonly<Record<string, { readonly server: 'handshake' | 'peer-certificate'; readonly client: RegExp }>> = {
    expired: { server: 'handshake', client: /^CERT_HAS_EXPIRED$/ },
    'not-yet-valid': { server: 'handshake', client: /^CERT_NOT_YET_VALID$/ },
    'foreign-ca': { server: 'handshake', client: /^UNABLE_TO_VERIFY_LEAF_SIGNATURE$/ },
    'ca-as-leaf': { server: 'peer-certificate', client: /^WEFT_PEER_CERTIFICATE_REFUSED \(ca-certificate\)$/ },
    'two-uri-sans': { server: 'peer-certificate', client: /^WEFT_PEER_CERTIFICATE_REFUSED \(uri-san\)$/ },
    'rsa-key': { server: 'peer-certificate', client: /^WEFT_PEER_CERTIFICATE_REFUSED \(unsupported-key\)$/ },
  };

  describe.each(BAD_LEAF_FAULTS)('a %s certificate', (fault) => {
    it('presented by the client is refused by the server, which forwards nothing', async () => {
      const server = await webServer();
      const client = meshClient(new MutableCredentials(await certs.credentials('client', fault)));
      const endpoint = meshEndpoint('web', app.port, server.address.port);
      // With TLS 1.3 the client may finish its side before the server has judged its certificate: either way the
      // connection ends without a byte coming back.
      const outcome = await client.connect(endpoint, 'opaque', { timeoutMs: 2_000 }).then(
        async (socket) => {
          peers.track(socket);
          socket.write('must not reach the app');
          return closedWith(socket);
        },
        (error: unknown) => ({ bytes: Buffer.alloc(0), errorCode: (error as { code?: string }).code }),
      );

      expect(outcome.bytes.length).toBe(0);
      expect(appReceived).toEqual([]);
      expect(server.served).toEqual([]);
      const refusals = server.terminator.refusalCounts();
      expect(refusals[CAUGHT_BY[fault]?.server ?? 'handshake']).toBe(1);
      expect(refusals.handshake + refusals['peer-certificate']).toBe(1);
      await stillServes(server);
    });

    it('presented by the server is refused by the client before any header is sent', async () => {
      const server = await webServer(fault);
      const events: TransportEvent[] = [];
      const client = meshClient(new MutableCredentials(await certs.credentials('client')), events);
      const error = await client
        .connect(meshEndpoint('web', app.port, server.address.port), 'opaque', { timeoutMs: 2_000 })
        .then(() => undefined, (failure: unknown) => failure as { code?: string; message?: string });

      const refusal = error?.message?.match(/\((ca-certificate|uri-san|unsupported-key)\)/)?.[0];
      expect(`${error?.code}${refusal === undefined ? '' : ` ${refusal}`}`).toMatch(CAUGHT_BY[fault]?.client ?? /never/);
      expect(events.some((event) => event.event === 'mesh_tls_connect_failed')).toBe(true);
      expect(appReceived).toEqual([]);
      expect(server.served).toEqual([]);
    });
  });

  it('refuses a server whose certificate names another identity than the one discovery gave', async () => {
    app = await echoApp();
    // The server answers for "other" but holds web's certificate.
    const webCredentials = await certs.credentials('web');
    const server = await startMeshServer(peers, new MutableCredentials({ ...webCredentials, identityName: meshIdentityName('other') }), app);
    const client = meshClient(new MutableCredentials(await certs.credentials('client')));
    const error = await client
      .connect(meshEndpoint('other', app.port, server.address.port), 'opaque', { timeoutMs: 2_000 })
      .then(() => undefined, (failure: unknown) => failure as { code?: string; message?: string });

    expect(error?.code).toBe('WEFT_PEER_CERTIFICATE_REFUSED');
    expect(error?.message).toMatch(/identity-mismatch/);
    expect(appReceived).toEqual([]);
  });

  it('refuses a server that does not select the transport ALPN, before sending the header', async () => {
    app = await echoApp();
    const web = await certs.leaf('web');
    let received = Buffer.alloc(0);
    const plainTls = createTlsServer({ key: web.privateKeyPem, cert: web.certificateChainPem, minVersion: 'TLSv1.3' }, (socket) =>
      socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk]))),
    );
    await new Promise<void>((resolve) => plainTls.listen(0, '127.0.0.1', resolve));
    peers.onClose(() => new Promise<void>((resolve) => plainTls.close(() => resolve())));
    const port = (plainTls.address() as { port: number }).port;
    const client = meshClient(new MutableCredentials(await certs.credentials('client')));
    const error = await client
      .connect(meshEndpoint('web', app.port, port), 'opaque', { timeoutMs: 2_000 })
      .then(() => undefined, (failure: unknown) => failure as { code?: string });

    expect(error?.code).toBe(MESH_CONNECT_ERRORS.noAlpn);
    await sleep(20);
    expect(received.length).toBe(0);
  });

  it.each([
    ['not a header at all', Buffer.from('GET / HTTP/1.1\r\nhost: web\r\n\r\n')],
    ['a header over 64 KiB', Buffer.concat([Buffer.from('weft.transport/v1\r\n\r\n'), Buffer.from([0, 2, 0, 0])])],
    ['a header naming port 0', Buffer.concat([Buffer.from('weft.transport/v1\r\n\r\n'), Buffer.from([0, 0, 0, 2, 0x18, 0x01])])],
  ])('closes a connection whose transport header is %s, forwarding nothing', async (_name, frame) => {
    const server = await webServer();
    const leaf = await certs.leaf('client');
    const socket = peers.track(
      await rawMeshTls(server.address, { servername: WEB, ca: certs.trustAnchorsPem, cert: leaf.certificateChainPem, key: leaf.privateKeyPem }),
    );
    const closed = closedWith(socket);
    socket.write(Buffer.concat([frame, Buffer.from('payload')]));
    const outcome = await closed;

    expect(outcome.bytes.length).toBe(0);
    expect(appReceived).toEqual([]);
    expect(server.terminator.refusalCounts()['transport-header']).toBe(1);
    expect(server.events.some((event) => event.event === 'mesh_tls_refused' && event.refusal === 'transport-header')).toBe(true);
    await stillServes(server);
  });

  it('passes TLS for another name through to the app unchanged', async () => {
    const appLeaf = await certs.leaf('other');
    const appTls = createTlsServer({ key: appLeaf.privateKeyPem, cert: appLeaf.certificateChainPem }, (socket) => socket.end('hello from the app'));
    await new Promise<void>((resolve) => appTls.listen(0, '127.0.0.1', resolve));
    peers.onClose(() => new Promise<void>((resolve) => appTls.close(() => resolve())));
    const appAddress = appTls.address();
    if (typeof appAddress !== 'object' || appAddress === null) throw new Error('no address');
    const server = await startMeshServer(peers, new MutableCredentials(await certs.credentials('web')), { ip: '127.0.0.1', port: appAddress.port });

    const socket = await rawMeshTls(server.address, { servername: 'app.example', ca: certs.trustAnchorsPem, checkServerIdentity: () => undefined });
    peers.track(socket);
    // The app's own certificate came back: the proxy neither terminated nor altered the TLS.
    expect(socket.getPeerX509Certificate()?.subjectAltName).toContain(meshIdentityName('other'));
    const outcome = await closedWith(socket);

    expect(outcome.bytes.toString()).toBe('hello from the app');
    expect(server.served[0]?.peer?.tls).toEqual({ tls: 'opaque' });
    expect(server.terminator.refusalCounts().handshake).toBe(0);
  });

  it('refuses a handshake that stalls after the ClientHello, within the handshake timeout', async () => {
    const server = await webServer('good', 300);
    const hello = await capturedClientHello();
    const socket = peers.track(connectTcp({ host: server.address.ip, port: server.address.port }));
    const closed = closedWith(socket);
    socket.write(hello);
    const outcome = await closed;

    expect(outcome.bytes.length).toBeGreaterThan(0); // the server's half of the handshake, then the close
    expect(server.terminator.refusalCounts().handshake).toBe(1);
    expect(server.events.some((event) => event.errno === 'ERR_TLS_HANDSHAKE_TIMEOUT')).toBe(true);
    await stillServes(server);
  });

  it('fails a mesh connection at once when this proxy has no certificate yet, without any plaintext fallback', async () => {
    const server = await webServer();
    const events: TransportEvent[] = [];
    const client = meshClient(new MutableCredentials(), events);
    const error = await client
      .connect(meshEndpoint('web', app.port, server.address.port), 'opaque', { timeoutMs: 2_000 })
      .then(() => undefined, (failure: unknown) => failure as { code?: string });

    expect(error?.code).toBe(MESH_CONNECT_ERRORS.noCertificate);
    expect(events).toContainEqual(expect.objectContaining({ event: 'mesh_tls_connect_failed', errno: MESH_CONNECT_ERRORS.noCertificate }));
    await sleep(20);
    expect(server.metrics.value('tcp_open_total')).toBeUndefined();
  });

  it('refuses mesh traffic that arrives before the server proxy has its certificate', async () => {
    app = await echoApp();
    const server = await startMeshServer(peers, new MutableCredentials(), app);
    const leaf = await certs.leaf('client');
    const outcome = await rawMeshTls(server.address, { servername: WEB, ca: certs.trustAnchorsPem, cert: leaf.certificateChainPem, key: leaf.privateKeyPem }).then(
      () => 'connected',
      (error: { code?: string }) => error.code,
    );

    expect(outcome).not.toBe('connected');
    expect(server.terminator.refusalCounts()['not-ready']).toBe(1);
    expect(appReceived).toEqual([]);
  });

  it('uses rotated credentials for new connections, on both sides', async () => {
    const server = await webServer();
    const clientCredentials = new MutableCredentials(await certs.credentials('client'));
    await echoThrough(server, Buffer.from('before'), clientCredentials);

    server.credentials.set(await certs.credentials('web', 'rotated'));
    clientCredentials.set(await certs.credentials('client', 'rotated'));
    const client = meshClient(clientCredentials);
    const socket = peers.track(await client.connect(meshEndpoint('web', app.port, server.address.port), 'opaque', { timeoutMs: 2_000 })) as TLSSocket;
    const serverCertificate = socket.getPeerX509Certificate()?.fingerprint256;
    socket.end('after');
    await closedWith(socket);

    const fingerprint = async (workload: 'web' | 'client', fault: 'good' | 'rotated') =>
      new X509Certificate((await certs.leaf(workload, fault)).certificateChainPem).fingerprint256;
    expect(serverCertificate).toBe(await fingerprint('web', 'rotated'));
    expect(server.served[0]?.clientCertificate).toBe(await fingerprint('client', 'good'));
    expect(server.served[1]?.clientCertificate).toBe(await fingerprint('client', 'rotated'));
  });
});

/** The bytes of a real mesh ClientHello (from a Node TLS client), for replaying without finishing the handshake. */
async function capturedClientHello(): Promise<Buffer> {
  const peers = new LoopbackPeers();
  try {
    let resolveHello: (hello: Buffer) => void = () => undefined;
    const hello = new Promise<Buffer>((resolve) => (resolveHello = resolve));
    const address = await peers.server((socket: Socket) => socket.once('data', (chunk: Buffer) => resolveHello(chunk)));
    const client = peers.track(connectTls({ host: address.ip, port: address.port, servername: WEB, ALPNProtocols: ['transport.weft.io/v1'] }));
    client.on('error', () => undefined);
    return await hello;
  } finally {
    await peers.closeAll();
  }
}
