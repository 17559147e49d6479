import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addVethPair, describeWithNetworkNamespaces, NetworkNamespace, networkNamespaceProblem } from '@weft/fixtures';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { originalDestination } from './original-destination.js';

/**
 * Runs inside the namespace: servers on 127.0.0.1:4240 (IPv4) and [::]:4241 (dual stack), and on each request of the
 * test, one client connection; the server's end of it is handed to the test over the IPC channel (SCM_RIGHTS), so the
 * test reads its original destination with the wrapper under test while the connection lives in the namespace.
 */
const NAMESPACE_SCRIPT = `
const net = require('node:net');
const clients = [];
let label = '';
const hand = (socket) => process.send({ label }, socket);
const v4 = net.createServer({ pauseOnConnect: true }, hand);
const dual = net.createServer({ pauseOnConnect: true }, hand);
v4.listen(4240, '127.0.0.1', () => dual.listen({ port: 4241, host: '::', ipv6Only: false }, () => process.send({ ready: true })));
process.on('message', (request) => {
  label = request.label;
  const client = net.connect(request.port, request.host);
  client.on('error', (error) => process.send({ label, error: error.message }));
  clients.push(client);
});
process.on('disconnect', () => process.exit(0));
`;

const hasIp6tables = networkNamespaceProblem(['ip6tables']) === undefined;

describeWithNetworkNamespaces('original destination in a network namespace', { tools: ['iptables'] }, () => {
  let namespace: NetworkNamespace | undefined;
  let child: ChildProcess | undefined;
  let dir: string | undefined;
  const handed = new Map<string, (message: { socket?: Socket; error?: string }) => void>();
  const sockets: Socket[] = [];

  beforeAll(async () => {
    namespace = NetworkNamespace.create('od');
    // A route to 10.250.0.9 (and fd00:250::9): a veth pair with both ends in the namespace (no dummy module needed).
    addVethPair({ namespace, link: 'weft0', addresses: ['10.250.0.1/24', 'fd00:250::1/64'] }, { namespace, link: 'weft1' });
    dir = mkdtempSync(join(tmpdir(), 'weft-test-od-'));
    const script = join(dir, 'namespace-side.cjs');
    writeFileSync(script, NAMESPACE_SCRIPT);
    const started = namespace.start(process.execPath, [script], { ipc: true });
    child = started.child;
    await new Promise<void>((resolve, reject) => {
      started.child.once('exit', (code) => reject(new Error(`the namespace side exited ${code} before it was ready:\n${started.output()}`)));
      started.child.on('message', (message: { ready?: boolean; label?: string; error?: string }, socket?: Socket) => {
        if (message.ready) resolve();
        if (socket) sockets.push(socket);
        if (message.label !== undefined) handed.get(message.label)?.({ ...(socket ? { socket } : {}), ...(message.error ? { error: message.error } : {}) });
      });
    });
  }, 30_000);

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    // Stops the namespace side too.
    await namespace?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Has the namespace side connect to host:port and resolves with the server's end of that connection. */
  function acceptedFrom(label: string, host: string, port: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no connection to ${host}:${port} was accepted`)), 5_000);
      handed.set(label, ({ socket, error }) => {
        clearTimeout(timer);
        if (socket) resolve(socket);
        else reject(new Error(`connecting to ${host}:${port} failed: ${error}`));
      });
      child?.send({ label, host, port });
    });
  }

  function nat(tool: 'iptables' | 'ip6tables', destination: string, port: number, toPort: number): void {
    namespace?.run(tool, ['-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-d', destination, '--dport', `${port}`, '-j', 'REDIRECT', '--to-port', `${toPort}`]);
  }

  // Ordered: the first test runs before any rule exists in the namespace; the next ones add the rules.
  it('answers "not redirected" in a namespace without NAT rules (conntrack does not track it)', async () => {
    const socket = await acceptedFrom('fresh', '127.0.0.1', 4240);
    const result = originalDestination(socket);
    expect(result.ok ? result.value : result.error.reason).toBe('not-redirected');
  });

  it('recovers 10.250.0.9:80 from a connection an iptables REDIRECT rule sent to 127.0.0.1:4240', async () => {
    nat('iptables', '10.250.0.9', 80, 4240);
    const socket = await acceptedFrom('redirected', '10.250.0.9', 80);
    expect({ ip: socket.localAddress, port: socket.localPort }).toEqual({ ip: '127.0.0.1', port: 4240 });
    expect(originalDestination(socket)).toEqual({ ok: true, value: { ip: '10.250.0.9', port: 80 } });
    expect(namespace?.run('iptables', ['-t', 'nat', '-S', 'OUTPUT'])).toContain('10.250.0.9');
  });

  it('answers a direct connection, tracked now that NAT is on, with its own local address', async () => {
    const socket = await acceptedFrom('direct', '127.0.0.1', 4240);
    expect(originalDestination(socket)).toEqual({ ok: true, value: { ip: '127.0.0.1', port: 4240 } });
  });

  it('reads IPv4 connections accepted by a dual-stack socket (IPv4-mapped addresses)', async () => {
    nat('iptables', '10.250.0.9', 81, 4241);
    const socket = await acceptedFrom('mapped', '10.250.0.9', 81);
    expect(socket.localAddress).toBe('::ffff:127.0.0.1');
    expect(originalDestination(socket)).toEqual({ ok: true, value: { ip: '10.250.0.9', port: 81 } });
  });

  it.skipIf(!hasIp6tables)('recovers an IPv6 original destination through ip6tables REDIRECT', async () => {
    nat('ip6tables', 'fd00:250::9', 80, 4241);
    const socket = await acceptedFrom('ipv6', 'fd00:250::9', 80);
    expect(socket.localAddress).toBe('::1');
    expect(originalDestination(socket)).toEqual({ ok: true, value: { ip: 'fd00:250::9', port: 80 } });
  });
});
