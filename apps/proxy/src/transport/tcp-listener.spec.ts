import { InMemoryProxyMetrics } from '@weft/adapter-memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LoopbackPeers, transcriptOf } from './loopback-peers.spec-helper.js';
import { type AcceptedConnection, TcpListener } from './tcp-listener.js';

describe('TcpListener', () => {
  const peers = new LoopbackPeers();
  afterEach(() => peers.closeAll());

  async function listening(onConnection: (connection: AcceptedConnection) => void, authority?: string) {
    const metrics = new InMemoryProxyMetrics();
    const listener = await TcpListener.listen({
      address: { ip: '127.0.0.1', port: 0 },
      direction: 'outbound',
      metrics,
      ...(authority === undefined ? {} : { authority }),
      onConnection,
    });
    peers.onClose(() => listener.close());
    return { metrics, listener, target: `127.0.0.1:${listener.address.port}` };
  }

  it('counts an accepted connection, its bytes each way and its clean close, with loopback TLS labels', async () => {
    const { metrics, target } = await listening(({ socket }) => {
      socket.on('data', () => undefined);
      socket.once('end', () => socket.end('reply!'));
    }, 'books.shop.svc.cluster.local:7000');
    const client = await peers.connect({ ip: '127.0.0.1', port: Number(target.split(':')[1]) });
    const transcript = transcriptOf(client);
    client.end('twelve bytes');
    expect((await transcript).bytes.toString()).toBe('reply!');
    const labels = {
      direction: 'outbound',
      authority: 'books.shop.svc.cluster.local:7000',
      target_addr: target,
      tls: 'no_identity',
      no_tls_reason: 'loopback',
    };
    await vi.waitFor(() => expect(metrics.value('tcp_close_total', labels)).toBe(1));
    expect(metrics.value('tcp_open_total', labels)).toBe(1);
    expect(metrics.value('tcp_close_total', { ...labels, classification: 'success' })).toBe(1);
    expect(metrics.value('tcp_read_bytes_total', labels)).toBe(12);
    expect(metrics.value('tcp_write_bytes_total', labels)).toBe(6);
    expect(metrics.value('tcp_open_connections', labels)).toBe(0);
  });

  it('counts a connection the handler marks failed as a failure with its errno', async () => {
    const { metrics, listener } = await listening((connection) =>
      connection.socket.once('data', () => {
        connection.markFailed('ECONNREFUSED');
        connection.socket.resetAndDestroy();
      }),
    );
    const client = await peers.connect(listener.address);
    const transcript = transcriptOf(client);
    client.write('x');
    expect(await transcript).toMatchObject({ errorCode: 'ECONNRESET' });
    await vi.waitFor(() =>
      expect(metrics.value('tcp_close_total', { classification: 'failure', errno: 'ECONNREFUSED' })).toBe(1),
    );
  });

  it('counts a client reset as a failure without crashing', async () => {
    const { metrics, listener } = await listening(({ socket }) => socket.resume());
    const client = await peers.connect(listener.address);
    client.write('x');
    await vi.waitFor(() => expect(metrics.value('tcp_open_connections')).toBe(1));
    client.resetAndDestroy();
    await vi.waitFor(() => expect(metrics.value('tcp_close_total', { classification: 'failure', errno: 'ECONNRESET' })).toBe(1));
    expect(metrics.value('tcp_open_connections')).toBe(0);
  });

  it('stops accepting and resets open connections on close', async () => {
    const { listener } = await listening(({ socket }) => socket.resume());
    const client = await peers.connect(listener.address);
    const transcript = transcriptOf(client);
    await vi.waitFor(() => expect(listener.openConnections).toBe(1));
    await listener.close();
    expect(await transcript).toMatchObject({ errorCode: 'ECONNRESET' });
    await expect(peers.connect(listener.address)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('lets open connections finish within the grace period', async () => {
    const { listener } = await listening(({ socket }) => socket.once('data', () => setTimeout(() => socket.end('done'), 100)));
    const client = await peers.connect(listener.address);
    const transcript = transcriptOf(client);
    client.end('go');
    await vi.waitFor(() => expect(listener.openConnections).toBe(1));
    await listener.close(2_000);
    expect(await transcript).toMatchObject({ bytes: Buffer.from('done'), ended: true });
  });

  it('rejects an address that is taken', async () => {
    const { listener } = await listening(() => undefined);
    await expect(
      TcpListener.listen({ address: listener.address, direction: 'inbound', metrics: new InMemoryProxyMetrics(), onConnection: () => undefined }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
