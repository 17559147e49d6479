import { connect, createServer, type Server, type Socket } from 'node:net';
import { OriginalDestinationError } from '@weft/adapter-original-destination';
import { err, ok, type SocketAddress } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { TransportEvent } from '../transport/transport-log.js';
import { redirectedDestinationReader } from './redirected-destination.js';

describe('redirectedDestinationReader', () => {
  const servers: Server[] = [];
  const clients: Socket[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  async function accepted(host = '127.0.0.1'): Promise<Socket> {
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const socket = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const client = connect((server.address() as { port: number }).port, host === '::' ? '127.0.0.1' : host);
    client.on('error', () => undefined);
    clients.push(client);
    return socket;
  }

  const answering = (answer: SocketAddress | OriginalDestinationError) => () =>
    answer instanceof OriginalDestinationError ? err(answer) : ok(answer);

  it('gives the original destination of a connection that was headed elsewhere', async () => {
    const read = redirectedDestinationReader(undefined, answering({ ip: '10.250.0.9', port: 80 }));
    expect(read(await accepted())).toEqual({ ip: '10.250.0.9', port: 80 });
  });

  it('treats the socket\'s own address as "not redirected", IPv4-mapped sockets included', async () => {
    const socket = await accepted('::');
    expect(socket.localAddress).toBe('::ffff:127.0.0.1');
    const read = redirectedDestinationReader(undefined, answering({ ip: '127.0.0.1', port: socket.localPort ?? 0 }));
    expect(read(socket)).toBeUndefined();
    const otherPort = redirectedDestinationReader(undefined, answering({ ip: '127.0.0.1', port: (socket.localPort ?? 0) + 1 }));
    expect(otherPort(socket)).toEqual({ ip: '127.0.0.1', port: (socket.localPort ?? 0) + 1 });
  });

  it('treats "not redirected" as a connection made to the listener, without a log line', async () => {
    const events: TransportEvent[] = [];
    const read = redirectedDestinationReader((event) => events.push(event), answering(new OriginalDestinationError('not-redirected', 'ENOENT', 'no entry')));
    expect(read(await accepted())).toBeUndefined();
    expect(events).toEqual([]);
  });

  it('logs a missing addon once, naming it, and stops asking', async () => {
    const events: TransportEvent[] = [];
    let asked = 0;
    const missing = new OriginalDestinationError('addon-unavailable', 'EADDON', 'the original-destination addon is not available: /x/original_destination.node');
    const read = redirectedDestinationReader((event) => events.push(event), () => {
      asked += 1;
      return err(missing);
    });
    const socket = await accepted();
    expect([read(socket), read(socket), read(socket)]).toEqual([undefined, undefined, undefined]);
    expect(asked).toBe(1);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ event: 'original_destination_unavailable', errno: 'EADDON' });
    expect(events[0]?.message).toContain('original_destination.node');
  });

  it('logs other failures of the lookup per connection', async () => {
    const events: TransportEvent[] = [];
    const read = redirectedDestinationReader((event) => events.push(event), answering(new OriginalDestinationError('system', 'EINVAL', 'reading the original destination failed (EINVAL)')));
    expect(read(await accepted())).toBeUndefined();
    expect(events).toEqual([{ event: 'original_destination_failed', message: 'reading the original destination failed (EINVAL)', errno: 'EINVAL' }]);
  });

  it('reads real sockets through the addon: a plain loopback connection is not redirected', async () => {
    expect(redirectedDestinationReader()(await accepted())).toBeUndefined();
  });
});
