// listenOutbound: the transparent outbound listener: HTTP is routed by its authority; other traffic needs its original destination.
import type { ProxyMetrics, SocketAddress } from '@weft/core';
import { ConnectionDetector, type DetectedConnection, type ProtocolHandlers } from '../transport/connection-detector.js';
import { resetSocket } from '../transport/reset-socket.js';
import { TcpListener } from '../transport/tcp-listener.js';
import type { TransportLog } from '../transport/transport-log.js';
import type { ConnectionSettings, RunningListener } from './listen-upstream.js';

export interface ListenOutboundOptions {
  /** Where to listen (WEFT_PROXY_OUTBOUND_ADDR). */
  readonly address: SocketAddress;
  readonly settings: ConnectionSettings;
  readonly metrics: ProxyMetrics;
  /** Handlers for HTTP; they route each request by its Host or :authority. */
  readonly handlers: Partial<Pick<ProtocolHandlers, 'http1' | 'h2'>>;
  readonly log?: TransportLog;
}

/**
 * Listens for connections the app makes to other services. Until the proxy can read a redirected connection's
 * original destination, only HTTP can be routed here (by its authority); any other connection is refused with a
 * reset and a log line saying why, rather than being sent somewhere it was not meant to go.
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
  const listener = await TcpListener.listen({
    address: options.address,
    direction: 'outbound',
    metrics: options.metrics,
    onConnection: (connection) => detector.accept(connection, options.address.port),
    ...(options.log ? { log: options.log } : {}),
  });
  return { address: listener.address, listener, close: (graceMs = 0) => listener.close(graceMs) };
}
