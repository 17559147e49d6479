// spliceTcp: relays bytes both ways between two sockets, with backpressure, half-close, and reset on failure.
import type { Socket } from 'node:net';
import { resetSocket } from '../transport/reset-socket.js';
import { readIntoRecycledBuffers } from '../transport/recycled-socket-reads.js';

export interface TcpSpliceResult {
  /** `closed`: both directions ended normally; otherwise the side whose error or abrupt close ended the relay. */
  readonly outcome: 'closed' | 'client-failed' | 'server-failed';
  /** The system error (ECONNRESET, EPIPE...) of the failing side, if it reported one. */
  readonly errno?: string;
  readonly clientToServerBytes: number;
  readonly serverToClientBytes: number;
}

export interface SpliceTcpOptions {
  /** Resets both sockets after this long without a byte either way; 0 (default) keeps idle connections open. */
  readonly idleTimeoutMs?: number;
  /** Told of the first failure before the sockets are reset, so metrics recorded at close see it. */
  readonly onFailure?: (side: 'client' | 'server', errno: string | undefined) => void;
}

/**
 * Relays `client` into `server` and back. Each direction ends on its own (a FIN is passed on as a FIN, so a client
 * can half-close and still read the reply); the reader is paused while the writer is full, so at most one read
 * buffer per direction waits in memory. An error or an abrupt close on either side resets the other, so the peer
 * sees a failure and not a clean end. Both sockets must have been made with allowHalfOpen. Resolves once both
 * sockets are closed.
 */
export function spliceTcp(client: Socket, server: Socket, options: SpliceTcpOptions = {}): Promise<TcpSpliceResult> {
  return new Promise((resolve) => {
    let failure: { outcome: 'client-failed' | 'server-failed'; errno?: string } | undefined;
    const fail = (side: 'client' | 'server', errno: string | undefined) => {
      if (failure) return;
      failure = { outcome: side === 'client' ? 'client-failed' : 'server-failed', ...(errno === undefined ? {} : { errno }) };
      options.onFailure?.(side, errno);
      resetSocket(client);
      resetSocket(server);
    };
    const watch = (socket: Socket, side: 'client' | 'server') => {
      socket.on('error', (error: NodeJS.ErrnoException) => fail(side, error.code));
      socket.once('close', () => {
        // Closed with both directions done is the normal end; anything else (destroyed, reset by us) is a failure.
        if (!(socket.readableEnded && socket.writableFinished)) fail(side, undefined);
        if (client.closed && server.closed) resolve(result());
      });
      if (options.idleTimeoutMs) {
        socket.setTimeout(options.idleTimeoutMs, () => fail(side, 'ETIMEDOUT'));
      }
    };
    const result = (): TcpSpliceResult => ({
      outcome: failure?.outcome ?? 'closed',
      ...(failure?.errno === undefined ? {} : { errno: failure.errno }),
      clientToServerBytes: server.bytesWritten,
      serverToClientBytes: client.bytesWritten,
    });
    watch(client, 'client');
    watch(server, 'server');
    if (client.destroyed || server.destroyed) {
      fail(client.destroyed ? 'client' : 'server', undefined);
      // A socket that closed before this call never emits 'close' again.
      if (client.closed && server.closed) resolve(result());
      return;
    }
    relayBytes(client, server);
    relayBytes(server, client);
  });
}

/**
 * One direction, as `from.pipe(to)` does it (pause while `to` is full, end `to` after `from` ends), but reads go
 * straight into writes through recycled buffers (TCP, or TLS's decrypted bytes); `pipe` where they cannot.
 */
export function relayBytes(from: Socket, to: Socket): void {
  const switched = readIntoRecycledBuffers(from, (bytes, release) => {
    if (to.write(bytes, release)) return true;
    to.once('drain', () => from.resume());
    return false;
  });
  if (!switched) {
    from.pipe(to);
    return;
  }
  if (from.readableEnded) to.end();
  else from.once('end', () => to.end());
}
