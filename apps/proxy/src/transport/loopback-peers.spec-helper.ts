// LoopbackPeers: real TCP servers and clients on 127.0.0.1 for the connection-layer specs, all closed by closeAll().
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { SocketAddress } from '@weft/core';

/** Everything a socket delivered until it closed, and the error it closed with, if any. */
export interface SocketTranscript {
  readonly bytes: Buffer;
  /** Whether the peer's FIN arrived (a clean end of its data). */
  readonly ended: boolean;
  readonly errorCode?: string;
}

/** Collects a socket's bytes until it closes; starts reading right away. */
export function transcriptOf(socket: Socket): Promise<SocketTranscript> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let ended = false;
    let errorCode: string | undefined;
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => (ended = true));
    socket.on('error', (error: NodeJS.ErrnoException) => (errorCode ??= error.code ?? error.message));
    socket.once('close', () =>
      resolve({ bytes: Buffer.concat(chunks), ended, ...(errorCode === undefined ? {} : { errorCode }) }),
    );
    socket.resume(); // also after firstBytesOf paused it
  });
}

/** The first `count` bytes a socket delivers (or fewer if it closes first), without consuming the rest. */
export function firstBytesOf(socket: Socket, count = 1): Promise<Buffer> {
  return new Promise((resolve) => {
    let bytes = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      if (bytes.length >= count) done();
    };
    const done = () => {
      socket.off('data', onData);
      socket.off('close', done);
      socket.pause();
      resolve(bytes);
    };
    socket.on('data', onData);
    socket.once('close', done);
  });
}

/** `size` bytes of a repeatable pattern that starts with a byte no protocol detector recognises. */
export function patternBytes(size: number, seed = 7): Buffer {
  const bytes = Buffer.alloc(size);
  let state = seed >>> 0;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    bytes[i] = state >>> 24;
  }
  bytes[0] = 0;
  return bytes;
}

export class LoopbackPeers {
  private readonly servers = new Set<Server>();
  private readonly sockets = new Set<Socket>();
  private readonly closers: (() => Promise<void> | void)[] = [];

  /** A server on 127.0.0.1 (ephemeral port) that allows half-open connections; its sockets are closed by closeAll. */
  async server(onSocket: (socket: Socket) => void): Promise<SocketAddress> {
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      this.track(socket);
      socket.on('error', () => undefined);
      onSocket(socket);
    });
    this.servers.add(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('the test server has no TCP address');
    return { ip: '127.0.0.1', port: address.port };
  }

  /** Sends back every byte it gets and ends its side once the client has ended. */
  echoServer(): Promise<SocketAddress> {
    return this.server((socket) => socket.pipe(socket));
  }

  /** A port on which nothing listens: connections to it are refused. */
  async refusingAddress(): Promise<SocketAddress> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (typeof address !== 'object' || address === null) throw new Error('the test server has no TCP address');
    return { ip: '127.0.0.1', port: address.port };
  }

  /**
   * A listening port whose accept queue is full, so the kernel drops new SYNs and connections hang until they
   * time out (a black-holed endpoint, on loopback). A worker thread listens with a backlog of 1 and blocks, so it
   * never accepts; connections are opened until one no longer completes.
   */
  async blackholeAddress(): Promise<SocketAddress> {
    const signal = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(BLACKHOLE_WORKER, { eval: true, workerData: { signal } });
    this.closers.push(async () => {
      Atomics.store(signal, 0, 1);
      Atomics.notify(signal, 0);
      await worker.terminate();
    });
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const address = { ip: '127.0.0.1', port };
    for (let filler = 0; filler < 16; filler++) {
      const socket = this.track(connect({ host: address.ip, port }));
      socket.on('error', () => undefined);
      const connected = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 200);
        socket.once('connect', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (!connected) return address;
    }
    throw new Error('the black-hole listener kept accepting connections');
  }

  /** A client connected to `address`. */
  async connect(address: SocketAddress): Promise<Socket> {
    const socket = this.track(connect({ host: address.ip, port: address.port, allowHalfOpen: true }));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return socket;
  }

  /** Registers a socket (or anything closable) to be closed by closeAll. */
  track(socket: Socket): Socket {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    return socket;
  }

  onClose(closer: () => Promise<void> | void): void {
    this.closers.push(closer);
  }

  async closeAll(): Promise<void> {
    for (const closer of this.closers.splice(0).reverse()) await closer();
    for (const socket of this.sockets) socket.destroy();
    await Promise.all([...this.servers].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    this.servers.clear();
  }
}

const BLACKHOLE_WORKER = `
const { createServer } = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const server = createServer();
server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
  parentPort.postMessage(server.address().port);
  // Block this thread's event loop, so the server never accepts, until the test says stop.
  setImmediate(() => Atomics.wait(workerData.signal, 0, 0));
});
`;
