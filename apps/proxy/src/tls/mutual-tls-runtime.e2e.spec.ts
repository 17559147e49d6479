import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryDiscoverEndpoints, InMemoryTokenValidator, memoryModule } from '@weft/adapter-memory';
import { prometheusModule } from '@weft/adapter-prometheus';
import { SystemClock, systemModule } from '@weft/adapter-system';
import { type CaMaterial, createIssuer, createTrustAnchor, X509CertificateAuthority } from '@weft/adapter-x509';
import {
  IdentityIssuer,
  makeEndpoint,
  parseAuthority,
  ProxyMetrics,
  type SocketAddress,
  unwrap,
  WorkloadCertifier,
  type WorkloadIdentity,
} from '@weft/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readProxyConfig } from '../proxy-config.js';
import { createProxyContainer } from '../proxy-container.js';
import { type RunningProxy, startProxy } from '../proxy-runtime.js';
import { LoopbackPeers, patternBytes, transcriptOf } from '../transport/loopback-peers.spec-helper.js';

const anyPort: SocketAddress = { ip: '127.0.0.1', port: 0 };
const books = unwrap(parseAuthority('books.shop.svc.cluster.local:7000'));
const workload = (serviceAccount: string): WorkloadIdentity => ({ trustDomain: 'cluster.local', namespace: 'shop', serviceAccount });
const WEB = 'web.shop.serviceaccount.identity.weft.cluster.local';
const CLIENT = 'client.shop.serviceaccount.identity.weft.cluster.local';

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; tries < 200; tries += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('two proxies with identities: mTLS through startProxy', () => {
  const peers = new LoopbackPeers();
  const running: RunningProxy[] = [];
  let dir = '';
  let anchor: CaMaterial;
  let authority: X509CertificateAuthority;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-mtls-runtime-'));
    anchor = await createTrustAnchor({ trustDomain: 'cluster.local', now: Date.now() });
    const issuer = await createIssuer({ anchor, now: Date.now() });
    await writeFile(join(dir, 'anchors.pem'), anchor.certificatePem);
    authority = new X509CertificateAuthority(new SystemClock(), { trustAnchorsPem: anchor.certificatePem });
    const loaded = await authority.loadIssuer(issuer);
    if (!loaded.ok) throw loaded.error;
  }, 30_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));
  afterEach(async () => {
    for (const proxy of running.splice(0)) await proxy.stop();
    await peers.closeAll();
  });

  /** A proxy for `serviceAccount`, certified in-process by the test CA, ready (it holds its certificate). */
  async function proxyFor(serviceAccount: string, settings: { appAddr?: SocketAddress; upstream?: boolean } = {}) {
    const tokenFile = join(dir, `${serviceAccount}.token`);
    const env = {
      WEFT_PROXY_IDENTITY_NAMESPACE: 'shop',
      WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT: serviceAccount,
      WEFT_PROXY_IDENTITY_TOKEN_FILE: tokenFile,
      WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE: join(dir, 'anchors.pem'),
    };
    const config = {
      ...readProxyConfig(env),
      outboundAddr: anyPort,
      inboundAddr: anyPort,
      tapAddr: anyPort,
      adminAddr: anyPort,
      ...(settings.appAddr ? { inboundAppAddr: settings.appAddr } : {}),
      upstreams: settings.upstream ? [{ name: 'books', authority: books, listenAddr: anyPort }] : [],
    };
    const container = createProxyContainer([systemModule(), memoryModule({ omit: [ProxyMetrics] }), prometheusModule({ version: 'test' })]);
    const tokens = container.get(InMemoryTokenValidator);
    await writeFile(tokenFile, tokens.issue(workload(serviceAccount)));
    container.bind<WorkloadCertifier>(WorkloadCertifier).toConstantValue(new IdentityIssuer(tokens, authority, { trustDomain: 'cluster.local' }));
    const discovery = container.get(InMemoryDiscoverEndpoints);
    const proxy = await startProxy({ config, container, log: () => undefined, staticDiscovery: discovery });
    running.push(proxy);
    const admin = `http://127.0.0.1:${proxy.admin.address.port}`;
    await waitFor(async () => (await fetch(`${admin}/ready`)).status === 200, `${serviceAccount} ready`);
    return { proxy, discovery, metrics: async () => (await fetch(`${admin}/metrics`)).text() };
  }

  it('carries an opaque session from one app to the other over mTLS, labelled with both identities', async () => {
    const app = await peers.echoServer();
    const server = await proxyFor('web', { appAddr: app });
    const client = await proxyFor('client', { upstream: true });
    const endpoint = unwrap(makeEndpoint({ address: app, tlsIdentity: WEB, proxyInboundPort: server.proxy.inbound.address.port }));
    client.discovery.setEndpoints(books, [endpoint]);

    const listener = client.proxy.upstreams.get('books');
    if (listener === undefined) throw new Error('no upstream listener');
    const socket = await peers.connect(listener.address);
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
    const server = await proxyFor('web', { appAddr: app });
    const address = server.proxy.inbound.address;
    const output = await new Promise<string>((resolve) => {
      const child = execFile(
        'openssl',
        ['s_client', '-connect', `127.0.0.1:${address.port}`, '-servername', WEB, '-alpn', 'transport.weft.io/v1', '-CAfile', join(dir, 'anchors.pem'), '-ign_eof'],
        { timeout: 8_000, encoding: 'utf8' },
        (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
      );
      child.stdin?.end('anything');
    });

    expect(output).toMatch(/Verify return code: 0/); // the server's chain is the mesh's
    expect(output).toMatch(/alert certificate required/);
  });
});
