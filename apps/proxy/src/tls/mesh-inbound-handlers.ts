// meshInboundHandlers: the inbound listener's protocol handlers, with each connection's peer named and mesh mTLS terminated.
import type { TlsStatus } from '@weft/core';
import { setMeshPeer } from '../inbound/mesh-peer.js';
import type { DetectedConnection, ProtocolHandlers, TransportProtocol } from '../transport/connection-detector.js';
import { type AcceptedConnection, plaintextTlsStatus } from '../transport/tcp-listener.js';
import type { MeshSessionProtocol } from './mesh-tls-client.js';
import type { MeshSession, MeshTlsTerminator } from './mesh-tls-terminator.js';

const PASSED_THROUGH: TlsStatus = { tls: 'opaque' };

/** The app's address inside a sidecar's network namespace, for sessions sent to their header's port. */
const SESSION_APP_IP = '127.0.0.1';

const HANDLER_OF: Readonly<Record<MeshSessionProtocol, TransportProtocol>> = { http1: 'http1', http2: 'h2', opaque: 'opaque' };

/**
 * Wraps `handlers` (one per detected protocol; `opaque` forwards to the app):
 * - plaintext (HTTP/1, HTTP/2, opaque) is named `no_identity` on its socket (setMeshPeer), `loopback` or
 *   `no_tls_from_remote` (`port_skipped` on an opaque port, where nothing is detected), and goes to its handler as
 *   before;
 * - with `terminator`, a ClientHello for this proxy's identity offering the transport ALPN is terminated: the
 *   verified session goes to the handler its transport header names, on the decrypted socket, which setMeshPeer
 *   names `tls="true"` with the client's identity; a refused one never reaches any handler;
 * - any other TLS (another SNI, no SNI) is named `opaque` and passed through to the `tls` handler unchanged.
 * The connection's `tls` labels are decided accordingly (when its listener defers them). The port a plaintext or
 * passed-through connection is named for (its policy's port) is the one detection was done for (`targetPort`).
 * With `sessionsToHeaderPort` (a transparent sidecar), a mesh session's connection carries the transport header's port
 * as its `originalDst`, so it goes to the app at the port its client asked for, as a redirected plaintext one does.
 */
export function meshInboundHandlers(
  handlers: ProtocolHandlers,
  terminator: MeshTlsTerminator | undefined,
  options: { readonly sessionsToHeaderPort?: boolean } = {},
): ProtocolHandlers {
  const plaintext = (protocol: 'http1' | 'h2' | 'opaque') => (detected: DetectedConnection) => {
    // An opaque port skips detection, so whether the client spoke TLS is not known.
    const tls: TlsStatus = detected.reason === 'opaque-port' ? { tls: 'no_identity', reason: 'port_skipped' } : plaintextTlsStatus(detected.socket);
    name(detected, tls);
    handlers[protocol](detected);
  };
  return {
    http1: plaintext('http1'),
    h2: plaintext('h2'),
    opaque: plaintext('opaque'),
    tls: (detected) => {
      const route = terminator?.routeHello(detected.detection) ?? 'pass-through';
      if (route === 'pass-through' || terminator === undefined) {
        name(detected, PASSED_THROUGH);
        handlers.tls(detected);
      } else if (route === 'not-ready') {
        detected.connection.markFailed('ENOCERT');
        terminator.refuseNotReady(detected.socket);
      } else {
        terminator.terminate(detected.socket, {
          onSession: (session) => dispatchSession(handlers, detected, session, options.sessionsToHeaderPort === true),
          onRefused: () => detected.connection.markFailed('EMTLS'),
        });
      }
    },
  };
}

/** Hands a verified mesh session to the handler of its protocol, as a connection of its own (on the decrypted socket). */
function dispatchSession(handlers: ProtocolHandlers, detected: DetectedConnection, session: MeshSession, toHeaderPort: boolean): void {
  const outer = detected.connection;
  outer.decideTls?.({ tls: 'true', peerIdentity: session.peerIdentity });
  const connection: AcceptedConnection = {
    socket: session.socket,
    get labels() {
      return outer.labels;
    },
    markFailed: (errno) => outer.markFailed(errno),
    ...(toHeaderPort && { originalDst: { ip: SESSION_APP_IP, port: session.header.port } }),
  };
  const protocol = HANDLER_OF[session.protocol];
  // `detection` stays what was read off the wire: the mesh ClientHello.
  handlers[protocol]({ ...detected, connection, socket: session.socket, protocol, reason: 'detected', firstBytes: new Uint8Array(0), targetPort: session.header.port });
}

/** The connection's port is the one detection was done for: the app's, or the original port of a redirected one. */
function name(detected: DetectedConnection, tls: TlsStatus): void {
  detected.connection.decideTls?.(tls);
  setMeshPeer(detected.socket, { tls, remoteIp: remoteIpOf(detected), targetPort: detected.targetPort });
}

function remoteIpOf(detected: DetectedConnection): string {
  const ip = detected.socket.remoteAddress ?? '';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
