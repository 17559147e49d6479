import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPorts } from './free-ports.js';
import { parsePrometheusText } from './prometheus-text.js';
import { alive, buildWithTsc, CLI_MAIN, get, printedPids, stopLeftovers, waitForOutput } from './weft-up-process.spec-helper.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

describe('weft up (built control plane, proxies and CLI)', () => {
  let dir: string;
  let weftUp: ChildProcess | undefined;
  let stdout = '';
  let stderr = '';

  beforeAll(() => {
    buildWithTsc(['apps/control/tsconfig.lib.json', 'apps/proxy/tsconfig.lib.json', 'apps/cli/tsconfig.lib.json']);
  }, 300_000);

  // After a failure: stop weft up as a user would, then make sure nothing it started is left.
  afterAll(async () => {
    await stopLeftovers(weftUp, stdout);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('starts a two-service mesh, carries a request over mTLS, shows it, and stops leaving no process', { timeout: 180_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-up-e2e-'));
    const [helloPort = 0, callerPort = 0, helloInbound = 0, grpcPort = 0] = await freeLoopbackPorts(4);
    const mesh = `apiVersion: weft.io/v1
namespaces: [e2e]
services:
  - name: hello
    namespace: e2e
    ports: [{ port: 8080, protocol: http1 }]
    instances:
      - command: [node, ${join(fixtures, 'hello-server.mjs')}]
        port: ${helloPort}
        env: { NAME: hello }
        proxy: { inboundPort: ${helloInbound} }
  - name: caller
    namespace: e2e
    ports: [{ port: 8080, protocol: http1 }]
    instances:
      - command: [node, ${join(fixtures, 'calling-server.mjs')}]
        port: ${callerPort}
        upstreams: [{ service: hello, env: HELLO_ADDR }]
`;
    await writeFile(join(dir, 'mesh.yaml'), mesh);
    const state = join(dir, 'state');
    const args = ['up', 'mesh.yaml', '--state-dir', state, '--grpc-port', String(grpcPort), '--no-table', '--duration', '150s'];
    weftUp = spawn(process.execPath, [CLI_MAIN, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    weftUp.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    weftUp.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const child = weftUp;
    const output = () => `${stdout}\n--- stderr:\n${stderr}`;

    await waitForOutput(child, output, /Running for 2m30s/, 120_000);
    const upstreamPort = Number(stdout.match(/upstream {2}HELLO_ADDR=127\.0\.0\.1:(\d+) -> hello\.e2e\.svc\.cluster\.local:8080/)?.[1]);
    const helloAdmin = Number(stdout.match(/e2e\/hello-0\n {2}app[^\n]*\n {2}proxy {5}inbound 127\.0\.0\.1:\d+ {3}admin http:\/\/127\.0\.0\.1:(\d+)/)?.[1]);
    expect(upstreamPort, output()).toBeGreaterThan(0);
    expect(helloAdmin, output()).toBeGreaterThan(0);
    expect(stdout).toMatch(/Entry points[^\n]*\n {2}hello\.e2e\.svc\.cluster\.local:8080 {2}curl http:\/\/127\.0\.0\.1:\d+\/ {3}\(http1, via e2e\/caller-0\)/);

    // Through the caller's proxy (its upstream port) to hello's proxy and app.
    const direct = await get(upstreamPort, '/through-the-mesh');
    expect(direct, output()).toEqual({ status: 200, body: JSON.stringify({ from: 'hello', path: '/through-the-mesh' }) });
    // The caller app reaches hello through the same upstream port, told by HELLO_ADDR.
    const called = await get(callerPort, '/called');
    expect(called.status, called.body).toBe(200);
    expect(JSON.parse(called.body)).toEqual({ from: 'caller', hello: JSON.stringify({ from: 'hello', path: '/called' }) });

    const metrics = parsePrometheusText((await get(helloAdmin, '/metrics')).body);
    const inbound = metrics.filter((sample) => sample.name === 'response_total' && sample.labels['direction'] === 'inbound');
    const overMtls = inbound.filter((sample) => sample.labels['tls'] === 'true').reduce((sum, sample) => sum + sample.value, 0);
    const tlsLabels = [...new Set(inbound.map((sample) => `tls=${sample.labels['tls']}`))];
    expect(overMtls, `inbound responses at hello's proxy by tls label: ${tlsLabels.join(', ')}`).toBeGreaterThanOrEqual(2);
    expect(inbound.find((sample) => sample.labels['tls'] === 'true')?.labels['client_id']).toBe('caller.e2e.serviceaccount.identity.weft.cluster.local');

    // The live lines show the requests, all successful and over mTLS.
    for (let i = 0; i < 5; i++) await get(upstreamPort, `/again-${i}`);
    await waitForOutput(child, output, /\] e2e\/hello success=100\.00% rps=\d+\.\d p50=[^ ]+ p95=[^ ]+ p99=[^ ]+ tcp=\d+ mtls=100% instances: hello-0 up/, 30_000);

    const pids = printedPids(stdout);
    expect(pids).toHaveLength(5); // the control plane, two apps, two proxies
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(true);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited, output()).toBe(0);
    expect(stdout).toContain('weft up: stopped; the logs stay in state/logs');
    for (const pid of pids) expect(alive(pid), `pid ${pid} is still running`).toBe(false);
  });
});
