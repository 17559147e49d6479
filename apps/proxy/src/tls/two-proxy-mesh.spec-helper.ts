// TwoProxyMesh: whole proxies (startProxy) on loopback, each certified in process by one real X.509 CA through its identity lifecycle.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryDiscoverEndpoints, InMemoryTokenValidator, memoryModule } from '@weft/adapter-memory';
import { prometheusModule } from '@weft/adapter-prometheus';
import { SystemClock, systemModule } from '@weft/adapter-system';
import { type CaMaterial, createIssuer, createTrustAnchor, createWorkloadCsr, X509CertificateAuthority } from '@weft/adapter-x509';
import {
  CertifyRefusal,
  type CertifyWorkloadRefusal,
  type CertifyWorkloadRequest,
  type Endpoint,
  err,
  IdentityIssuer,
  identityName,
  type IssuedCertificate,
  makeEndpoint,
  parseAuthority,
  ProxyMetrics,
  type Result,
  type SocketAddress,
  unwrap,
  WorkloadCertifier,
  type WorkloadIdentity,
} from '@weft/core';
import type { ProxyCredentials } from '../identity/proxy-credentials.js';
import { readProxyConfig } from '../proxy-config.js';
import { createProxyContainer } from '../proxy-container.js';
import { type RunningProxy, startProxy } from '../proxy-runtime.js';

export const MESH_TRUST_DOMAIN = 'cluster.local';

/** The service the client proxies' `books` upstream listener reaches. */
export const BOOKS = unwrap(parseAuthority('books.shop.svc.cluster.local:7000'));

const anyPort: SocketAddress = { ip: '127.0.0.1', port: 0 };
const DAY_MS = 24 * 60 * 60 * 1_000;

/** The workload of service account `serviceAccount` in namespace `shop`. */
export function meshWorkload(serviceAccount: string): WorkloadIdentity {
  return { trustDomain: MESH_TRUST_DOMAIN, namespace: 'shop', serviceAccount };
}

/** Its DNS-like identity name, e.g. `web.shop.serviceaccount.identity.weft.cluster.local`. */
export function meshIdentityOf(serviceAccount: string): string {
  return identityName(meshWorkload(serviceAccount));
}

/** The WorkloadCertifier of one proxy: the mesh CA, which the test can take away (it then answers 'unreachable'). */
export class SwitchableCertifier implements WorkloadCertifier {
  away = false;
  /** Certify requests answered by the CA, and refused because it was away. */
  issued = 0;
  refused = 0;

  constructor(private readonly inner: WorkloadCertifier) {}

  async certify(request: CertifyWorkloadRequest): Promise<Result<IssuedCertificate, CertifyWorkloadRefusal>> {
    if (this.away) {
      this.refused += 1;
      return err(new CertifyRefusal('unreachable', 'the control plane cannot be reached (the test took it away)'));
    }
    const issued = await this.inner.certify(request);
    if (issued.ok) this.issued += 1;
    return issued;
  }
}

/** One running proxy of the mesh, ready: it holds its first certificate. */
export interface MeshProxy {
  readonly proxy: RunningProxy;
  readonly discovery: InMemoryDiscoverEndpoints;
  readonly certifier: SwitchableCertifier;
  /** Its identity name (its SNI on inbound, its `client_id` / `server_id` at its peers). */
  readonly identityName: string;
  /** Its current credentials, as its identity lifecycle holds them now. */
  credentials(): ProxyCredentials;
  /** The `books` upstream listener's address (a proxy started with `upstream: true`). */
  upstreamAddress(): SocketAddress;
  /** The body of its admin /metrics. */
  metrics(): Promise<string>;
  /** The status of its admin /ready. */
  readyStatus(): Promise<number>;
}

export interface MeshProxySettings {
  /** The local app behind its inbound listener. */
  readonly appAddr?: SocketAddress;
  /** Gives it a `books` upstream listener (local mode), as a client proxy has. */
  readonly upstream?: boolean;
  /** A transparent sidecar (WEFT_PROXY_TRANSPARENT): mesh sessions go to the app port their header names. */
  readonly transparent?: boolean;
}

export interface TwoProxyMeshOptions {
  /** The lifetime of the leaves the CA issues; 24 h by default. */
  readonly leafLifetimeMs?: number;
}

/**
 * A trust anchor, an issuer and an X509CertificateAuthority, and the proxies started on them. The anchor and issuer
 * are valid from a day ago, so that leaves can also be issued as of the past (expired ones).
 */
export class TwoProxyMesh {
  private readonly running: RunningProxy[] = [];

  private constructor(
    readonly dir: string,
    readonly anchor: CaMaterial,
    readonly issuer: CaMaterial,
    readonly authority: X509CertificateAuthority,
    /** The trust anchors file every proxy reads (WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE). */
    readonly anchorsFile: string,
  ) {}

  static async create(options: TwoProxyMeshOptions = {}): Promise<TwoProxyMesh> {
    const dir = await mkdtemp(join(tmpdir(), 'weft-two-proxy-mesh-'));
    const since = Date.now() - DAY_MS;
    const anchor = await createTrustAnchor({ trustDomain: MESH_TRUST_DOMAIN, now: since });
    const issuer = await createIssuer({ anchor, now: since });
    const anchorsFile = join(dir, 'anchors.pem');
    await writeFile(anchorsFile, anchor.certificatePem);
    const lifetime = options.leafLifetimeMs === undefined ? {} : { leafLifetimeMs: options.leafLifetimeMs };
    const authority = new X509CertificateAuthority(new SystemClock(), { trustAnchorsPem: anchor.certificatePem, ...lifetime });
    const loaded = await authority.loadIssuer(issuer);
    if (!loaded.ok) throw loaded.error;
    return new TwoProxyMesh(dir, anchor, issuer, authority, anchorsFile);
  }

  /** A proxy for `serviceAccount` (namespace `shop`), certified by the mesh CA through its identity lifecycle; resolves once /ready is 200. */
  async proxyFor(serviceAccount: string, settings: MeshProxySettings = {}): Promise<MeshProxy> {
    const tokenFile = join(this.dir, `${serviceAccount}.token`);
    const env = {
      WEFT_PROXY_IDENTITY_NAMESPACE: 'shop',
      WEFT_PROXY_IDENTITY_SERVICE_ACCOUNT: serviceAccount,
      WEFT_PROXY_IDENTITY_TOKEN_FILE: tokenFile,
      WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE: this.anchorsFile,
    };
    const config = {
      ...readProxyConfig(env),
      outboundAddr: anyPort,
      inboundAddr: anyPort,
      tapAddr: anyPort,
      adminAddr: anyPort,
      ...(settings.appAddr ? { inboundAppAddr: settings.appAddr } : {}),
      ...(settings.transparent === true && { transparent: true }),
      upstreams: settings.upstream ? [{ name: 'books', authority: BOOKS, listenAddr: anyPort }] : [],
    };
    const container = createProxyContainer([systemModule(), memoryModule({ omit: [ProxyMetrics] }), prometheusModule({ version: 'test' })]);
    const tokens = container.get(InMemoryTokenValidator);
    await writeFile(tokenFile, tokens.issue(meshWorkload(serviceAccount)));
    const certifier = new SwitchableCertifier(new IdentityIssuer(tokens, this.authority, { trustDomain: MESH_TRUST_DOMAIN }));
    container.bind<WorkloadCertifier>(WorkloadCertifier).toConstantValue(certifier);
    const discovery = container.get(InMemoryDiscoverEndpoints);
    const proxy = await startProxy({ config, container, log: () => undefined, staticDiscovery: discovery });
    this.running.push(proxy);
    const admin = `http://127.0.0.1:${proxy.admin.address.port}`;
    const readyStatus = async () => (await fetch(`${admin}/ready`)).status;
    await waitFor(async () => (await readyStatus()) === 200, `${serviceAccount} ready`);
    return {
      proxy,
      discovery,
      certifier,
      identityName: meshIdentityOf(serviceAccount),
      credentials: () => {
        const credentials = proxy.identity?.current();
        if (credentials === undefined) throw new Error(`${serviceAccount} has no certificate`);
        return credentials;
      },
      upstreamAddress: () => {
        const listener = proxy.upstreams.get('books');
        if (listener === undefined) throw new Error(`${serviceAccount} has no books upstream listener`);
        return listener.address;
      },
      metrics: async () => (await fetch(`${admin}/metrics`)).text(),
      readyStatus,
    };
  }

  /** Makes `client`'s `books` resolve to `app` behind `server`, as discovery names a meshed endpoint. */
  route(client: MeshProxy, server: MeshProxy, app: SocketAddress): void {
    client.discovery.setEndpoints(BOOKS, [meshEndpointOf(server, app)]);
  }

  /**
   * Credentials of `serviceAccount` with a leaf this mesh's issuer signs as if it were `issuedAt` (epoch ms), lasting
   * `lifetimeMs`: with a past `issuedAt`, an expired leaf.
   */
  leafIssuedAt(serviceAccount: string, issuedAt: number, lifetimeMs: number): Promise<ProxyCredentials> {
    return mintCredentials(this.anchor, this.issuer, serviceAccount, { issuedAt, lifetimeMs, trustAnchorsPem: this.anchor.certificatePem });
  }

  /**
   * Credentials of `serviceAccount` from another mesh's CA (same trust domain, another anchor), trusting this mesh's
   * anchor: a client with them verifies this mesh's servers, but they must refuse it.
   */
  async foreignLeaf(serviceAccount: string): Promise<ProxyCredentials> {
    const anchor = await createTrustAnchor({ trustDomain: MESH_TRUST_DOMAIN, now: Date.now() });
    const issuer = await createIssuer({ anchor, now: Date.now() });
    return mintCredentials(anchor, issuer, serviceAccount, { issuedAt: Date.now(), lifetimeMs: DAY_MS, trustAnchorsPem: this.anchor.certificatePem });
  }

  /** Stops every proxy started so far. */
  async stopProxies(): Promise<void> {
    for (const proxy of this.running.splice(0)) await proxy.stop();
  }

  /** Stops the proxies and removes the mesh's files. */
  async remove(): Promise<void> {
    await this.stopProxies();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The endpoint discovery gives for `app` behind `server`: its TLS identity and its proxy's inbound port. */
export function meshEndpointOf(server: MeshProxy, app: SocketAddress): Endpoint & { readonly tlsIdentity: string } {
  const endpoint = unwrap(makeEndpoint({ address: app, tlsIdentity: server.identityName, proxyInboundPort: server.proxy.inbound.address.port }));
  return { ...endpoint, tlsIdentity: server.identityName };
}

/** Polls `check` every 25 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The sum of the samples of `name` in a Prometheus text scrape whose labels include `labels`; 0 when none. */
export function metricSum(scrape: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const line of scrape.split('\n')) {
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (sample?.[1] !== name) continue;
    const found = new Map([...(sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1], pair[2]]));
    if (Object.entries(labels).every(([label, value]) => found.get(label) === value)) sum += Number(sample[3]);
  }
  return sum;
}

interface LeafTerms {
  readonly issuedAt: number;
  readonly lifetimeMs: number;
  readonly trustAnchorsPem: string;
}

async function mintCredentials(anchor: CaMaterial, issuer: CaMaterial, serviceAccount: string, terms: LeafTerms): Promise<ProxyCredentials> {
  const authority = new X509CertificateAuthority({ now: () => terms.issuedAt }, { trustAnchorsPem: anchor.certificatePem, leafLifetimeMs: terms.lifetimeMs });
  const loaded = await authority.loadIssuer(issuer);
  if (!loaded.ok) throw loaded.error;
  const identity = meshWorkload(serviceAccount);
  const { csrDer, privateKeyPem } = await createWorkloadCsr(identity);
  const issued = await authority.certify({ csr: csrDer, identity });
  if (!issued.ok) throw issued.error;
  const chain = [issued.value.leafPem, ...issued.value.chainPem].map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`));
  return {
    identityName: identityName(identity),
    privateKeyPem,
    certificateChainPem: chain.join(''),
    trustAnchorsPem: terms.trustAnchorsPem,
    notAfter: issued.value.notAfter,
  };
}
