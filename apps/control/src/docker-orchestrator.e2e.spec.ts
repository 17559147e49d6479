import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ControlChannel, GrpcDiscoverEndpoints, GrpcDiscoverInboundPolicy, GrpcDiscoverProfile } from '@weft/adapter-grpc';
import {
  applyEndpointUpdate,
  type EndpointSet,
  type EndpointUpdate,
  type InboundServerPolicy,
  parseAuthority,
  type ServiceProfile,
  unwrap,
} from '@weft/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseControlArgs } from './control-args.js';
import { type RunningControlPlane, startControlPlane } from './control-plane.js';

vi.setConfig({ testTimeout: 30_000, hookTimeout: 120_000 });

const docker = (...args: string[]): string => execFileSync('docker', args, { encoding: 'utf8', timeout: 60_000 }).trim();

function hasDocker(): boolean {
  try {
    docker('info');
    return true;
  } catch {
    const reason = 'the Docker engine does not answer `docker info`; run: bash scripts/setup-docker.sh';
    if (process.env['CI'] === 'true') throw new Error(`CI=true: ${reason}`);
    console.warn(`skipping the docker orchestrator tests: ${reason}`);
    return false;
  }
}

/** An image holding only /bin/sleep and its shared libraries: nothing can be pulled. */
function buildSleepImage(tag: string): void {
  const tree = mkdtempSync(join(tmpdir(), 'weft-test-sleep-'));
  try {
    const libraries = [...execFileSync('ldd', ['/bin/sleep'], { encoding: 'utf8' }).matchAll(/(\/[^\s]+) \(0x/g)].map((match) => match[1] as string);
    for (const file of ['/bin/sleep', ...libraries]) {
      mkdirSync(join(tree, dirname(file)), { recursive: true });
      copyFileSync(file, join(tree, file));
    }
    execFileSync('bash', ['-c', `tar -C "${tree}" -c . | docker import - "${tag}"`], { stdio: 'ignore', timeout: 60_000 });
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

const suffix = randomBytes(4).toString('hex');
const names = {
  image: `weft-test-control-sleep-${suffix}:1`,
  network: `weft-test-control-${suffix}`,
  app: `weft-test-control-app-${suffix}`,
  api: `weft-test-control-api-${suffix}`,
};
const service = `web-${suffix}`;
const apiService = `api-${suffix}`;

/**
 * Profiles and policies only: the services live in Docker. The profile is for a Docker service; the second Server
 * selects a Docker service and its named port.
 */
function policiesFile(apiServer: string): string {
  return [
    'apiVersion: weft.io/v1',
    'trustDomain: shop.example',
    'namespaces: [shop]',
    'policies:',
    '  servers:',
    '    - { name: all-8080, namespace: shop, port: 8080, proxyProtocol: HTTP/1, accessPolicy: deny }',
    `    - { name: ${apiServer}, namespace: shop, service: ${apiService}, port: http, proxyProtocol: HTTP/2, accessPolicy: deny }`,
    'profiles:',
    `  - service: ${service}`,
    '    namespace: shop',
    '    routes: [{ name: GET /books, condition: { method: GET, pathRegex: /books }, isRetryable: true, timeout: 300ms }]',
    '',
  ].join('\n');
}

class Watch {
  readonly updates: EndpointUpdate[] = [];
  readonly listener = (update: EndpointUpdate): void => {
    this.updates.push(update);
  };
  held(): EndpointSet {
    return this.updates.reduce<EndpointSet>(applyEndpointUpdate, new Map());
  }
}

describe.skipIf(!hasDocker())('weft-control --orchestrator docker', () => {
  let control: RunningControlPlane | undefined;
  let channel: ControlChannel | undefined;
  let ip = '';
  const dir = mkdtempSync(join(tmpdir(), 'weft-test-control-'));
  const meshFile = join(dir, 'policies.yaml');

  beforeAll(async () => {
    buildSleepImage(names.image);
    docker('network', 'create', names.network);
    const labels = ['weft.io/service=' + service, 'weft.io/namespace=shop', 'weft.io/port=8080', 'weft.io/inject=enabled'];
    docker('run', '-d', '--name', names.app, '--network', names.network, ...labels.flatMap((label) => ['--label', label]), names.image, '/bin/sleep', '3600');
    ip = docker('inspect', '-f', `{{(index .NetworkSettings.Networks "${names.network}").IPAddress}}`, names.app);
    const apiLabels = ['weft.io/service=' + apiService, 'weft.io/namespace=shop', 'weft.io/port=9090', 'weft.io/port-names=http=9090'];
    docker('run', '-d', '--name', names.api, '--network', names.network, ...apiLabels.flatMap((label) => ['--label', label]), names.image, '/bin/sleep', '3600');
    writeFileSync(meshFile, policiesFile('api-http'));
    const args = parseControlArgs(['--orchestrator', 'docker', '--mesh-file', meshFile]);
    control = await startControlPlane(
      { ...args, adminAddr: { ip: '127.0.0.1', port: 0 }, grpcAddr: { ip: '127.0.0.1', port: 0 } },
      { processMetrics: false },
    );
    channel = new ControlChannel({ address: `127.0.0.1:${control.grpcPort}`, backoff: { initialMs: 20, maxMs: 200, jitter: 0.5 } });
  });

  afterAll(async () => {
    channel?.close();
    await control?.close();
    for (const command of [['rm', '-f', names.app], ['rm', '-f', names.api], ['network', 'rm', names.network], ['image', 'rm', '-f', names.image]]) {
      try {
        docker(...command);
      } catch {
        // Removed already, or never made.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a Destination Get for the service authority and for the container IP, with its identity', async () => {
    const endpoints = new GrpcDiscoverEndpoints(channel as ControlChannel);
    const byName = new Watch();
    const byIp = new Watch();
    const unknownIp = new Watch();
    endpoints.watch(unwrap(parseAuthority(`${service}.shop.svc.cluster.local:8080`)), byName.listener);
    endpoints.watch(unwrap(parseAuthority(`${ip}:8080`)), byIp.listener);
    endpoints.watch(unwrap(parseAuthority('192.0.2.77:8080')), unknownIp.listener);
    const expected = {
      address: { ip, port: 8080 },
      tlsIdentity: `${service}.shop.serviceaccount.identity.weft.shop.example`,
      proxyInboundPort: 4243,
    };
    await vi.waitFor(() => expect(byName.held().get(`${ip}:8080`)).toMatchObject(expected), { timeout: 5_000 });
    await vi.waitFor(() => expect(byIp.held().get(`${ip}:8080`)).toMatchObject(expected), { timeout: 5_000 });
    await vi.waitFor(() => expect(unknownIp.updates).toEqual([{ kind: 'doesNotExist' }]), { timeout: 5_000 });
    expect(control?.trustDomain).toBe('shop.example');
    docker('kill', names.app);
    await vi.waitFor(() => expect(byIp.updates.at(-1)).toEqual({ kind: 'doesNotExist' }), { timeout: 2_000 });
    await vi.waitFor(() => expect(byName.held().size).toBe(0), { timeout: 2_000 });
    endpoints.close();
  });

  it('serves the inbound policies of the mesh file', async () => {
    const policies = new GrpcDiscoverInboundPolicy(channel as ControlChannel);
    const received: InboundServerPolicy[] = [];
    policies.watch({ namespace: 'shop', name: names.app }, 8080, (policy) => received.push(policy));
    await vi.waitFor(() => expect(received.at(-1)?.server).toEqual({ kind: 'Server', name: 'all-8080' }), { timeout: 5_000 });
    policies.close();
  });

  it('answers a GetProfile for a Docker service authority with the profile of the mesh file', async () => {
    const profiles = new GrpcDiscoverProfile(channel as ControlChannel);
    const web: ServiceProfile[] = [];
    const api: ServiceProfile[] = [];
    profiles.watch(unwrap(parseAuthority(`${service}.shop.svc.cluster.local:8080`)), (profile) => web.push(profile));
    profiles.watch(unwrap(parseAuthority(`${apiService}.shop.svc.cluster.local:9090`)), (profile) => api.push(profile));
    await vi.waitFor(
      () =>
        expect(web.at(-1)).toMatchObject({
          fullyQualifiedName: `${service}.shop.svc.cluster.local`,
          routes: [{ name: 'GET /books', isRetryable: true, timeoutMs: 300 }],
        }),
      { timeout: 5_000 },
    );
    await vi.waitFor(() => expect(api.at(-1)).toMatchObject({ fullyQualifiedName: `${apiService}.shop.svc.cluster.local`, routes: [] }), { timeout: 5_000 });
    profiles.close();
  });

  it('applies a Server that selects a Docker service and its named port to that service only, and follows edits of the file within 2 s', async () => {
    const policies = new GrpcDiscoverInboundPolicy(channel as ControlChannel);
    const api: InboundServerPolicy[] = [];
    const web: InboundServerPolicy[] = [];
    policies.watch({ namespace: 'shop', name: names.api }, 9090, (policy) => api.push(policy));
    policies.watch({ namespace: 'shop', name: names.app }, 9090, (policy) => web.push(policy));
    await vi.waitFor(() => expect(api.at(-1)).toMatchObject({ server: { kind: 'Server', name: 'api-http' }, protocol: 'HTTP/2', authorizations: [] }), {
      timeout: 5_000,
    });
    await vi.waitFor(() => expect(web.at(-1)?.server).toEqual({ kind: 'default', name: 'all-unauthenticated' }), { timeout: 5_000 });
    const editedAt = Date.now();
    writeFileSync(meshFile, policiesFile('api-http-v2'));
    await vi.waitFor(() => expect(api.at(-1)?.server).toEqual({ kind: 'Server', name: 'api-http-v2' }), { timeout: 2_000, interval: 20 });
    expect(Date.now() - editedAt).toBeLessThan(2_000);
    expect(web.at(-1)?.server.kind).toBe('default');
    policies.close();
  });
});
