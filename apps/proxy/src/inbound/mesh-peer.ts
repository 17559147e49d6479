// MeshPeer: who is on the other end of an inbound connection, as mTLS termination established it.
import type { Socket } from 'node:net';
import type { TlsStatus } from '@weft/core';

export interface MeshPeer {
  /**
   * `{ tls: 'true', peerIdentity }` for a peer proxy that completed mesh mTLS (peerIdentity: its verified DNS-like
   * identity name); `no_identity` for plaintext from an unmeshed client; `opaque` for TLS the proxy did not terminate.
   */
  readonly tls: TlsStatus;
  /** The client's IP address as the listener saw it (for network authentications). */
  readonly remoteIp: string;
  /** The port on the local workload the connection is for: the transport header's port, or the app's port. */
  readonly targetPort: number;
}

const peers = new WeakMap<Socket, MeshPeer>();

/** Records who is behind `socket`; mTLS termination calls it before handing the decrypted socket on. */
export function setMeshPeer(socket: Socket, peer: MeshPeer): void {
  peers.set(socket, peer);
}

/** Who is behind `socket`, or undefined for a connection no one described (then treat it as unauthenticated). */
export function meshPeerOf(socket: Socket): MeshPeer | undefined {
  return peers.get(socket);
}
