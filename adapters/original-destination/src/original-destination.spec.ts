import { existsSync } from 'node:fs';
import { connect, createServer, type Server, Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ORIGINAL_DESTINATION_ADDON_PATH, originalDestination } from './original-destination.js';

/** A loopback server on `host` and one client; resolves with the server's end of the connection. */
async function acceptedOn(host: string, servers: Server[], clients: Socket[]): Promise<Socket> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the server has no port');
  const client = connect(address.port, host);
  client.on('error', () => undefined);
  clients.push(client);
  return accepted;
}

/** Whether this host has an IPv6 loopback to listen on. */
async function hasIpv6Loopback(): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}

describe('originalDestination', () => {
  const servers: Server[] = [];
  const clients: Socket[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('is built where the wrapper looks for it', () => {
    expect(existsSync(ORIGINAL_DESTINATION_ADDON_PATH), `${ORIGINAL_DESTINATION_ADDON_PATH} is missing`).toBe(true);
    expect(ORIGINAL_DESTINATION_ADDON_PATH).toMatch(/original-destination\/build\/Release\/original_destination\.node$/);
  });

  // Linux answers a connection that no NAT rule touched in one of two ways: with conntrack tracking it (any iptables
  // rule using conntrack in the namespace), the original destination is the socket's own local address; without, there
  // is no entry (ENOENT). Either way the connection is not reported as going anywhere else.
  it.each(['127.0.0.1', '::1'])('answers a plain %s connection with its own address or "not redirected"', async (host) => {
    if (host === '::1' && !(await hasIpv6Loopback())) return;
    const socket = await acceptedOn(host, servers, clients);
    const result = originalDestination(socket);
    if (result.ok) {
      expect(result.value).toEqual({ ip: socket.localAddress, port: socket.localPort });
    } else {
      expect(result.error.reason).toBe('not-redirected');
      expect(result.error.code).toBe('ENOENT');
      expect(result.error.message).toMatch(/not redirected.*ENOENT/);
    }
  });

  it('gives the same answer for the client end of the connection', async () => {
    const accepted = await acceptedOn('127.0.0.1', servers, clients);
    const client = clients[0];
    if (client === undefined) throw new Error('no client');
    const result = originalDestination(client);
    // Conntrack's original tuple is the client's: its destination is the server's address.
    if (result.ok) expect(result.value).toEqual({ ip: '127.0.0.1', port: accepted.localPort });
    else expect(result.error.reason).toBe('not-redirected');
  });

  it('reports a closed socket as having no descriptor, without throwing', async () => {
    const socket = await acceptedOn('127.0.0.1', servers, clients);
    socket.destroy();
    await new Promise((resolve) => socket.once('close', resolve));
    const result = originalDestination(socket);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ name: 'OriginalDestinationError', reason: 'no-descriptor', code: 'ENOFD' });
  });

  it('reports a socket that was never connected as having no descriptor', () => {
    const result = originalDestination(new Socket());
    expect(result.ok ? 'ok' : result.error.reason).toBe('no-descriptor');
  });
});

describe('originalDestination without its addon', () => {
  afterEach(() => {
    vi.doUnmock('node:module');
    vi.resetModules();
  });

  it('answers "addon-unavailable" naming the file and the build command, and importing does not fail', async () => {
    vi.resetModules();
    vi.doMock('node:module', () => ({
      createRequire: () => () => {
        throw new Error(`Cannot find module '${ORIGINAL_DESTINATION_ADDON_PATH}'`);
      },
    }));
    const fresh = await import('./original-destination.js');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const client = connect(port, '127.0.0.1');
    try {
      const result = fresh.originalDestination(await accepted);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.reason).toBe('addon-unavailable');
      expect(result.error.code).toBe('EADDON');
      expect(result.error.message).toContain(ORIGINAL_DESTINATION_ADDON_PATH);
      expect(result.error.message).toContain('cd adapters/original-destination && npm run install');
      expect(fresh.loadOriginalDestinationAddon()).toEqual({ ok: false, error: result.error });
    } finally {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
