import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addVethPair, describeWithNetworkNamespaces, type NamespaceProcess, NetworkNamespace } from '@weft/fixtures';
import { afterAll, beforeAll, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const PROXY_UID = 2102;
const OUTBOUND_PORT = 4240;
const INBOUND_PORT = 4243;
const ADMIN_PORT = 4291;
/** In B: a plain HTTP server, a TCP echo server, a server that speaks first (an opaque port). In A: the app, on loopback. */
const HTTP_PORT = 8080;
const ECHO_PORT = 7000;
const BANNER_PORT = 7001;
const APP_PORT = 9000;

/** The servers of host B: each answers with the client address it saw, so the test knows who connected. */
const REMOTE_HOST_SCRIPT = `
const http = require('node:http');
const net = require('node:net');
const [ip, httpPort, echoPort, bannerPort] = process.argv.slice(2);
const say = (event) => console.log(JSON.stringify(event));
const web = http.createServer((req, res) => res.end(JSON.stringify({ served: 'b', path: req.url, remote: req.socket.remoteAddress })));
const echo = net.createServer((socket) => { say({ event: 'echo-connection', remote: socket.remoteAddress }); socket.pipe(socket); });
const banner = net.createServer((socket) => socket.end('220 b ready\\r\\n'));
web.listen(Number(httpPort), ip, () => echo.listen(Number(echoPort), ip, () => banner.listen(Number(bannerPort), ip, () => say({ event: 'ready' }))));
`;

/** The app of workload A: HTTP on 127.0.0.1 only, so only the proxy's inbound side can reach it from B. */
const APP_SCRIPT = `
const http = require('node:http');
http.createServer((req, res) => res.end(JSON.stringify({ served: 'a', path: req.url, remote: req.socket.remoteAddress })))
  .listen(Number(process.argv[2]), '127.0.0.1', () => console.log(JSON.stringify({ event: 'ready' })));
`;

/** One client action, printed as JSON: an HTTP GET, a byte-exact echo round trip, or reading a server's first bytes. */
const CLIENT_SCRIPT = `
const http = require('node:http');
const net = require('node:net');
const crypto = require('node:crypto');
const [action, host, port, extra] = process.argv.slice(2);
const print = (value) => { console.log(JSON.stringify(value)); process.exit(0); };
if (action === 'get') {
  http.get({ host, port: Number(port), path: extra, agent: false }, (res) => {
    let body = '';
    res.setEncoding('utf8').on('data', (chunk) => (body += chunk)).on('end', () => print({ status: res.statusCode, body }));
  }).on('error', (error) => print({ error: error.message }));
} else if (action === 'echo') {
  const sent = Buffer.alloc(Number(extra));
  for (let i = 0; i < sent.length; i += 1) sent[i] = (i * 7 + (i >> 8)) & 0xff;
  const socket = net.connect(Number(port), host, () => socket.end(sent));
  const chunks = [];
  socket.on('data', (chunk) => chunks.push(chunk));
  socket.on('error', (error) => print({ error: error.message }));
  socket.on('close', () => {
    const received = Buffer.concat(chunks);
    const hash = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');
    print({ sent: sent.length, received: received.length, equal: received.equals(sent), sha: hash(received) === hash(sent) });
  });
} else if (action === 'banner') {
  const started = Date.now();
  const socket = net.connect(Number(port), host);
  socket.setEncoding('utf8').once('data', (text) => print({ text, ms: Date.now() - started }));
  socket.on('error', (error) => print({ error: error.message }));
}
`;

/** weft-init, as an image's init container runs it in the workload's namespace (built from apps/init). */
const WEFT_INIT_ARGS = ['--outbound-port', `${OUTBOUND_PORT}`, '--inbound-port', `${INBOUND_PORT}`, '--proxy-uid', `${PROXY_UID}`];

describeWithNetworkNamespaces('transparent mode between two network namespaces', { tools: ['iptables', 'setpriv'] }, () => {
  let dir = '';
  let workload: NetworkNamespace | undefined;
  let remote: NetworkNamespace | undefined;
  let proxy: NamespaceProcess | undefined;
  let remoteHost: NamespaceProcess | undefined;
  let weftInitOutput = '';
  // A random /24 per run, so parallel runs never share addresses (each namespace has its own stack anyway).
  const subnet = `10.250.${randomInt(1, 251)}`;
  const workloadIp = `${subnet}.1`;
  const remoteIp = `${subnet}.2`;

  const client = async (namespace: NetworkNamespace | undefined, ...args: string[]): Promise<Record<string, unknown>> => {
    if (namespace === undefined) throw new Error('the namespaces were not created');
    return JSON.parse(await namespace.exec(process.execPath, [join(dir, 'client.cjs'), ...args])) as Record<string, unknown>;
  };
  const metrics = async (): Promise<string> => {
    const answer = await client(workload, 'get', '127.0.0.1', `${ADMIN_PORT}`, '/metrics');
    return String(answer['body']);
  };

  beforeAll(async () => {
    // The proxy and weft-init run from their builds, as in an image: build what changed (fast when nothing did).
    execFileSync(join(REPO, 'node_modules/.bin/tsc'), ['-b', 'apps/proxy/tsconfig.lib.json', 'apps/init/tsconfig.lib.json'], { cwd: REPO, stdio: 'pipe' });
    dir = mkdtempSync(join(tmpdir(), 'weft-test-transparent-'));
    execFileSync('chmod', ['755', dir]);
    writeFileSync(join(dir, 'remote-host.cjs'), REMOTE_HOST_SCRIPT);
    writeFileSync(join(dir, 'app.cjs'), APP_SCRIPT);
    writeFileSync(join(dir, 'client.cjs'), CLIENT_SCRIPT);

    workload = NetworkNamespace.create('tp-a');
    remote = NetworkNamespace.create('tp-b');
    addVethPair({ namespace: workload, link: 'weft-a', addresses: [`${workloadIp}/24`] }, { namespace: remote, link: 'weft-b', addresses: [`${remoteIp}/24`] });

    remoteHost = remote.start(process.execPath, [join(dir, 'remote-host.cjs'), remoteIp, `${HTTP_PORT}`, `${ECHO_PORT}`, `${BANNER_PORT}`]);
    const app = workload.start(process.execPath, [join(dir, 'app.cjs'), `${APP_PORT}`]);
    await Promise.all([remoteHost.waitFor('"ready"'), app.waitFor('"ready"')]);

    // OUTPUT -> WEFT_OUTPUT (the proxy's uid and loopback return, other TCP to the outbound port); PREROUTING ->
    // WEFT_INBOUND (TCP to the inbound port).
    weftInitOutput = await workload.exec(process.execPath, [join(REPO, 'apps/init/dist/main.js'), ...WEFT_INIT_ARGS]);

    const env = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      WEFT_NODE: process.execPath,
      WEFT_PROXY_OUTBOUND_ADDR: `127.0.0.1:${OUTBOUND_PORT}`,
      WEFT_PROXY_INBOUND_ADDR: `0.0.0.0:${INBOUND_PORT}`,
      WEFT_PROXY_ADMIN_ADDR: `127.0.0.1:${ADMIN_PORT}`,
      WEFT_PROXY_TAP_ADDR: '127.0.0.1:4290',
      WEFT_PROXY_INBOUND_APP_ADDR: `127.0.0.1:${APP_PORT}`,
      WEFT_PROXY_OPAQUE_PORTS: `${BANNER_PORT}`,
      WEFT_PROXY_SHUTDOWN_GRACE_PERIOD: '1s',
    };
    // `ip netns exec` needs root; setpriv then drops to the proxy's uid, which the OUTPUT rules let through.
    const launcher = ['--reuid', `${PROXY_UID}`, '--regid', `${PROXY_UID}`, '--clear-groups', join(REPO, 'apps/proxy/bin/weft-proxy')];
    proxy = workload.start('setpriv', launcher, { env });
    await proxy.waitFor('"event":"started"');
  }, 240_000);

  afterAll(async () => {
    // Stops the proxy, the app and the remote host, then deletes the namespaces (and with them the veths and rules).
    await Promise.all([workload?.remove(), remote?.remove()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('has weft-init write the interception rules in the workload namespace', async () => {
    expect(weftInitOutput).toContain(`--uid-owner ${PROXY_UID}`);
    const rules = await workload?.exec('iptables', ['-t', 'nat', '-S']);
    expect(rules).toMatch(new RegExp(`-A WEFT_OUTPUT .*-j REDIRECT --to-ports ${OUTBOUND_PORT}`));
    expect(rules).toMatch(new RegExp(`-A WEFT_INBOUND .*-j REDIRECT --to-ports ${INBOUND_PORT}`));
  });

  it('runs the proxy as its own uid in the workload namespace', () => {
    const pid = proxy?.child.pid;
    expect(pid).toBeDefined();
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(status).toMatch(new RegExp(`^Uid:\\s+${PROXY_UID}\\s`, 'm'));
  });

  it('carries an HTTP request from the workload to the remote host, counted with the original destination', async () => {
    const answer = await client(workload, 'get', remoteIp, `${HTTP_PORT}`, '/books/1');
    expect(answer['status']).toBe(200);
    // The remote server sees the workload's address: the proxy connected from there, not from loopback.
    expect(JSON.parse(String(answer['body']))).toEqual({ served: 'b', path: '/books/1', remote: workloadIp });
    const text = await metrics();
    const target = `target_addr="${remoteIp}:${HTTP_PORT}"`;
    expect(text).toMatch(new RegExp(`^request_total\\{[^}]*direction="outbound"[^}]*${target}[^}]*\\} 1$`, 'm'));
    expect(text).toMatch(new RegExp(`^response_total\\{[^}]*direction="outbound"[^}]*${target}[^}]*classification="success"[^}]*\\} 1$`, 'm'));
    expect(text).toMatch(new RegExp(`^tcp_open_total\\{[^}]*direction="outbound"[^}]*${target}[^}]*\\} 1$`, 'm'));
  });

  it('relays opaque TCP byte for byte to the remote host, which sees the workload address', async () => {
    const answer = await client(workload, 'echo', remoteIp, `${ECHO_PORT}`, `${512 * 1024}`);
    expect(answer).toEqual({ sent: 512 * 1024, received: 512 * 1024, equal: true, sha: true });
    await expect.poll(() => remoteHost?.output() ?? '').toContain(JSON.stringify({ event: 'echo-connection', remote: workloadIp }));
    const text = await metrics();
    const labels = `[^}]*direction="outbound"[^}]*target_addr="${remoteIp}:${ECHO_PORT}"[^}]*`;
    expect(text).toMatch(new RegExp(`^tcp_open_total\\{${labels}\\} 1$`, 'm'));
    expect(text).toMatch(new RegExp(`^tcp_read_bytes_total\\{${labels}\\} ${512 * 1024}$`, 'm'));
  });

  it('checks the opaque ports against the original destination port, so a server that speaks first is not held', async () => {
    const answer = await client(workload, 'banner', remoteIp, `${BANNER_PORT}`);
    expect(answer['text']).toBe('220 b ready\r\n');
    // Detection would have waited for the client's first bytes until its 10 s timeout.
    expect(Number(answer['ms'])).toBeLessThan(5_000);
    expect(await metrics()).toMatch(new RegExp(`^tcp_open_total\\{[^}]*target_addr="${remoteIp}:${BANNER_PORT}"[^}]*\\} 1$`, 'm'));
  });

  it('forwards a connection redirected to the inbound listener to the app port it was for', async () => {
    const answer = await client(remote, 'get', workloadIp, `${APP_PORT}`, '/hello');
    expect(answer['status']).toBe(200);
    // The app listens on 127.0.0.1 only: the proxy's inbound side reached it there.
    expect(JSON.parse(String(answer['body']))).toEqual({ served: 'a', path: '/hello', remote: '127.0.0.1' });
    expect(await metrics()).toMatch(new RegExp(`^request_total\\{[^}]*direction="inbound"[^}]*target_addr="127.0.0.1:${APP_PORT}"[^}]*\\} 1$`, 'm'));
  });
});
