import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { patternBytes } from './loopback-peers.spec-helper.js';
import { LARGE_READ_BUFFER_BYTES, readIntoRecycledBuffers, SMALL_READ_BUFFER_BYTES } from './recycled-socket-reads.js';
import { MeshCertificates } from '../tls/mesh-certificates.spec-helper.js';

const servers: Server[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A connected pair on loopback: the accepted end (what a proxy listener gets) and the client end. */
async function acceptedPair(clientWriteBuffer?: number): Promise<{ accepted: Socket; client: Socket }> {
  const server = createServer({ allowHalfOpen: true });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const [[accepted], client] = await Promise.all([
    once(server, 'connection') as Promise<[Socket]>,
    new Promise<Socket>((resolve) => {
      const options = { host: '127.0.0.1', port, allowHalfOpen: true, ...(clientWriteBuffer ? { writableHighWaterMark: clientWriteBuffer } : {}) };
      const socket = connect(options, () => resolve(socket));
    }),
  ]);
  sockets.push(accepted, client);
  return { accepted, client };
}

/** A connected TLS client socket whose server sends `bytes` and ends. */
async function tlsSocketReceiving(bytes: Buffer): Promise<TLSSocket> {
  const certificates = await MeshCertificates.mint();
  const leaf = await certificates.leaf('web').finally(() => certificates.remove());
  const server = createTlsServer({ cert: leaf.certificateChainPem, key: leaf.privateKeyPem }, (socket) => socket.end(bytes));
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const client = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  sockets.push(client);
  await once(client, 'secureConnect');
  return client;
}

/**
 * Relays `from` (switched to recycled reads) into a sink that reads in small bites with pauses, so the relay's writes
 * queue and its reader must stop; `start` sets the source going. Resolves with what the sink got and how often the
 * relay paused.
 */
async function relayIntoSlowReader(from: Socket, start: () => void): Promise<{ got: Buffer; pauses: number }> {
  // A deep write buffer keeps several read buffers queued in `to` at once, each still referenced.
  const { accepted: sinkSide, client: to } = await acceptedPair(4 * 1024 * 1024);
  let pauses = 0;
  readIntoRecycledBuffers(from, (bytes, release) => {
    if (to.write(bytes, release)) return true;
    pauses++;
    to.once('drain', () => from.resume());
    return false;
  });
  from.once('end', () => to.end());
  sinkSide.pause();
  const chunks: Buffer[] = [];
  const drip = setInterval(() => {
    for (let chunk = sinkSide.read(256 * 1024) as Buffer | null; chunk !== null; chunk = sinkSide.read(256 * 1024) as Buffer | null) {
      chunks.push(chunk);
    }
  }, 5);
  start();
  await new Promise<void>((resolve) => sinkSide.once('end', () => resolve()));
  clearInterval(drip);
  for (let chunk = sinkSide.read() as Buffer | null; chunk !== null; chunk = sinkSide.read() as Buffer | null) chunks.push(chunk);
  return { got: Buffer.concat(chunks), pauses };
}

describe('readIntoRecycledBuffers', () => {
  it('hands an accepted socket’s bytes to the handler byte for byte, then still ends it', async () => {
    const { accepted, client } = await acceptedPair();
    const received: Buffer[] = [];
    let released = 0;
    expect(
      readIntoRecycledBuffers(accepted, (bytes, release) => {
        received.push(Buffer.from(bytes)); // copied: the buffer is reused once released
        release();
        released++;
        return true;
      }),
    ).toBe(true);
    const sent = patternBytes(3 * 1024 * 1024 + 17);
    client.end(sent);
    await once(accepted, 'end');
    expect(Buffer.concat(received).equals(sent)).toBe(true);
    expect(released).toBe(received.length);
    expect(accepted.bytesRead).toBe(sent.length);
    expect(Math.max(...received.map((chunk) => chunk.length))).toBeLessThanOrEqual(LARGE_READ_BUFFER_BYTES);
  });

  it('reads small messages into small buffers and bulk data into large ones, and goes back to small when it idles', async () => {
    const { accepted, client } = await acceptedPair();
    const reads: { readonly length: number; readonly bufferSize: number }[] = [];
    readIntoRecycledBuffers(accepted, (bytes, release) => {
      reads.push({ length: bytes.length, bufferSize: bytes.buffer.byteLength });
      release();
      return true;
    });
    const exchange = async (bytes: Buffer) => {
      const before = reads.reduce((sum, read) => sum + read.length, 0);
      client.write(bytes);
      await vi.waitFor(() => expect(reads.reduce((sum, read) => sum + read.length, 0)).toBe(before + bytes.length));
    };
    await exchange(Buffer.from('a short request'));
    expect(reads.map((read) => read.bufferSize)).toEqual([SMALL_READ_BUFFER_BYTES]);
    const bulkFrom = reads.length;
    await exchange(patternBytes(4 * 1024 * 1024));
    const bulk = reads.slice(bulkFrom);
    expect(bulk[0]?.bufferSize).toBe(SMALL_READ_BUFFER_BYTES);
    expect(bulk.filter((read) => read.bufferSize === LARGE_READ_BUFFER_BYTES).length).toBeGreaterThan(bulk.length / 2);
    await exchange(Buffer.from('another short one'));
    await exchange(Buffer.from('and the next read is small again'));
    expect(reads.at(-1)?.bufferSize).toBe(SMALL_READ_BUFFER_BYTES);
  });

  it('delivers the bytes buffered before the switch first, in order', async () => {
    const { accepted, client } = await acceptedPair();
    accepted.pause();
    client.write('first part;');
    // Let the bytes land in the socket's stream buffer, as protocol detection leaves them.
    await once(accepted, 'readable');
    const put = accepted.read() as Buffer;
    accepted.unshift(put);
    const received: string[] = [];
    readIntoRecycledBuffers(accepted, (bytes, release) => {
      received.push(bytes.toString());
      release();
      return true;
    });
    client.end('second part');
    await once(accepted, 'end');
    expect(received.join('')).toBe('first part;second part');
    expect(received[0]).toBe('first part;');
  });

  it('relays into a slow reader under backpressure without corrupting reused buffers', async () => {
    const { accepted: from, client: source } = await acceptedPair();
    const sent = patternBytes(16 * 1024 * 1024, 11);
    const { got, pauses } = await relayIntoSlowReader(from, () => source.end(sent));
    expect(got.length).toBe(sent.length);
    expect(got.equals(sent)).toBe(true);
    expect(pauses).toBeGreaterThan(0);
  });

  it('hands a TLS socket’s decrypted bytes to the handler byte for byte', async () => {
    const sent = patternBytes(3 * 1024 * 1024 + 5, 13);
    const client = await tlsSocketReceiving(sent);
    const received: Buffer[] = [];
    expect(
      readIntoRecycledBuffers(client, (bytes, release) => {
        received.push(Buffer.from(bytes));
        release();
        return true;
      }),
    ).toBe(true);
    await once(client, 'end');
    expect(Buffer.concat(received).equals(sent)).toBe(true);
  });

  it('gathers a TLS socket’s records into chunks larger than one record, all handed over before its end is seen', async () => {
    const sent = patternBytes(8 * 1024 * 1024 + 3, 17);
    const client = await tlsSocketReceiving(sent);
    const sizes: number[] = [];
    const received: Buffer[] = [];
    readIntoRecycledBuffers(client, (bytes, release) => {
      sizes.push(bytes.length);
      received.push(Buffer.from(bytes));
      release();
      return true;
    });
    // A relay ends its writer on 'end': by then every byte must have been handed over.
    const atEnd = new Promise<number>((resolve) => client.once('end', () => resolve(received.reduce((sum, chunk) => sum + chunk.length, 0))));
    expect(await atEnd).toBe(sent.length);
    expect(Buffer.concat(received).equals(sent)).toBe(true);
    const TLS_RECORD_BYTES = 16 * 1024;
    expect(Math.max(...sizes)).toBeGreaterThan(TLS_RECORD_BYTES);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(LARGE_READ_BUFFER_BYTES);
  });

  it('relays a TLS socket into a slow reader under backpressure, gathered, without corrupting reused buffers', async () => {
    const sent = patternBytes(16 * 1024 * 1024, 19);
    const from = await tlsSocketReceiving(sent);
    const { got, pauses } = await relayIntoSlowReader(from, () => undefined);
    expect(got.length).toBe(sent.length);
    expect(got.equals(sent)).toBe(true);
    expect(pauses).toBeGreaterThan(0);
  });

  it('refuses a socket already switched, a destroyed one, and one built with its own onread buffer', async () => {
    const { accepted: switched } = await acceptedPair();
    expect(readIntoRecycledBuffers(switched, () => true)).toBe(true);
    expect(readIntoRecycledBuffers(switched, () => true)).toBe(false);
    const { accepted: other } = await acceptedPair();
    other.destroy();
    expect(readIntoRecycledBuffers(other, () => true)).toBe(false);
    const server = createServer((socket) => socket.end('kept for its own reader'));
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const received: string[] = [];
    const buffer = Buffer.alloc(64);
    const own = connect({
      host: '127.0.0.1',
      port: (server.address() as { port: number }).port,
      onread: { buffer, callback: (length: number) => received.push(buffer.toString('latin1', 0, length)) > 0 },
    });
    sockets.push(own);
    await once(own, 'connect');
    expect(readIntoRecycledBuffers(own, () => true)).toBe(false);
    await once(own, 'end');
    expect(received.join('')).toBe('kept for its own reader');
  });
});
