// listenUpstream: the loopback listener of one local-mode upstream: accept, detect, then HTTP handlers or opaque forwarding.
import {
  type DiscoverEndpoints,
  formatAuthority,
  type ProxyMetrics,
  type SocketAddress,
} from '@weft/core';
import type { EndpointBalancer } from '../outbound/endpoint-balancer.js';
import type { ProxyConfig, UpstreamConfig } from '../proxy-config.js';
import { ConnectionDetector, type DetectedConnection, type ProtocolHandlers } from '../transport/connection-detector.js';
import { type AcceptedConnection, TcpListener } from '../transport/tcp-listener.js';
import { resetSocket } from '../transport/reset-socket.js';
import type { TransportLog } from '../transport/transport-log.js';
import { OutboundTcpForwarder } from './outbound-tcp-forwarder.js';

/** The connection-layer settings of the proxy's configuration. */
export type ConnectionSettings = Pick<ProxyConfig, 'opaquePorts' | 'detectTimeoutMs' | 'connectTimeoutMs' | 'failFastTimeoutMs'>;

export interface ListenUpstreamOptions {
  readonly upstream: UpstreamConfig;
  readonly settings: ConnectionSettings;
  /** The upstream authority's balancer (EndpointBalancerFactory); the caller closes it after the listener. */
  readonly balancer: EndpointBalancer;
  readonly discovery: DiscoverEndpoints;
  readonly metrics: ProxyMetrics;
  /**
   * Handlers for what detection finds; a protocol without one is forwarded as opaque TCP. TLS from the app is
   * never decrypted, so `tls` is normally left to opaque forwarding.
   */
  readonly handlers?: Partial<ProtocolHandlers>;
  readonly log?: TransportLog;
}

export interface RunningListener {
  /** The bound address (the real port when port 0 was asked for). */
  readonly address: SocketAddress;
  readonly listener: TcpListener;
  /** Stops accepting, gives open connections `graceMs` to end, then resets them. */
  close(graceMs?: number): Promise<void>;
}

/** Listens on the upstream's loopback address; detection checks the opaque ports against the authority's port. */
export async function listenUpstream(options: ListenUpstreamOptions): Promise<RunningListener> {
  const { upstream, settings } = options;
  const forwarder = new OutboundTcpForwarder({
    target: upstream.authority,
    balancer: options.balancer,
    discovery: options.discovery,
    connectTimeoutMs: settings.connectTimeoutMs,
    failFastTimeoutMs: settings.failFastTimeoutMs,
    ...(options.log ? { log: options.log } : {}),
  });
  const opaque = (detected: DetectedConnection) => forwardOpaque(detected, (connection) => forwarder.forward(connection), options.log);
  const detector = new ConnectionDetector({
    handlers: { http1: opaque, h2: opaque, tls: opaque, opaque, ...options.handlers },
    opaquePorts: settings.opaquePorts,
    timeoutMs: settings.detectTimeoutMs,
    ...(options.log ? { log: options.log } : {}),
  });
  const listener = await TcpListener.listen({
    address: upstream.listenAddr,
    direction: 'outbound',
    metrics: options.metrics,
    authority: formatAuthority(upstream.authority),
    onConnection: (connection) => detector.accept(connection, upstream.authority.port),
    ...(options.log ? { log: options.log } : {}),
  });
  return {
    address: listener.address,
    listener,
    close: async (graceMs = 0) => {
      await listener.close(graceMs);
      forwarder.close();
    },
  };
}

/** Runs an opaque forward; a bug that escapes it resets the connection and is logged rather than left unhandled. */
export function forwardOpaque(
  detected: DetectedConnection,
  forward: (connection: AcceptedConnection) => Promise<unknown>,
  log: TransportLog | undefined,
): void {
  forward(detected.connection).catch((error: unknown) => {
    detected.connection.markFailed();
    resetSocket(detected.socket);
    log?.({ event: 'tcp_forward_crashed', message: `opaque forwarding failed: ${error instanceof Error ? error.message : String(error)}` });
  });
}
