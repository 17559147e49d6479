// connectTcp: opens a TCP connection to one address within a time limit, set up for proxying (half-open, no delay).
import { connect, type Socket } from 'node:net';
import { formatDuration, formatSocketAddress, type Milliseconds, type SocketAddress } from '@weft/core';
import { TCP_KEEPALIVE_MS } from './tcp-listener.js';

/** A connection attempt that failed: `code` is the system error (ECONNREFUSED...), ETIMEDOUT, or ABORTED. */
export class ConnectError extends Error {
  override readonly name = 'ConnectError';

  constructor(
    readonly address: SocketAddress,
    readonly code: string,
    reason: string,
  ) {
    super(`connecting to ${formatSocketAddress(address)} failed: ${reason}`);
  }
}

export interface ConnectTcpOptions {
  readonly timeoutMs: Milliseconds;
  /** Gives up the attempt, e.g. when the client that waits for it has gone. */
  readonly signal?: AbortSignal;
}

/**
 * The connected socket, or a ConnectError. The socket allows half-open connections, so each direction can end on
 * its own, and sends TCP keep-alive probes. The caller must listen for its errors right away.
 */
export function connectTcp(address: SocketAddress, options: ConnectTcpOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new ConnectError(address, 'ABORTED', 'the attempt was given up before it began'));
      return;
    }
    const socket = connect({
      host: address.ip,
      port: address.port,
      allowHalfOpen: true,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: TCP_KEEPALIVE_MS,
    });
    const settle = (error?: ConnectError) => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      options.signal?.removeEventListener('abort', onAbort);
      if (!error) return resolve(socket);
      socket.on('error', () => undefined); // destroy() below can still surface a late error
      socket.destroy();
      reject(error);
    };
    const onConnect = () => settle();
    const onError = (error: NodeJS.ErrnoException) => settle(new ConnectError(address, error.code ?? 'ECONNECT', error.message));
    const onAbort = () => settle(new ConnectError(address, 'ABORTED', 'the attempt was given up'));
    const timer = setTimeout(
      () => settle(new ConnectError(address, 'ETIMEDOUT', `no connection within ${formatDuration(options.timeoutMs)}`)),
      options.timeoutMs,
    );
    socket.once('connect', onConnect);
    socket.once('error', onError);
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
