import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ControlChannel, GrpcDiscoverEndpoints } from '@weft/adapter-grpc';
import { createIssuer, createTrustAnchor } from '@weft/adapter-x509';
import { applyEndpointUpdate, type EndpointSet, formatSocketAddress, parseAuthority, unwrap } from '@weft/core';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const TEST_APPS = fileURLToPath(new URL('./test-apps/', import.meta.url));
const SETUP_HINT = 'bash scripts/setup-docker.sh';

function engineAnswers(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 15_000 });
    return true;
  } catch {
    return false;
  }
}

const engineAvailable = engineAnswers();
const inCi = process.env.CI === 'true';

if (!engineAvailable) {
  describe('a Docker host meshed by weft-control (end to end)', () => {
    it.runIf(inCi)('needs the Docker engine', () => {
      throw new Error(`no Docker engine answers here; start one with: ${SETUP_HINT}`);
    });
    it.skipIf(inCi)(`is skipped: no Docker engine answers here (start one with: ${SETUP_HINT})`, () => undefined);
  });
}

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
  return stdout.trim();
}

async function script(path: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('bash', [join(REPO, path), ...args], { cwd: REPO, maxBuffer: 16 * 1024 * 1024, timeout: 300_000 });
  return stdout.trim().split('\n').at(-1) ?? '';
}

/** The allow-then-deny policy of the e2e namespace: the server's HTTP port admits the listed service accounts. */
function meshFile(allowed: readonly string[]): string {
  return `apiVersion: weft.io/v1
trustDomain: cluster.local
namespaces: [e2e]
policies:
  servers:
    - { name: server-http, namespace: e2e, selector: {}, port: 8080, proxyProtocol: HTTP/1 }
  meshTLSAuthentications:
    - { name: callers, namespace: e2e, serviceAccounts: [${allowed.join(', ')}] }
  authorizationPolicies:
    - { name: callers-only, namespace: e2e, target: { server: server-http }, requiredAuthentications: [{ meshTLS: callers }] }
`;
}

interface CallResult {
  readonly status?: number;
  readonly body?: string;
  readonly reply?: { readonly from: string; readonly echo: string };
  readonly error?: string;
}

describe.runIf(engineAvailable)('a Docker host meshed by weft-control (end to end)', () => {
  const id = `weft-test-${randomBytes(4).toString('hex')}`;
  const names = { network: id, control: `${id}-control`, server: `${id}-server`, client: `${id}-client` };
  const images = { proxy: `weft/proxy:${id}`, control: `weft/control:${id}` };
  let dir = '';
  let base = '';
  const ips = { control: '', server: '', client: '' };
  const cleanups: (() => void)[] = [];

  async function ipOf(container: string): Promise<string> {
    return docker('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', container);
  }

  async function sidecarsOf(app: string): Promise<{ id: string; name: string; running: boolean }[]> {
    const appId = await docker('inspect', '-f', '{{.Id}}', app);
    const out = await docker('ps', '-a', '--filter', `label=weft.io/sidecar-for=${appId}`, '--filter', 'label=weft.io/role=proxy', '--format', '{{.ID}} {{.Names}} {{.State}}');
    return out === ''
      ? []
      : out.split('\n').map((line) => {
          const [sidecarId = '', name = '', state = ''] = line.split(' ');
          return { id: sidecarId, name, running: state === 'running' };
        });
  }

  async function client(...args: string[]): Promise<CallResult & Record<string, unknown>> {
    const out = await docker('exec', names.client, 'node', '/app/client.mjs', ...args);
    return JSON.parse(out) as CallResult & Record<string, unknown>;
  }

  async function metricsOf(ip: string): Promise<string> {
    const response = await fetch(`http://${ip}:4291/metrics`, { signal: AbortSignal.timeout(3_000) });
    return response.text();
  }

  async function controlReady(): Promise<void> {
    ips.control = await ipOf(names.control);
    const response = await fetch(`http://${ips.control}:9990/ready`, { signal: AbortSignal.timeout(2_000) });
    expect(response.status).toBe(200);
  }

  async function bundleTestApps(into: string): Promise<void> {
    await build({
      entryPoints: { 'server': join(TEST_APPS, 'server.mjs'), 'client': join(TEST_APPS, 'client.mjs') },
      outdir: into,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      banner: { js: "import { createRequire as __weftCreateRequire } from 'node:module'; const require = __weftCreateRequire(import.meta.url);" },
      logLevel: 'warning',
    });
  }

  async function writeIdentityDir(into: string): Promise<void> {
    const now = Date.now();
    const anchor = await createTrustAnchor({ trustDomain: 'cluster.local', now });
    const issuer = await createIssuer({ anchor, now });
    await mkdir(into, { recursive: true });
    await writeFile(join(into, 'ca.crt'), anchor.certificatePem);
    await writeFile(join(into, 'issuer.crt'), issuer.certificatePem);
    await writeFile(join(into, 'issuer.key'), issuer.privateKeyPem, { mode: 0o600 });
  }

  async function startControl(): Promise<void> {
    await docker(
      'run', '-d', '--name', names.control, '--network', names.network,
      '-v', '/var/run/docker.sock:/var/run/docker.sock',
      '-v', `${join(dir, 'identity')}:/identity`,
      '-v', `${join(dir, 'mesh')}:/mesh:ro`,
      images.control,
      '--orchestrator', 'docker', '--identity-dir', '/identity', '--mesh-file', '/mesh/mesh.yaml',
      '--sidecar-image', images.proxy, '--sidecar-control-addr', `${names.control}:8086`,
    );
  }

  async function startApp(name: string, service: string, ports: string, command: string[]): Promise<void> {
    await docker(
      'run', '-d', '--name', name, '--network', names.network,
      '-l', 'weft.io/inject=enabled', '-l', `weft.io/service=${service}`, '-l', `weft.io/port=${ports}`, '-l', 'weft.io/namespace=e2e',
      '-v', `${join(dir, 'apps')}:/app:ro`, '-e', `APP_NAME=${service}`,
      base, ...command,
    );
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `${id}-`));
    await chmod(dir, 0o755);
    base = await script('scripts/docker/make-local-base.sh', '--quiet');
    const built = await script('scripts/docker/build-images.sh', '--base', base, '--tag', id, '--quiet');
    expect(built).toBe(`${images.proxy} ${images.control}`);
    await bundleTestApps(join(dir, 'apps'));
    await writeIdentityDir(join(dir, 'identity'));
    await mkdir(join(dir, 'mesh'));
    await writeFile(join(dir, 'mesh/mesh.yaml'), meshFile(['client', 'admin']));
    await docker('network', 'create', names.network);
    await startControl();
    await vi.waitFor(controlReady, { timeout: 30_000, interval: 300 });
    await startApp(names.server, 'server', '8080,9090', ['node', '/app/server.mjs']);
    await startApp(names.client, 'client', '8080', ['node', '/app/client.mjs', 'serve']);
    ips.server = await ipOf(names.server);
    ips.client = await ipOf(names.client);
  }, 300_000);

  afterAll(async () => {
    for (const cleanup of cleanups.splice(0)) cleanup();
    // The control plane first, so that it makes no sidecar while the rest goes.
    const remove = async (...args: string[]) => {
      try {
        await docker(...args);
      } catch {
        // Already gone, or never made.
      }
    };
    await remove('rm', '-f', '-v', names.control);
    const leftovers = await docker('ps', '-aq', '--filter', `name=${id}`).catch(() => '');
    if (leftovers !== '') await remove('rm', '-f', '-v', ...leftovers.split('\n'));
    await remove('network', 'rm', names.network);
    await remove('rmi', images.proxy, images.control);
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it('starts a sidecar beside each labelled container, named after it and run as the proxy user', async () => {
    for (const app of [names.server, names.client]) {
      await vi.waitFor(
        async () => {
          const sidecars = await sidecarsOf(app);
          expect(sidecars).toHaveLength(1);
          expect(sidecars[0]).toMatchObject({ name: `${app}-weft-proxy`, running: true });
        },
        { timeout: 60_000, interval: 500 },
      );
      expect(await docker('inspect', '-f', '{{.Config.User}} {{.HostConfig.NetworkMode}}', `${app}-weft-proxy`)).toMatch(/^2102 container:[0-9a-f]{64}$/);
    }
    for (const ip of [ips.server, ips.client]) {
      await vi.waitFor(async () => expect((await fetch(`http://${ip}:4291/ready`, { signal: AbortSignal.timeout(2_000) })).status).toBe(200), {
        timeout: 30_000,
        interval: 500,
      });
    }
  }, 120_000);

  it('carries the client\'s plain HTTP and gRPC calls to the server by its container name, over mTLS', async () => {
    const url = `http://${names.server}:8080/hello`;
    await vi.waitFor(async () => expect(await client('http', url)).toMatchObject({ status: 200 }), { timeout: 30_000, interval: 500 });
    expect(JSON.parse((await client('http', url)).body ?? '{}')).toMatchObject({ from: 'server', path: '/hello' });
    await vi.waitFor(async () => expect(await client('grpc', `${names.server}:9090`)).toMatchObject({ reply: { from: 'server', echo: 'hello' } }), {
      timeout: 30_000,
      interval: 500,
    });

    const clientIdentity = 'client.e2e.serviceaccount.identity.weft.cluster.local';
    const serverIdentity = 'server.e2e.serviceaccount.identity.weft.cluster.local';
    const inbound = await metricsOf(ips.server);
    expect(inbound).toMatch(new RegExp(`direction="inbound"[^\\n]*tls="true"[^\\n]*client_id="${clientIdentity.replaceAll('.', '\\.')}"`));
    const outbound = await metricsOf(ips.client);
    expect(outbound).toMatch(new RegExp(`direction="outbound"[^\\n]*tls="true"[^\\n]*server_id="${serverIdentity.replaceAll('.', '\\.')}"`));
  }, 120_000);

  it('applies the policies of the mounted mesh file: a denied client gets 403 from the server\'s sidecar', async () => {
    const url = `http://${names.server}:8080/hello`;
    await writeFile(join(dir, 'mesh/mesh.yaml'), meshFile(['admin']));
    await vi.waitFor(async () => expect(await client('http', url)).toMatchObject({ status: 403 }), { timeout: 30_000, interval: 500 });
    await writeFile(join(dir, 'mesh/mesh.yaml'), meshFile(['client', 'admin']));
    await vi.waitFor(async () => expect(await client('http', url)).toMatchObject({ status: 200 }), { timeout: 30_000, interval: 500 });
  }, 120_000);

  it('keeps traffic flowing while the control plane restarts, and adopts the sidecars it finds', async () => {
    const sidecarsBefore = [...(await sidecarsOf(names.server)), ...(await sidecarsOf(names.client))].map((s) => s.id).sort();
    const traffic = client('loop', `http://${names.server}:8080/during`, '12000', '100');
    await new Promise((resolveWait) => setTimeout(resolveWait, 1_500));
    await docker('restart', '-t', '2', names.control);
    await vi.waitFor(controlReady, { timeout: 30_000, interval: 300 });
    const during = await traffic;
    expect(during).toMatchObject({ failed: 0 });
    expect(during.ok as number).toBeGreaterThan(20);
    expect(await client('http', `http://${names.server}:8080/after`)).toMatchObject({ status: 200 });
    const sidecarsAfter = [...(await sidecarsOf(names.server)), ...(await sidecarsOf(names.client))].map((s) => s.id).sort();
    expect(sidecarsAfter).toEqual(sidecarsBefore);
    expect(await docker('logs', names.control)).toMatch(/"event":"sidecar-adopted"/);
  }, 120_000);

  it('takes a killed server out of the client\'s view within 2 s, and removes its sidecar', async () => {
    const channel = new ControlChannel({ address: `${ips.control}:8086`, backoff: { initialMs: 50, maxMs: 500, jitter: 0.2 } });
    const endpoints = new GrpcDiscoverEndpoints(channel);
    cleanups.push(() => {
      endpoints.close();
      channel.close();
    });
    let view: EndpointSet = new Map();
    endpoints.watch(unwrap(parseAuthority(`server.e2e.svc.cluster.local:8080`)), (update) => {
      view = applyEndpointUpdate(view, update);
    });
    const serverEndpoint = formatSocketAddress({ ip: ips.server, port: 8080 });
    await vi.waitFor(() => expect([...view.keys()]).toContain(serverEndpoint), { timeout: 15_000, interval: 100 });

    const killedAt = Date.now();
    await docker('kill', names.server);
    await vi.waitFor(() => expect([...view.keys()]).not.toContain(serverEndpoint), { timeout: 5_000, interval: 50 });
    expect(Date.now() - killedAt).toBeLessThan(2_000);
    await vi.waitFor(async () => expect(await sidecarsOf(names.server)).toEqual([]), { timeout: 20_000, interval: 500 });
  }, 60_000);
});
