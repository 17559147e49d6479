import { InMemoryDiscoverEndpoints, InMemoryTokenValidator, memoryModule } from '@weft/adapter-memory';
import { prometheusModule } from '@weft/adapter-prometheus';
import { SystemClock, systemModule } from '@weft/adapter-system';
import { type CaMaterial, createIssuer, createTrustAnchor, verifyWorkloadLeaf, X509CertificateAuthority } from '@weft/adapter-x509';
import { IdentityIssuer, ProxyMetrics, type SocketAddress, WorkloadCertifier, type WorkloadIdentity } from '@weft/core';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readProxyConfig } from '../proxy-config.js';
import { createProxyContainer } from '../proxy-container.js';
import { type RunningProxy, startProxy } from '../proxy-runtime.js';

const anyPort: SocketAddress = { ip: '127.0.0.1', port: 0 };
const web: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'web' };
const WEB_NAME = 'web.shop.serviceaccount.identity.weft.cluster.local';

/** A certifier that holds every request until the test opens it, as a control plane that is still starting. */
class GatedCertifier implements WorkloadCertifier {
  private open: () => void = () => undefined;
  private readonly opened = new Promise<void>((resolve) => (this.open = resolve));
  requests = 0;

  constructor(private readonly inner: WorkloadCertifier) {}

  release(): void {
    this.open();
  }

  async certify(request: Parameters<WorkloadCertifier['certify']>[0]): ReturnType<WorkloadCertifier['certify']> {
    this.requests += 1;
    await this.opened;
    return this.inner.certify(request);
  }
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; tries < 200; tries += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the proxy with an identity (in-process certifier, real X.509)', () => {
  let dir = '';
  let anchor: CaMaterial;
  let issuer: CaMaterial;
  let anchorsFile = '';
  let proxy: RunningProxy | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-proxy-identity-'));
    anchor = await createTrustAnchor({ trustDomain: 'cluster.local', now: Date.now() });
    issuer = await createIssuer({ anchor, now: Date.now() });
    anchorsFile = join(dir, 'trust-anchors.pem');
    await writeFile(anchorsFile, anchor.certificatePem);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await proxy?.stop();
    proxy = undefined;
  });

  /** Starts the proxy with a certifier over a real X.509 CA; the memory token of `web` goes to `tokenFile` if given. */
  async function start(env: Record<string, string>, tokenFile?: string): Promise<{ running: RunningProxy; gate: GatedCertifier }> {
    const config = { ...readProxyConfig(env), outboundAddr: anyPort, inboundAddr: anyPort, tapAddr: anyPort, adminAddr: anyPort };
    const container = createProxyContainer([systemModule(), memoryModule({ omit: [ProxyMetrics] }), prometheusModule({ version: 'test' })]);
    const authority = new X509CertificateAuthority(new SystemClock(), { trustAnchorsPem: anchor.certificatePem });
    const loaded = await authority.loadIssuer(issuer);
    if (!loaded.ok) throw loaded.error;
    const tokens = container.get(InMemoryTokenValidator);
    if (tokenFile !== undefined) await writeFile(tokenFile, tokens.issue(web));
    const gate = new GatedCertifier(new IdentityIssuer(tokens, authority, { trustDomain: 'cluster.local' }));
    container.bind<WorkloadCertifier>(WorkloadCertifier).toConstantValue(gate);
    const running = await startProxy({ config, container, log: () => undefined, staticDiscovery: container.get(InMemoryDiscoverEndpoints) });
    return { running, gate };
  }

  it('answers /ready 503 until it holds a certificate, then 200, and exports the certificate metrics', async () => {
    const tokenFile = join(dir, 'token');
    const env = {
      WEFT_PROXY_IDENTITY_NAMESPACE: 'shop',
      WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT: 'web',
      WEFT_PROXY_IDENTITY_TOKEN_FILE: tokenFile,
      WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE: anchorsFile,
    };
    const { running, gate } = await start(env, tokenFile);
    proxy = running;
    const admin = `http://127.0.0.1:${running.admin.address.port}`;

    await waitFor(async () => gate.requests > 0, 'the first certify request');
    const before = await fetch(`${admin}/ready`);
    expect(before.status).toBe(503);
    expect(running.identity?.current()).toBeUndefined();

    gate.release();
    await waitFor(async () => (await fetch(`${admin}/ready`)).status === 200, '/ready 200');

    const credentials = running.identity?.current();
    expect(credentials?.identityName).toBe(WEB_NAME);
    const verified = verifyWorkloadLeaf(credentials?.certificateChainPem ?? '', anchor.certificatePem, { identityName: WEB_NAME }, Date.now());
    expect(verified.ok).toBe(true);
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    expect(metrics).toMatch(/^identity_cert_refresh_count(\{[^}]*\})? 1$/m);
    const expiry = Number(/^identity_cert_expiration_timestamp_seconds(?:\{[^}]*\})? (\S+)$/m.exec(metrics)?.[1]);
    expect(expiry).toBe((credentials?.notAfter ?? 0) / 1000);
  });

  it('is ready at once without an identity, as before', async () => {
    const { running } = await start({});
    proxy = running;
    expect(running.identity).toBeUndefined();
    expect((await fetch(`http://127.0.0.1:${running.admin.address.port}/ready`)).status).toBe(200);
  });

  it('refuses to start with a trust anchors file that is not one, naming the variable', async () => {
    const leafFile = join(dir, 'not-anchors.pem');
    await writeFile(leafFile, issuer.privateKeyPem);
    const env = {
      WEFT_PROXY_IDENTITY_NAME: WEB_NAME,
      WEFT_PROXY_IDENTITY_TOKEN: 'anything',
      WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE: leafFile,
    };
    await expect(start(env)).rejects.toThrow(/^WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE=".*not-anchors\.pem": the trust anchors file block 1 is a PRIVATE KEY/);
  });
});
