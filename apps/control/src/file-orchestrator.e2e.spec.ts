import { readFileSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlChannel, GrpcDiscoverEndpoints, GrpcDiscoverInboundPolicy, GrpcIdentityClient } from '@weft/adapter-grpc';
import { credentials, type ServiceError, status } from '@grpc/grpc-js';
import { InMemoryTokenValidator, memoryCsrFor } from '@weft/adapter-memory';
import { SignedTokenIssuer } from '@weft/adapter-token';
import { createIssuer, createTrustAnchor, createWorkloadCsr, type CaMaterial } from '@weft/adapter-x509';
import { identity } from '@weft/contracts';
import {
  applyEndpointUpdate,
  type EndpointSet,
  type EndpointUpdate,
  identityName,
  type InboundServerPolicy,
  parseAuthority,
  TokenRefusal,
  unwrap,
  type WorkloadIdentity,
} from '@weft/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ControlArgs, parseControlArgs } from './control-args.js';
import { type RunningControlPlane, startControlPlane } from './control-plane.js';
import { MeshFileStartError } from './mesh-file-orchestrator.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/meshes/${name}`, import.meta.url), 'utf8');
const MINIMAL = fixture('minimal.yaml');
const BROKEN_SYNTAX = fixture('broken-syntax.yaml');

const SECOND = '      - address: 10.0.0.12:8080\n';
const THIRD = '      - address: 10.0.0.13:8080\n';
// minimal.yaml with a third instance of web.
const WITH_THIRD = MINIMAL.replace(SECOND, SECOND + THIRD);
const WITHOUT_SECOND = WITH_THIRD.replace(SECOND, '');
// A Server that takes port 8080 of web's instances and refuses everyone.
const DENY_WEB = `${WITH_THIRD}policies:\n  servers:\n    - { name: web-http, service: web, port: 8080, proxyProtocol: HTTP/1, accessPolicy: deny }\n`;

const web = unwrap(parseAuthority('web.default.svc.cluster.local:8080'));
const webIdentity: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'web' };
const web0 = { namespace: 'default', name: 'web-0' };

/** The issue's bound: an applied edit of the mesh file reaches a proxy's client within 2 s. */
const EDIT_BOUND_MS = 2_000;

type LogEntry = { readonly event: string; readonly fields: Record<string, unknown> };

/** A proxy's view: the gRPC clients on one channel, recording what their listeners get. */
class ProxyView {
  readonly channel: ControlChannel;
  readonly endpoints: GrpcDiscoverEndpoints;
  readonly policies: GrpcDiscoverInboundPolicy;
  readonly endpointUpdates: EndpointUpdate[] = [];
  readonly policyUpdates: InboundServerPolicy[] = [];
  /** The size of the endpoint set after each update. */
  readonly sizes: number[] = [];

  constructor(port: number) {
    this.channel = new ControlChannel({ address: `127.0.0.1:${port}`, backoff: { initialMs: 20, maxMs: 200, jitter: 0.5 } });
    this.endpoints = new GrpcDiscoverEndpoints(this.channel);
    this.policies = new GrpcDiscoverInboundPolicy(this.channel);
    this.endpoints.watch(web, (update) => {
      this.endpointUpdates.push(update);
      this.sizes.push(this.held().size);
    });
    this.policies.watch(web0, 8080, (policy) => this.policyUpdates.push(policy));
  }

  held(): EndpointSet {
    return this.endpointUpdates.reduce<EndpointSet>(applyEndpointUpdate, new Map());
  }

  addresses(): string[] {
    return [...this.held().keys()].sort();
  }

  close(): void {
    this.endpoints.close();
    this.policies.close();
    this.channel.close();
  }
}

/** The value of one sample of the scrape, or undefined when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1], pair[2]]));
    if (Object.keys(found).length === Object.keys(labels).length && Object.entries(labels).every(([key, value]) => found[key] === value)) {
      return Number(match[3]);
    }
  }
  return undefined;
}

async function scrape(control: RunningControlPlane): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${control.admin.address.port}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return response.text();
}

async function readyStatus(control: RunningControlPlane): Promise<[number, string]> {
  const response = await fetch(`http://127.0.0.1:${control.admin.address.port}/ready`);
  return [response.status, await response.text()];
}

describe('weft-control --orchestrator file, end to end with the proxy-side gRPC clients', () => {
  let anchor: CaMaterial;
  let issuer: CaMaterial;
  let dir = '';
  let meshFile = '';
  const logs: LogEntry[] = [];
  const log = (event: string, fields: Record<string, unknown> = {}): void => void logs.push({ event, fields });
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    anchor = await createTrustAnchor({ trustDomain: 'cluster.local', now: Date.now() });
    issuer = await createIssuer({ anchor, now: Date.now() });
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    logs.length = 0;
  });

  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  /** A fresh folder with the identity files and mesh.yaml holding `text`. */
  async function freshDir(text: string): Promise<void> {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
    dir = await mkdtemp(join(tmpdir(), 'weft-control-file-'));
    meshFile = join(dir, 'mesh.yaml');
    await writeFile(join(dir, 'ca.crt'), anchor.certificatePem);
    await writeFile(join(dir, 'issuer.crt'), issuer.certificatePem);
    await writeFile(join(dir, 'issuer.key'), issuer.privateKeyPem, { mode: 0o600 });
    await writeFile(meshFile, text);
  }

  /** Saves the mesh file as editors do: a new file renamed over the old one. */
  async function edit(text: string): Promise<void> {
    const next = join(dir, `.mesh.yaml.${Date.now()}`);
    await writeFile(next, text);
    await rename(next, meshFile);
  }

  function argsOf(extra: string[] = [], grpcPort = 0): ControlArgs {
    const args = parseControlArgs(['--orchestrator', 'file', '--mesh-file', meshFile, '--identity-dir', dir, ...extra]);
    return { ...args, adminAddr: { ip: '127.0.0.1', port: 0 }, grpcAddr: { ip: '127.0.0.1', port: grpcPort } };
  }

  async function start(extra: string[] = [], grpcPort = 0): Promise<RunningControlPlane> {
    const control = await startControlPlane(argsOf(extra, grpcPort), { log, processMetrics: false });
    cleanups.push(() => control.close());
    return control;
  }

  function proxyOf(control: RunningControlPlane): ProxyView {
    const proxy = new ProxyView(control.grpcPort);
    cleanups.push(() => proxy.close());
    return proxy;
  }

  it('serves endpoints and policy from the file, follows valid edits within 2 s, keeps the last good state on a bad one, and certifies', async () => {
    await freshDir(MINIMAL);
    const control = await start();
    expect(control.trustDomain).toBe('cluster.local');
    await vi.waitFor(async () => expect(await readyStatus(control)).toEqual([200, 'ready\n']), { timeout: 5_000 });
    const proxy = proxyOf(control);

    // The first message: the whole set, and the namespace's default policy.
    await vi.waitFor(() => expect(proxy.addresses()).toEqual(['10.0.0.11:8080', '10.0.0.12:8080']));
    expect(proxy.endpointUpdates[0]?.kind).toBe('reset');
    await vi.waitFor(() => expect(proxy.policyUpdates.map((policy) => policy.server)).toEqual([{ kind: 'default', name: 'all-unauthenticated' }]));

    // An instance added, then one removed: each reaches the client within the bound, as an incremental update.
    let editedAt = Date.now();
    await edit(WITH_THIRD);
    await vi.waitFor(() => expect(proxy.addresses()).toEqual(['10.0.0.11:8080', '10.0.0.12:8080', '10.0.0.13:8080']), { timeout: EDIT_BOUND_MS, interval: 10 });
    expect(Date.now() - editedAt).toBeLessThan(EDIT_BOUND_MS);
    expect(proxy.endpointUpdates.at(-1)?.kind).toBe('add');
    const updatesAfterAdd = proxy.endpointUpdates.length;
    editedAt = Date.now();
    await edit(WITHOUT_SECOND);
    await vi.waitFor(() => expect(proxy.addresses()).toEqual(['10.0.0.11:8080', '10.0.0.13:8080']), { timeout: EDIT_BOUND_MS, interval: 10 });
    expect(Date.now() - editedAt).toBeLessThan(EDIT_BOUND_MS);
    // Removing web-1 renames the third instance web-1 (default names follow the list): its labels change with it.
    expect(proxy.endpointUpdates.slice(updatesAfterAdd).map((update) => update.kind)).toEqual(['remove', 'add']);
    expect(proxy.endpointUpdates[updatesAfterAdd]).toEqual({ kind: 'remove', addresses: [{ ip: '10.0.0.12', port: 8080 }] });

    // A broken edit: one error naming file, line and column; the state stays, served and ready.
    const updatesBefore = proxy.endpointUpdates.length;
    await edit(BROKEN_SYNTAX);
    await vi.waitFor(() => expect(logs.filter((entry) => entry.event === 'mesh-file-invalid')).toHaveLength(1), { timeout: EDIT_BOUND_MS });
    expect(String(logs.find((entry) => entry.event === 'mesh-file-invalid')?.fields['message'])).toMatch(
      new RegExp(`${meshFile.replaceAll('.', '\\.')}:\\d+:\\d+`),
    );
    expect(proxy.endpointUpdates).toHaveLength(updatesBefore);
    expect(proxy.addresses()).toEqual(['10.0.0.11:8080', '10.0.0.13:8080']);
    expect(await readyStatus(control)).toEqual([200, 'ready\n']);
    const broken = await scrape(control);
    expect(sample(broken, 'control_mesh_file_reloads_total', { result: 'invalid' })).toBe(1);
    expect(sample(broken, 'control_mesh_file_valid')).toBe(0);
    // A new watch while the file is broken still gets the last good state.
    const late = proxyOf(control);
    await vi.waitFor(() => expect(late.addresses()).toEqual(['10.0.0.11:8080', '10.0.0.13:8080']));

    // The policy stream follows an edit that puts a Server on the port.
    editedAt = Date.now();
    await edit(DENY_WEB);
    await vi.waitFor(() => expect(proxy.policyUpdates.at(-1)?.server).toEqual({ kind: 'Server', name: 'web-http' }), { timeout: EDIT_BOUND_MS, interval: 10 });
    expect(Date.now() - editedAt).toBeLessThan(EDIT_BOUND_MS);
    expect(proxy.policyUpdates.at(-1)?.authorizations).toEqual([]);
    await vi.waitFor(() => expect(proxy.addresses()).toEqual(['10.0.0.11:8080', '10.0.0.12:8080', '10.0.0.13:8080']));

    // Certify beside them on the same port: one leaf issued, one forged token refused.
    const certifier = new GrpcIdentityClient({ address: { ip: '127.0.0.1', port: control.grpcPort }, deadlineMs: 5_000 });
    cleanups.push(() => certifier.close());
    const token = unwrap(control.container.get(SignedTokenIssuer).issue(webIdentity)).token;
    const { csrDer } = await createWorkloadCsr(webIdentity);
    const issued = await certifier.certify({ identityName: identityName(webIdentity), token, csr: csrDer });
    expect(issued.ok).toBe(true);
    const forged = await certifier.certify({ identityName: identityName(webIdentity), token: 'eyJhbGciOiJub25lIn0.e30.AA', csr: csrDer });
    expect(forged.ok || forged.error).toBeInstanceOf(TokenRefusal);

    // /metrics counts what happened.
    const text = await scrape(control);
    expect(sample(text, 'control_grpc_streams', { service: 'destination', rpc: 'Get' })).toBe(2);
    expect(sample(text, 'control_grpc_streams', { service: 'destination', rpc: 'GetProfile' })).toBe(0);
    expect(sample(text, 'control_grpc_streams', { service: 'policy', rpc: 'WatchPort' })).toBe(2);
    expect(sample(text, 'control_grpc_requests_total', { service: 'identity', rpc: 'Certify', code: 'OK' })).toBe(1);
    expect(sample(text, 'control_grpc_requests_total', { service: 'identity', rpc: 'Certify', code: 'UNAUTHENTICATED' })).toBe(1);
    expect(sample(text, 'control_certificates_issued_total')).toBe(1);
    expect(sample(text, 'control_certify_refusals_total', { code: 'token-invalid' })).toBe(1);
    expect(sample(text, 'control_mesh_file_reloads_total', { result: 'applied' })).toBe(3);
    expect(sample(text, 'control_mesh_file_reloads_total', { result: 'invalid' })).toBe(1);
    expect(sample(text, 'control_mesh_file_reloads_total', { result: 'missing' })).toBe(0);
    expect(sample(text, 'control_mesh_file_valid')).toBe(1);

    // A client that leaves ends its streams, counted as CANCELLED.
    late.close();
    await vi.waitFor(async () => {
      const after = await scrape(control);
      expect(sample(after, 'control_grpc_streams', { service: 'destination', rpc: 'Get' })).toBe(1);
      expect(sample(after, 'control_grpc_streams', { service: 'policy', rpc: 'WatchPort' })).toBe(1);
      expect(sample(after, 'control_grpc_requests_total', { service: 'destination', rpc: 'Get', code: 'CANCELLED' })).toBe(1);
    });

    // The stop: streams end with UNAVAILABLE, the client keeps its state, everything is closed within the bound.
    const stoppingAt = Date.now();
    await control.close();
    expect(Date.now() - stoppingAt).toBeLessThan(1_000);
    expect(logs.filter((entry) => entry.event === 'destination-stream-ended' && entry.fields['reason'] === 'shutdown')).toHaveLength(1);
    expect(logs.filter((entry) => entry.event === 'policy-stream-ended' && entry.fields['reason'] === 'shutdown')).toHaveLength(1);
    expect(sample(await control.metrics.metricsText(), 'control_grpc_requests_total', { service: 'destination', rpc: 'Get', code: 'UNAVAILABLE' })).toBe(1);
    await expect(fetch(`http://127.0.0.1:${control.admin.address.port}/live`)).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(proxy.addresses()).toEqual(['10.0.0.11:8080', '10.0.0.12:8080', '10.0.0.13:8080']);
  });

  it('restarted on the same port, is found again by clients that kept their state meanwhile, and they converge on the file as it now is', async () => {
    await freshDir(WITH_THIRD);
    const first = await start();
    const port = first.grpcPort;
    const proxy = proxyOf(first);
    await vi.waitFor(() => expect(proxy.addresses()).toEqual(['10.0.0.11:8080', '10.0.0.12:8080', '10.0.0.13:8080']));
    await vi.waitFor(() => expect(proxy.policyUpdates).toHaveLength(1));
    await first.close();

    // Edited while no control plane runs: the client holds on to what it had.
    await edit(DENY_WEB.replace(SECOND, ''));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(proxy.addresses()).toEqual(['10.0.0.11:8080', '10.0.0.12:8080', '10.0.0.13:8080']);
    expect(proxy.policyUpdates).toHaveLength(1);

    const second = await start([], port);
    expect(second.grpcPort).toBe(port);
    await vi.waitFor(() => expect(proxy.addresses()).toEqual(['10.0.0.11:8080', '10.0.0.13:8080']), { timeout: 5_000, interval: 20 });
    await vi.waitFor(() => expect(proxy.policyUpdates.at(-1)?.server).toEqual({ kind: 'Server', name: 'web-http' }), { timeout: 5_000 });
    // It converged by the difference: the set never went through empty, and no reset followed the first one.
    expect(Math.min(...proxy.sizes)).toBeGreaterThan(0);
    expect(proxy.endpointUpdates.slice(1).map((update) => update.kind)).not.toContain('reset');
    expect(proxy.endpointUpdates[1]).toEqual({ kind: 'remove', addresses: [{ ip: '10.0.0.12', port: 8080 }] });
    await vi.waitFor(async () => {
      const text = await scrape(second);
      expect(sample(text, 'control_grpc_streams', { service: 'destination', rpc: 'Get' })).toBe(1);
      expect(sample(text, 'control_grpc_streams', { service: 'policy', rpc: 'WatchPort' })).toBe(1);
    });
  });

  it('refuses to start on a mesh file with errors, naming file, line, column and field, and serves nothing', async () => {
    await freshDir(MINIMAL.replace('ports: [8080]', 'ports: [80800]'));
    const failure = await startControlPlane(argsOf(), { log, processMetrics: false }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MeshFileStartError);
    expect((failure as MeshFileStartError).message).toMatch(new RegExp(`^mesh file .* has an error; fix it and start again:\\n  ${meshFile.replaceAll('.', '\\.')}:6:13 services\\[0\\]\\.ports\\[0\\]`));
    expect(logs.some((entry) => entry.event === 'started')).toBe(false);
  });

  it('refuses a missing mesh file, and a --trust-domain the file disagrees with', async () => {
    await freshDir(MINIMAL);
    await expect(startControlPlane({ ...argsOf(), meshFile: join(dir, 'nope.yaml') }, { log })).rejects.toThrow(`${join(dir, 'nope.yaml')}:1:1: cannot be read`);
    await expect(startControlPlane(argsOf(['--trust-domain', 'shop.example']), { log })).rejects.toThrow(
      `--trust-domain "shop.example" does not match the trust domain "cluster.local" of mesh file ${meshFile}`,
    );
  });

  it("certifies in the mesh file's trust domain when no --trust-domain is given (in-memory identity without --identity-dir)", async () => {
    await freshDir(fixture('shop.yaml'));
    const args = { ...parseControlArgs(['--orchestrator', 'file', '--mesh-file', meshFile]), adminAddr: { ip: '127.0.0.1', port: 0 }, grpcAddr: { ip: '127.0.0.1', port: 0 } };
    const control = await startControlPlane(args, { log, processMetrics: false });
    cleanups.push(() => control.close());
    expect(control.trustDomain).toBe('shop.example');
    expect(logs.find((entry) => entry.event === 'started')?.fields).toMatchObject({ trustDomain: 'shop.example', meshFile, identity: 'orchestrator' });
    const orders: WorkloadIdentity = { trustDomain: 'shop.example', namespace: 'shop', serviceAccount: 'orders' };
    const client = new identity.IdentityClient(`127.0.0.1:${control.grpcPort}`, credentials.createInsecure());
    cleanups.push(() => client.close());
    const token = control.container.get(InMemoryTokenValidator).issue(orders);
    const certify = (asked: WorkloadIdentity) =>
      new Promise<identity.CertifyResponse | ServiceError>((resolve) =>
        client.certify(
          { identity: identityName(asked), token: Buffer.from(token), certificateSigningRequest: Buffer.from(memoryCsrFor(asked)) },
          (error, answer) => resolve(error ?? answer),
        ),
      );
    // The memory authority's certificates are JSON, carried as they are.
    const issued = (await certify(orders)) as identity.CertifyResponse;
    expect(JSON.parse(issued.leafCertificate.toString('utf8'))).toMatchObject({ role: 'leaf', dnsNames: [identityName(orders)] });
    const refused = (await certify({ ...orders, trustDomain: 'cluster.local' })) as ServiceError;
    expect(refused.code).toBe(status.INVALID_ARGUMENT);
    expect(refused.details).toContain('cluster.local');
  });
});
