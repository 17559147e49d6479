// resetSocket: ends a TCP connection abruptly (RST), so the peer sees a failure rather than a clean end of data.
import type { Socket } from 'node:net';

/** Sends RST and destroys the socket; a socket still connecting is simply destroyed; a destroyed one is left alone. */
export function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.connecting) socket.destroy();
  else socket.resetAndDestroy();
}
