// listenInbound: the inbound listener: accept, detect, then HTTP handlers or opaque forwarding to the local app.
import type { Socket } from 'node:net';
import { formatSocketAddress, type ProxyMetrics, type SocketAddress } from '@weft/core';
import { ConnectionDetector, type DetectedConnection, type ProtocolHandlers } from '../transport/connection-detector.js';
import { type AcceptedConnection, plaintextTlsStatus, TcpListener } from '../transport/tcp-listener.js';
import type { TransportLog } from '../transport/transport-log.js';
import { meshInboundHandlers } from '../tls/mesh-inbound-handlers.js';
import type { MeshTlsTerminator } from '../tls/mesh-tls-terminator.js';
import { InboundTcpForwarder } from './inbound-tcp-forwarder.js';
import { type ConnectionSettings, forwardOpaque, type RunningListener } from './listen-upstream.js';

export interface ListenInboundOptions {
  /** Where to listen (WEFT_PROXY_INBOUND_ADDR). */
  readonly address: SocketAddress;
  /** The local application (WEFT_PROXY_INBOUND_APP_ADDR). */
  readonly appAddr: SocketAddress;
  readonly settings: ConnectionSettings;
  readonly metrics: ProxyMetrics;
  /** Handlers for what detection finds; a protocol without one is forwarded to the app as opaque TCP. */
  readonly handlers?: Partial<ProtocolHandlers>;
  /** Authorizes each opaque connection before it is forwarded (InboundAuthorizer); refused ones are reset. */
  readonly authorizeOpaque?: (connection: AcceptedConnection) => boolean;
  /**
   * Terminates mesh mTLS addressed to this proxy's identity (attachMutualTls); without it, all TLS is passed through
   * to the app as before. Either way each connection's peer is named on its socket (setMeshPeer).
   */
  readonly meshTls?: MeshTlsTerminator;
  /**
   * Transparent mode: the original destination of a connection iptables redirected to the listener (undefined for one
   * made to it directly). A redirected connection whose original port is not the listener's own goes to the app on
   * 127.0.0.1:<original port>, under that port's policy; see `redirectedAppAddr`. Without it nothing is read.
   */
  readonly originalDestination?: (socket: Socket) => SocketAddress | undefined;
  /** A transparent sidecar (WEFT_PROXY_TRANSPARENT): mesh sessions go to the app port their transport header names. */
  readonly sessionsToHeaderPort?: boolean;
  readonly log?: TransportLog;
}

/**
 * The app address a connection of the inbound listener goes to when iptables redirected it there: 127.0.0.1 at the
 * port the client was connecting to; undefined for a connection made to the listener itself (it goes to the app's
 * configured address). Connections of mesh mTLS sessions never carry one: their transport header names the port.
 */
export function redirectedAppAddr(connection: { readonly originalDst?: SocketAddress }): SocketAddress | undefined {
  const originalDst = connection.originalDst;
  return originalDst === undefined ? undefined : { ip: LOCAL_APP_IP, port: originalDst.port };
}

const LOCAL_APP_IP = '127.0.0.1';

/**
 * Listens for peers and unmeshed clients. Without iptables there is no original destination, so the opaque-port
 * list is checked against the app's port: an app on 5432 gets its connections forwarded without detection. A
 * plaintext connection iptables redirected here is checked against, and goes to, the port it was for (on 127.0.0.1).
 * With mesh mTLS every connection is read first, opaque app port or not: peer proxies always speak first (a TLS
 * ClientHello), and their transport header says whether the session is opaque. An unmeshed client of a
 * server-speaks-first app should reach the app directly (local mode) rather than this port, or it waits for the
 * detection timeout.
 */
export async function listenInbound(options: ListenInboundOptions): Promise<RunningListener> {
  const forwarder = new InboundTcpForwarder({
    appAddr: options.appAddr,
    connectTimeoutMs: options.settings.connectTimeoutMs,
    ...(options.authorizeOpaque ? { authorize: options.authorizeOpaque } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  const opaque = (detected: DetectedConnection) =>
    forwardOpaque(detected, (connection) => forwarder.forward(connection, redirectedAppAddr(connection)), options.log);
  const detector = new ConnectionDetector({
    handlers: meshInboundHandlers({ http1: opaque, h2: opaque, tls: opaque, opaque, ...options.handlers }, options.meshTls, {
      sessionsToHeaderPort: options.sessionsToHeaderPort === true,
    }),
    opaquePorts: options.meshTls ? NO_PORTS : options.settings.opaquePorts,
    timeoutMs: options.settings.detectTimeoutMs,
    ...(options.log ? { log: options.log } : {}),
  });
  const appTarget = formatSocketAddress(options.appAddr);
  const readOriginal = options.originalDestination;
  const listener = await TcpListener.listen({
    address: options.address,
    direction: 'inbound',
    metrics: options.metrics,
    // A connection for the listener's own port (another IP, DNAT) is not sent back to it: it goes to the app.
    ...(readOriginal ? { originalDestination: (socket: Socket) => redirectedElsewhere(readOriginal(socket), socket.localPort) } : {}),
    // Labelled with the app's address, the target the connections are for (the listener's own port says nothing).
    targetAddr: (_socket, originalDst) => (originalDst === undefined ? appTarget : `${LOCAL_APP_IP}:${originalDst.port}`),
    // With mesh mTLS the `tls` labels (client_id...) are known only after detection and the handshake.
    ...(options.meshTls ? { tlsDecidedLater: true, tls: plaintextTlsStatus } : {}),
    // The opaque ports and the policy are those of the port the client was connecting to.
    onConnection: (connection) => detector.accept(connection, connection.originalDst?.port ?? options.appAddr.port),
    ...(options.log ? { log: options.log } : {}),
  });
  return { address: listener.address, listener, close: (graceMs = 0) => listener.close(graceMs) };
}

const NO_PORTS = { has: (_port: number) => false };

function redirectedElsewhere(originalDst: SocketAddress | undefined, listenerPort: number | undefined): SocketAddress | undefined {
  return originalDst !== undefined && originalDst.port !== listenerPort ? originalDst : undefined;
}
