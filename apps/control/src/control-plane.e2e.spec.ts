import { stat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { ControlChannel, GrpcDiscoverEndpoints, GrpcDiscoverInboundPolicy, GrpcIdentityClient } from '@weft/adapter-grpc';
import { InMemoryDiscoverEndpoints, InMemoryTokenValidator, memoryCsrFor } from '@weft/adapter-memory';
import { SignedTokenIssuer } from '@weft/adapter-token';
import { type CaMaterial, createIssuer, createTrustAnchor, createWorkloadCsr, verifyWorkloadLeaf } from '@weft/adapter-x509';
import { identity } from '@weft/contracts';
import {
  CertifyRefusal,
  type EndpointUpdate,
  identityName,
  type InboundServerPolicy,
  makeEndpoint,
  parseAuthority,
  TokenRefusal,
  unwrap,
  type WorkloadIdentity,
} from '@weft/core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ControlArgs, parseControlArgs } from './control-args.js';
import { type RunningControlPlane, startControlPlane } from './control-plane.js';

const web: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'web' };
const books: WorkloadIdentity = { trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'books' };

/** The arguments of `argv`, with both servers on ephemeral loopback ports (port 0 is not something users write). */
function argsOf(argv: string[]): ControlArgs {
  return { ...parseControlArgs(argv), adminAddr: { ip: '127.0.0.1', port: 0 }, grpcAddr: { ip: '127.0.0.1', port: 0 } };
}

async function writeIdentityDir(dir: string, anchor: CaMaterial, issuer: CaMaterial | undefined): Promise<void> {
  await writeFile(join(dir, 'ca.crt'), anchor.certificatePem);
  if (issuer === undefined) return;
  await writeFile(join(dir, 'issuer.crt'), issuer.certificatePem);
  await writeFile(join(dir, 'issuer.key'), issuer.privateKeyPem, { mode: 0o600 });
}

async function readyStatus(control: RunningControlPlane): Promise<[number, string]> {
  const response = await fetch(`http://127.0.0.1:${control.admin.address.port}/ready`);
  return [response.status, await response.text()];
}

describe('weft-control end to end', () => {
  let anchor: CaMaterial;
  let issuer: CaMaterial;
  let dir = '';
  let control: RunningControlPlane | undefined;
  const clients: GrpcIdentityClient[] = [];
  const logs: { event: string; fields: Record<string, unknown> }[] = [];
  const log = (event: string, fields: Record<string, unknown> = {}): void => void logs.push({ event, fields });

  beforeAll(async () => {
    anchor = await createTrustAnchor({ trustDomain: 'cluster.local', now: Date.now() });
    issuer = await createIssuer({ anchor, now: Date.now() });
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await control?.close();
    control = undefined;
    logs.length = 0;
    if (dir !== '') await rm(dir, { recursive: true, force: true });
    dir = '';
  });

  async function startWithIdentityDir(extra: string[] = [], pollMs?: number): Promise<RunningControlPlane> {
    const args = argsOf(['--identity-dir', dir, ...extra]);
    control = await startControlPlane(args, { log, ...(pollMs !== undefined && { issuerPollIntervalMs: pollMs }) });
    return control;
  }

  function clientOf(running: RunningControlPlane): GrpcIdentityClient {
    const client = new GrpcIdentityClient({ address: { ip: '127.0.0.1', port: running.grpcPort }, deadlineMs: 5_000 });
    clients.push(client);
    return client;
  }

  it('certifies a CSR through GrpcIdentityClient with an X.509 leaf that verifies against the anchor', async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-control-'));
    await writeIdentityDir(dir, anchor, issuer);
    const running = await startWithIdentityDir(['--leaf-lifetime', '2h']);
    await vi.waitFor(async () => expect(await readyStatus(running)).toEqual([200, 'ready\n']), { timeout: 5_000 });
    expect((await stat(join(dir, 'token.key'))).mode & 0o777).toBe(0o600);
    expect(logs.find((entry) => entry.event === 'started')?.fields).toMatchObject({ identity: 'x509', tokenKeyCreated: true });

    const token = unwrap(running.container.get(SignedTokenIssuer).issue(web)).token;
    const { csrDer } = await createWorkloadCsr(web);
    const result = await clientOf(running).certify({ identityName: identityName(web), token, csr: csrDer });
    if (!result.ok) throw result.error;
    expect(result.value.notAfter - result.value.notBefore).toBe(2 * 3_600_000 + 20_000);
    const verified = verifyWorkloadLeaf([result.value.leafPem, ...result.value.chainPem], anchor.certificatePem, { identityName: identityName(web) }, Date.now());
    expect(verified.ok && verified.value.spiffeUri).toBe('spiffe://cluster.local/ns/shop/sa/web');
    expect(logs.some((entry) => entry.event === 'identity-certified' && entry.fields['identity'] === identityName(web))).toBe(true);
    expect(JSON.stringify(logs)).not.toContain(token);
  });

  it('refuses a token of another workload and a token it did not sign, each with its own refusal', async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-control-'));
    await writeIdentityDir(dir, anchor, issuer);
    const running = await startWithIdentityDir();
    const client = clientOf(running);
    const { csrDer } = await createWorkloadCsr(web);
    const booksToken = unwrap(running.container.get(SignedTokenIssuer).issue(books)).token;
    const stolen = await client.certify({ identityName: identityName(web), token: booksToken, csr: csrDer });
    expect(stolen.ok || [stolen.error.constructor, (stolen.error as CertifyRefusal).code]).toEqual([CertifyRefusal, 'identity-not-proven']);
    const forged = await client.certify({ identityName: identityName(web), token: 'eyJhbGciOiJub25lIn0.e30.AA', csr: csrDer });
    expect(forged.ok || [forged.error.constructor, (forged.error as TokenRefusal).code]).toEqual([TokenRefusal, 'invalid']);
  });

  it('is not ready while the folder has no issuer, and becomes ready once issuer files appear', async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-control-'));
    await writeIdentityDir(dir, anchor, undefined);
    const running = await startWithIdentityDir([], 50);
    expect(await readyStatus(running)).toEqual([503, 'not ready: no issuer valid now is loaded\n']);
    const token = unwrap(running.container.get(SignedTokenIssuer).issue(web)).token;
    const { csrDer } = await createWorkloadCsr(web);
    const refused = await clientOf(running).certify({ identityName: identityName(web), token, csr: csrDer });
    expect(refused.ok || (refused.error as CertifyRefusal).code).toBe('issuer-unavailable');

    await writeIdentityDir(dir, anchor, issuer);
    await vi.waitFor(async () => expect((await readyStatus(running))[0]).toBe(200), { timeout: 5_000, interval: 50 });
    expect(logs.some((entry) => entry.event === 'issuer-loaded')).toBe(true);
  });

  it('uses the token key it is given, and fails to start on a missing trust anchor file, naming it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-control-'));
    const keyFile = join(dir, 'elsewhere.key');
    const args = argsOf(['--identity-dir', dir, '--token-key', keyFile]);
    await expect(startControlPlane(args, { log })).rejects.toThrow(join(dir, 'ca.crt'));
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
  });

  it('fails to start when the gRPC address is taken, naming it', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const args = { ...argsOf([]), grpcAddr: { ip: '127.0.0.1', port } };
      await expect(startControlPlane(args, { log })).rejects.toThrow(`cannot serve gRPC on 127.0.0.1:${port}`);
    } finally {
      blocker.close();
    }
  });

  it('keeps the in-memory identity with the memory orchestrator and no identity folder', async () => {
    control = await startControlPlane(argsOf([]), { log });
    expect(await readyStatus(control)).toEqual([200, 'ready\n']);
    const token = control.container.get(InMemoryTokenValidator).issue(web);
    const client = new identity.IdentityClient(`127.0.0.1:${control.grpcPort}`, credentials.createInsecure());
    const response = await new Promise<identity.CertifyResponse>((resolve, reject) =>
      client.certify(
        { identity: identityName(web), token: Buffer.from(token), certificateSigningRequest: Buffer.from(memoryCsrFor(web)) },
        (error, answer) => (error ? reject(error) : resolve(answer)),
      ),
    );
    client.close();
    // The memory authority's certificates are JSON, carried as they are.
    expect(JSON.parse(response.leafCertificate.toString('utf8'))).toMatchObject({ role: 'leaf', dnsNames: [identityName(web)] });
  });

  it('serves Destination and Policy beside Identity with the memory orchestrator, and counts their streams', async () => {
    control = await startControlPlane(argsOf([]), { log, processMetrics: false });
    const target = unwrap(parseAuthority('web.shop:8080'));
    control.container.get(InMemoryDiscoverEndpoints).setEndpoints(target, [unwrap(makeEndpoint({ address: '10.0.0.1:8080' }))]);
    const channel = new ControlChannel({ address: `127.0.0.1:${control.grpcPort}` });
    const endpoints = new GrpcDiscoverEndpoints(channel);
    const policies = new GrpcDiscoverInboundPolicy(channel);
    try {
      const updates: EndpointUpdate[] = [];
      const policyUpdates: InboundServerPolicy[] = [];
      endpoints.watch(target, (update) => updates.push(update));
      endpoints.watch(unwrap(parseAuthority('nope.shop:8080')), (update) => updates.push(update));
      policies.watch({ namespace: 'shop', name: 'web-0' }, 8080, (policy) => policyUpdates.push(policy));
      await vi.waitFor(() => expect(updates.map((update) => update.kind).sort()).toEqual(['doesNotExist', 'reset']));
      await vi.waitFor(() => expect(policyUpdates).toHaveLength(1));
      control.container.get(InMemoryDiscoverEndpoints).setEndpoints(target, []);
      await vi.waitFor(() => expect(updates.at(-1)?.kind).toBe('remove'));
      const text = await control.metrics.metricsText();
      expect(text).toContain('control_grpc_streams{service="destination",rpc="Get"} 2');
      expect(text).toContain('control_grpc_streams{service="policy",rpc="WatchPort"} 1');
      expect(text).not.toContain('control_mesh_file');
    } finally {
      endpoints.close();
      policies.close();
      channel.close();
    }
  });
});
