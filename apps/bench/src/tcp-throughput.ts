// Opaque TCP throughput: a sink that counts bytes and answers with the count, and a source that pushes N bytes through.
import { connect, createServer, type Server } from 'node:net';
import { LOOPBACK } from './loopback-port.js';

const chunk = Buffer.alloc(256 * 1024, 0x5a);

/** Listens on `port`; for each connection, counts bytes until the peer half-closes, then writes the count (8 bytes) and closes. */
export function startTcpSink(port: number): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    let received = 0;
    socket.on('data', (data: Buffer) => (received += data.length));
    socket.on('end', () => {
      const count = Buffer.alloc(8);
      count.writeBigUInt64BE(BigInt(received));
      socket.end(count);
    });
    socket.on('error', () => socket.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => resolve(server));
  });
}

export interface TcpPushResult {
  readonly bytes: number;
  readonly seconds: number;
  readonly gigabitsPerSecond: number;
}

/** Connects to `port`, writes `bytes`, half-closes, and waits for the sink to confirm every byte arrived. */
export function pushTcpBytes(port: number, bytes: number, timeoutMs: number): Promise<TcpPushResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({ host: LOOPBACK, port, allowHalfOpen: true });
    const timer = setTimeout(() => socket.destroy(new Error(`no confirmation from the sink within ${timeoutMs} ms`)), timeoutMs);
    const replies: Buffer[] = [];
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes) {
        const size = Math.min(chunk.length, bytes - sent);
        sent += size;
        if (!socket.write(size === chunk.length ? chunk : chunk.subarray(0, size))) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.end();
    };
    socket.once('connect', pump);
    socket.on('data', (data: Buffer) => replies.push(data));
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('end', () => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1_000;
      const reply = Buffer.concat(replies);
      const confirmed = reply.length === 8 ? Number(reply.readBigUInt64BE()) : -1;
      socket.destroy();
      if (confirmed !== bytes) reject(new Error(`the sink confirmed ${confirmed} of ${bytes} bytes`));
      else resolve({ bytes, seconds, gigabitsPerSecond: (bytes * 8) / seconds / 1e9 });
    });
  });
}
