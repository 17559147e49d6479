// resetThroughTcp: lets resetSocket() end a mesh TLS connection with a TCP reset, as it does a plain one.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/**
 * Node's resetAndDestroy accepts only a socket whose handle is TCP and throws on a TLS socket; the proxy's relays
 * call it (through resetSocket) on whatever socket failed. This makes it reset `tcp`, the connection under
 * `tlsSocket`, and destroy the TLS socket, so the peer sees a reset and nothing throws.
 */
export function resetThroughTcp(tlsSocket: TLSSocket, tcp: Socket): void {
  tlsSocket.resetAndDestroy = function resetMeshSocket(this: TLSSocket): TLSSocket {
    if (!tcp.destroyed) {
      if (tcp.connecting) tcp.destroy();
      else tcp.resetAndDestroy();
    }
    this.destroy();
    return this;
  };
}
