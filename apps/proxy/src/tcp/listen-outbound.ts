// listenOutbound: the transparent outbound listener: redirected connections go to their original destination, direct HTTP by its authority.
import type { Socket } from 'node:net';
import type { ProxyMetrics, SocketAddress, TlsStatus } from '@weft/core';
import {
  ConnectionDetector,
  type DetectedConnection,
  type ProtocolHandlers,
  type TransportProtocol,
} from '../transport/connection-detector.js';
import { resetSocket } from '../transport/reset-socket.js';
import { acceptedTlsStatus, TcpListener } from '../transport/tcp-listener.js';
import type { TransportLog } from '../transport/transport-log.js';
import type { ConnectionSettings, RunningListener } from './listen-upstream.js';

/** One handler per detected protocol for redirected connections, told the connection's original destination. */
export type RedirectedHandlers = {
  readonly [P in TransportProtocol]: (connection: DetectedConnection, originalDst: SocketAddress) => void;
};

/** Transparent mode: how connections iptables redirected to the listener are recognised and served. */
export interface RedirectedRouting {
  /** The original destination of a redirected connection; undefined for one made to the listener itself. */
  readonly destinationOf: (socket: Socket) => SocketAddress | undefined;
  readonly handlers: RedirectedHandlers;
}

export interface ListenOutboundOptions {
  /** Where to listen (WEFT_PROXY_OUTBOUND_ADDR). */
  readonly address: SocketAddress;
  readonly settings: ConnectionSettings;
  readonly metrics: ProxyMetrics;
  /** Handlers for HTTP made to the listener itself; they route each request by its Host or :authority. */
  readonly handlers: Partial<Pick<ProtocolHandlers, 'http1' | 'h2'>>;
  /** Without it, every connection is served as one made to the listener itself. */
  readonly redirected?: RedirectedRouting;
  readonly log?: TransportLog;
}

/** The app on this host is the client of every redirected connection (iptables' OUTPUT chain sent it here). */
const LOCAL_APP_CLIENT: TlsStatus = { tls: 'no_identity', reason: 'loopback' };

/**
 * Listens for connections the app makes to other services:
 * - redirected by iptables (original destination not the listener's own address): routed by that destination,
 *   whatever the protocol; the opaque-port list is checked against its port;
 * - made to the listener itself: only HTTP can be routed (by its authority); any other connection is refused with a
 *   reset and a log line saying why, rather than being sent somewhere it was not meant to go.
 * Labels: `target_addr` is the original destination of a redirected connection, else the listener's address.
 */
export async function listenOutbound(options: ListenOutboundOptions): Promise<RunningListener> {
  const refuse = (detected: DetectedConnection): void => {
    detected.connection.markFailed('ENOTDEST');
    resetSocket(detected.socket);
    options.log?.({
      event: 'outbound_refused',
      message: `a ${detected.protocol} connection reached the outbound listener, which routes only HTTP without an original destination`,
    });
  };
  const detector = new ConnectionDetector({
    handlers: { http1: refuse, h2: refuse, tls: refuse, opaque: refuse, ...options.handlers },
    opaquePorts: { has: () => false },
    timeoutMs: options.settings.detectTimeoutMs,
    ...(options.log ? { log: options.log } : {}),
  });
  const redirected = options.redirected && redirectedDetector(options.redirected, options.settings, refuse, options.log);
  const listener = await TcpListener.listen({
    address: options.address,
    direction: 'outbound',
    metrics: options.metrics,
    ...(options.redirected ? { originalDestination: options.redirected.destinationOf } : {}),
    tls: (socket, originalDst) => (originalDst === undefined ? acceptedTlsStatus(socket) : LOCAL_APP_CLIENT),
    onConnection: (connection) => {
      const originalDst = connection.originalDst;
      if (originalDst !== undefined && redirected !== undefined) redirected.accept(connection, originalDst.port);
      else detector.accept(connection, options.address.port);
    },
    ...(options.log ? { log: options.log } : {}),
  });
  return { address: listener.address, listener, close: (graceMs = 0) => listener.close(graceMs) };
}

/** Detection for redirected connections: opaque ports by the original port, each protocol to its redirected handler. */
function redirectedDetector(
  routing: RedirectedRouting,
  settings: ConnectionSettings,
  refuse: (detected: DetectedConnection) => void,
  log: TransportLog | undefined,
): ConnectionDetector {
  const hand = (protocol: TransportProtocol) => (detected: DetectedConnection) => {
    const originalDst = detected.connection.originalDst;
    if (originalDst === undefined) refuse(detected);
    else routing.handlers[protocol](detected, originalDst);
  };
  return new ConnectionDetector({
    handlers: { http1: hand('http1'), h2: hand('h2'), tls: hand('tls'), opaque: hand('opaque') },
    opaquePorts: settings.opaquePorts,
    timeoutMs: settings.detectTimeoutMs,
    ...(log ? { log } : {}),
  });
}
