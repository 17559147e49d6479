import { execFile } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LoopbackPeers, patternBytes, transcriptOf } from '../transport/loopback-peers.spec-helper.js';
import { meshIdentityOf, TwoProxyMesh, waitFor } from './two-proxy-mesh.spec-helper.js';

const WEB = meshIdentityOf('web');
const CLIENT = meshIdentityOf('client');

describe('two proxies with identities: mTLS through startProxy', () => {
  const peers = new LoopbackPeers();
  let mesh: TwoProxyMesh;

  beforeAll(async () => {
    mesh = await TwoProxyMesh.create();
  }, 30_000);
  afterAll(() => mesh.remove());
  afterEach(async () => {
    await mesh.stopProxies();
    await peers.closeAll();
  });

  it('carries an opaque session from one app to the other over mTLS, labelled with both identities', async () => {
    const app = await peers.echoServer();
    const server = await mesh.proxyFor('web', { appAddr: app });
    const client = await mesh.proxyFor('client', { upstream: true });
    mesh.route(client, server, app);

    const socket = await peers.connect(client.upstreamAddress());
    const sent = patternBytes(512 * 1024);
    const transcript = transcriptOf(socket);
    socket.end(sent);
    const received = await transcript;

    expect(received.errorCode).toBeUndefined();
    expect(received.bytes.equals(sent)).toBe(true);
    await waitFor(async () => /tcp_close_total\{[^}]*client_id="/.test(await server.metrics()), 'the inbound close');
    const serverMetrics = await server.metrics();
    expect(serverMetrics).toMatch(new RegExp(`tcp_open_total\\{[^}]*direction="inbound"[^}]*tls="true"[^}]*client_id="${CLIENT}"`));
  });

  it('refuses openssl s_client without a client certificate on the inbound port', async () => {
    const app = await peers.echoServer();
    const server = await mesh.proxyFor('web', { appAddr: app });
    const address = server.proxy.inbound.address;
    const output = await new Promise<string>((resolve) => {
      const child = execFile(
        'openssl',
        ['s_client', '-connect', `127.0.0.1:${address.port}`, '-servername', WEB, '-alpn', 'transport.weft.io/v1', '-CAfile', mesh.anchorsFile, '-ign_eof'],
        { timeout: 8_000, encoding: 'utf8' },
        (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
      );
      child.stdin?.end('anything');
    });

    expect(output).toMatch(/Verify return code: 0/); // the server's chain is the mesh's
    expect(output).toMatch(/alert certificate required/);
  });
});
