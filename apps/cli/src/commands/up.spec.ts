import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliCommands } from '../cli-command.js';
import { createCliContainer } from '../cli-container.js';
import { runCli } from '../run-cli.js';
import { freeLoopbackPorts } from '../up/free-ports.js';
import { prepareStateFolder } from '../up/state-folder.js';
import { weftPaths } from '../up/weft-paths.js';
import { upCommand, type UpCommandOptions } from './up.js';

const fixtures = fileURLToPath(new URL('../up/fixtures/', import.meta.url));
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-cli-up-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function weft(argv: string[], options: UpCommandOptions = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const commands = [upCommand({ handleSignals: false, interactive: false, cwd: dir, ...options })];
  const code = await runCli(argv, commands, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A repository whose control plane and proxy are the stand-ins of fixtures/, so the run needs no build. */
async function fakeRepo(): Promise<string> {
  const root = join(dir, 'repo');
  await mkdir(join(root, 'apps/control/dist'), { recursive: true });
  await mkdir(join(root, 'apps/proxy/dist'), { recursive: true });
  await mkdir(join(root, 'apps/proxy/bin'), { recursive: true });
  await writeFile(join(root, 'package.json'), '{ "type": "module" }\n');
  await copyFile(join(fixtures, 'fake-control.mjs'), join(root, 'apps/control/dist/main.js'));
  await copyFile(join(fixtures, 'fake-proxy.mjs'), join(root, 'apps/proxy/dist/main.js'));
  await copyFile(join(fixtures, 'fake-proxy-launcher.sh'), join(root, 'apps/proxy/bin/weft-proxy'));
  await chmod(join(root, 'apps/proxy/bin/weft-proxy'), 0o755);
  return root;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('weft up: command line and mesh file', () => {
  it('is listed in the command list and has a usage', async () => {
    const commands = createCliContainer('1.2.3').get<CliCommands>(CliCommands);
    const out: string[] = [];
    await runCli([], commands, { out: (line) => out.push(line), err: () => undefined });
    expect(out.join('\n')).toMatch(/up\s+run a whole mesh on this machine/);
    const help = await weft(['up', '--help']);
    expect(help.out).toMatch(/^Usage: weft up \[mesh\.yaml\] \[--state-dir DIR\] \[--grpc-port N\] \[--no-table\] \[--duration D\]/);
  });

  it.each([
    [['--grpc-port', '0'], '--grpc-port "0" is not a port'],
    [['--grpc-port', '70000'], '--grpc-port "70000" is not a port'],
    [['--duration', 'soon'], '--duration invalid duration "soon"'],
    [['--duration', '0'], 'must be longer than 0'],
    [['a.yaml', 'b.yaml'], 'got another argument "b.yaml"'],
    [['--tabel'], 'unknown option "--tabel"'],
  ])('exits 2 on the usage error %j', async (args, message) => {
    const result = await weft(['up', ...args]);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
    expect(result.err).toContain('weft up --help');
  });

  it('exits 2 on a bad mesh file, naming the file, line, column and field, and starts nothing', async () => {
    const file = join(dir, 'mesh.yaml');
    await writeFile(file, 'apiVersion: weft.io/v1\nservices:\n  - name: web\n    ports: [70000]\n');
    const result = await weft(['up', 'mesh.yaml', '--state-dir', join(dir, 'state')]);
    expect(result.code).toBe(2);
    expect(result.err).toContain(`${file}:4:13 services[0].ports[0]: is 70000; the largest allowed is 65535`);
    expect(result.err).toContain('nothing was started');
    await expect(readdir(join(dir, 'state'))).rejects.toThrow(/ENOENT/);
  });

  it('exits 2 when the mesh file cannot be read', async () => {
    const result = await weft(['up', 'missing.yaml', '--state-dir', join(dir, 'state')]);
    expect(result.code).toBe(2);
    expect(result.err).toContain(`${join(dir, 'missing.yaml')}:1:1: cannot be read`);
  });

  it('runs the built-in demo of the repository when given no file', async () => {
    const result = await weft(['up', '--state-dir', join(dir, 'state')], { paths: weftPaths(join(dir, 'no-repo')) });
    expect(result.code).toBe(2);
    expect(result.err).toContain(join(dir, 'no-repo/apps/demo/mesh.yaml'));
  });

  it('exits 1 when the mesh file launches nothing', async () => {
    await writeFile(join(dir, 'mesh.yaml'), 'apiVersion: weft.io/v1\nservices:\n  - name: db\n    ports: [5432]\n    instances: [{ address: 10.0.0.1:5432 }]\n');
    const result = await weft(['up', 'mesh.yaml', '--state-dir', join(dir, 'state')]);
    expect(result.code).toBe(1);
    expect(result.err).toContain('has no instance with a command');
  });

  it('exits 1 naming what is not built, with the command that builds it', async () => {
    await writeFile(join(dir, 'mesh.yaml'), 'apiVersion: weft.io/v1\nservices:\n  - name: web\n    ports: [80]\n    instances: [{ command: [node, web.js], port: 7001 }]\n');
    const result = await weft(['up', 'mesh.yaml', '--state-dir', join(dir, 'state')], { paths: weftPaths(join(dir, 'empty-repo')) });
    expect(result.code).toBe(1);
    expect(result.err).toContain(`the control plane (${join(dir, 'empty-repo/apps/control/dist/main.js')})`);
    expect(result.err).toContain('npx tsc -b apps/control/tsconfig.lib.json apps/proxy/tsconfig.lib.json');
  });

  it('exits 1 naming each fixed port that is in use', async () => {
    const [port = 0] = await freeLoopbackPorts(1);
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      await writeFile(join(dir, 'mesh.yaml'), `apiVersion: weft.io/v1\nservices:\n  - name: web\n    ports: [80]\n    instances: [{ command: [node, web.js], port: ${port} }]\n`);
      const result = await weft(['up', 'mesh.yaml', '--state-dir', join(dir, 'state')], { paths: weftPaths(await fakeRepo()) });
      expect(result.code).toBe(1);
      expect(result.err).toContain(`port ${port} for the app of default/web-0 is in use on 127.0.0.1`);
    } finally {
      blocker.close();
    }
  });
});

describe('weft up: the state folder', () => {
  it('exits 1 when the state folder holds an anchor for another trust domain', async () => {
    const state = join(dir, 'state');
    await prepareStateFolder(state, 'example.org', Date.now());
    const [port] = await freeLoopbackPorts(1);
    await writeFile(join(dir, 'mesh.yaml'), `apiVersion: weft.io/v1\nservices:\n  - name: web\n    ports: [80]\n    instances: [{ command: [node, web.js], port: ${port} }]\n`);
    const result = await weft(['up', 'mesh.yaml', '--state-dir', state], { paths: weftPaths(await fakeRepo()) });
    expect(result.code).toBe(1);
    expect(result.err).toContain(`weft up: the trust anchor ${join(state, 'ca.crt')} is for spiffe://example.org, not spiffe://cluster.local`);
  });
});

describe('weft up: a run with stand-ins for the control plane and the proxy', () => {
  it('starts everything, reports where, shows figures and restarts, and stops leaving no process', { timeout: 30_000 }, async () => {
    const repo = await fakeRepo();
    const record = join(dir, 'record');
    await mkdir(record);
    const [webPort, grpcPort, flakyPort] = await freeLoopbackPorts(3);
    const mesh = `apiVersion: weft.io/v1
namespaces: [shop]
services:
  - name: web
    namespace: shop
    ports: [{ port: 8080, protocol: http1 }]
    instances:
      - command: [node, ${join(fixtures, 'hello-server.mjs')}]
        port: ${webPort}
        env: { NAME: web }
  - name: flaky
    namespace: shop
    ports: [9000]
    instances:
      - command: [node, -e, "setTimeout(() => process.exit(1), 200)"]
        port: ${flakyPort}
        upstreams: [{ service: "web", env: WEB_ADDR }]
`;
    await writeFile(join(dir, 'mesh.yaml'), mesh);
    const state = join(dir, 'state');
    const result = await weft(['up', 'mesh.yaml', '--state-dir', state, '--grpc-port', String(grpcPort), '--duration', '4s', '--no-table'], {
      paths: weftPaths(repo),
      env: { ...process.env, FAKE_RECORD: record },
      refreshMs: 1_000,
    });
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toContain('weft up: mesh.yaml (trust domain cluster.local), state in state');
    expect(result.out).toContain('  made state/ca.crt');
    expect(result.out).toMatch(new RegExp(`control plane   gRPC 127\\.0\\.0\\.1:${grpcPort}   admin http://127\\.0\\.0\\.1:\\d+   log state/logs/control-plane\\.log   pid \\d+`));
    expect(result.out).toContain(`  app       127.0.0.1:${webPort}   log state/logs/shop.web-0.app.log`);
    expect(result.out).toMatch(/ {2}upstream {2}WEB_ADDR=127\.0\.0\.1:\d+ -> web\.shop\.svc\.cluster\.local:8080/);
    expect(result.out).toMatch(/Entry points[^\n]*\n {2}web\.shop\.svc\.cluster\.local:8080 {2}curl http:\/\/127\.0\.0\.1:\d+\/ {3}\(http1, via shop\/flaky-0\)/);
    expect(result.out).toMatch(/shop\/flaky-0 app exited with code 1; restarting in 0\.5s \(log: state\/logs\/shop\.flaky-0\.app\.log\)/);
    expect(result.out).toMatch(/\] shop\/web success=100\.00% rps=\d+\.\d p50=\d\.\dms p95=\d\.\dms p99=\d\.\dms tcp=1 mtls=100% instances: web-0 up/);
    expect(result.out).toMatch(/\] shop\/flaky success=.* instances: flaky-0 (restarting \(app, \d+ restarts?\)|up \(\d+ restarts?\))/);
    expect(result.out).toContain('weft up: stopped; the logs stay in state/logs');

    const controls = (await readdir(record)).filter((name) => name.startsWith('control-'));
    expect(controls).toHaveLength(1);
    const control = JSON.parse(await readFile(join(record, controls[0] ?? ''), 'utf8')) as { args: string[] };
    expect(control.args).toEqual([
      '--orchestrator', 'file',
      '--mesh-file', join(state, 'mesh.effective.yaml'),
      '--grpc-addr', `127.0.0.1:${grpcPort}`,
      '--admin-addr', expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      '--identity-dir', state,
      '--token-key', join(state, 'token.key'),
      '--trust-domain', 'cluster.local',
    ]);
    const effective = await readFile(join(state, 'mesh.effective.yaml'), 'utf8');
    expect(effective).toMatch(/proxy:\s*\n?\s*inboundPort: \d+/);

    const webProxy = (await readdir(record)).find((name) => name.startsWith('proxy-shop.web-0-')) ?? '';
    const { env } = JSON.parse(await readFile(join(record, webProxy), 'utf8')) as { env: Record<string, string> };
    expect(env['WEFT_PROXY_CONTROL_ADDR']).toBe(`127.0.0.1:${grpcPort}`);
    expect(env['WEFT_PROXY_IDENTITY_ADDR']).toBe(`127.0.0.1:${grpcPort}`);
    expect(env['WEFT_PROXY_INBOUND_APP_ADDR']).toBe(`127.0.0.1:${webPort}`);
    expect(env['WEFT_PROXY_IDENTITY_TRUST_ANCHORS_FILE']).toBe(join(state, 'ca.crt'));
    expect(env['WEFT_NODE']).toBe(process.execPath);
    const claims = JSON.parse(Buffer.from((env['WEFT_PROXY_IDENTITY_TOKEN'] ?? '').split('.')[1] ?? '', 'base64url').toString()) as { sub: string };
    expect(claims.sub).toBe('spiffe://cluster.local/ns/shop/sa/web');

    const pids = [...result.out.matchAll(/pid (\d+)/g)].map((match) => Number(match[1]));
    expect(pids.length).toBeGreaterThanOrEqual(4);
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
  });

  it('gives up with the log of a control plane that keeps dying, and leaves no process', { timeout: 30_000 }, async () => {
    const repo = await fakeRepo();
    await writeFile(join(repo, 'apps/control/dist/main.js'), 'console.error("weft-control: unknown option \\"--mesh-file\\""); process.exit(2);\n');
    const [webPort, grpcPort] = await freeLoopbackPorts(2);
    await writeFile(join(dir, 'mesh.yaml'), `apiVersion: weft.io/v1\nservices:\n  - name: web\n    ports: [80]\n    instances: [{ command: [node, ${join(fixtures, 'hello-server.mjs')}], port: ${webPort} }]\n`);
    const result = await weft(['up', 'mesh.yaml', '--state-dir', join(dir, 'state'), '--grpc-port', String(grpcPort)], { paths: weftPaths(repo) });
    expect(result.code).toBe(1);
    // At least START_ATTEMPTS (3) exits; readiness is polled, so one more may have happened by the time it gives up.
    expect(result.err).toMatch(/weft up: the control plane is not ready: it exited [34] times/);
    expect(result.err).toContain(`last lines of ${join(dir, 'state/logs/control-plane.log')}:`);
    expect(result.err).toContain('  | weft-control: unknown option "--mesh-file"');
  });
});
