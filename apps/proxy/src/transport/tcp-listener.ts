// TcpListener: accepts TCP connections on one address and counts each one (open, close, bytes) through ProxyMetrics.
import { createServer, type Server, type Socket } from 'node:net';
import {
  formatSocketAddress,
  type ProxyMetrics,
  type SocketAddress,
  type TlsStatus,
  type TrafficDirection,
  type TrafficLabels,
} from '@weft/core';
import { resetSocket } from './reset-socket.js';
import { silentTransportLog, type TransportLog } from './transport-log.js';

/** TCP keep-alive probes start after this much silence, so a peer that vanished is found (Linkerd uses 10 s too). */
export const TCP_KEEPALIVE_MS = 10_000;

/** One accepted connection, with the labels its metrics carry. */
export interface AcceptedConnection {
  readonly socket: Socket;
  /** The labels of the connection's metrics; their `tls` may be decided after accept (see `decideTls`). */
  readonly labels: TrafficLabels;
  /**
   * Transparent mode: where the client was connecting before iptables redirected the connection here (SO_ORIGINAL_DST).
   * Undefined for a connection made to the listener itself, and on listeners that do not read it.
   */
  readonly originalDst?: SocketAddress;
  /** Records the connection as failed (`classification="failure"`), e.g. when its upstream could not be reached. */
  markFailed(errno?: string): void;
  /**
   * Sets the `tls` labels once what the connection is has been found (mesh mTLS, plaintext, passed-through TLS) and
   * counts it open with them. Only for a listener made with `tlsDecidedLater`; otherwise, or after the first call,
   * it does nothing.
   */
  decideTls?(status: TlsStatus): void;
}

export interface TcpListenerOptions {
  readonly address: SocketAddress;
  readonly direction: TrafficDirection;
  readonly metrics: ProxyMetrics;
  /** The canonical authority the connections are for (an upstream of local mode); never a client-given name. */
  readonly authority?: string;
  /**
   * Reads each accepted connection's original destination (transparent mode), once, before its labels are made: what it
   * returns is the connection's `originalDst` and, unless `targetAddr` says otherwise, its `target_addr` label. Left
   * out, nothing is read (the upstream listeners).
   */
  readonly originalDestination?: (socket: Socket) => SocketAddress | undefined;
  /** The `target_addr` label; by default the original destination, else the local address the client connected to. */
  readonly targetAddr?: (socket: Socket, originalDst: SocketAddress | undefined) => string;
  /** The `tls` labels; by default `acceptedTlsStatus` of the client's address. */
  readonly tls?: (socket: Socket, originalDst: SocketAddress | undefined) => TlsStatus;
  /**
   * The `tls` labels are known only after accept (the inbound listener terminating mesh mTLS): a connection is
   * counted open when its handler calls `decideTls`, or, if it closes first, at close with the `tls` labels above.
   */
  readonly tlsDecidedLater?: boolean;
  readonly onConnection: (connection: AcceptedConnection) => void;
  /** Told of accept errors (e.g. EMFILE when out of file descriptors); the listener keeps listening. */
  readonly log?: TransportLog;
}

/** Loopback clients are labelled `no_identity`/`loopback`; others `disabled`, until the proxy terminates mTLS. */
export function acceptedTlsStatus(socket: Socket): TlsStatus {
  return isLoopback(socket.remoteAddress) ? { tls: 'no_identity', reason: 'loopback' } : { tls: 'disabled' };
}

/** A plaintext client of a proxy that terminates mesh mTLS: `no_identity`, for `loopback` or `no_tls_from_remote`. */
export function plaintextTlsStatus(socket: Socket): TlsStatus {
  return { tls: 'no_identity', reason: isLoopback(socket.remoteAddress) ? 'loopback' : 'no_tls_from_remote' };
}

export function isLoopback(ip: string | undefined): boolean {
  if (ip === undefined) return false;
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}

/** The socket's own end (`local`) or its peer's, as "ip:port"; IPv4-mapped IPv6 is written as IPv4. */
export function socketAddressOf(socket: Socket, end: 'local' | 'remote'): string {
  const ip = (end === 'local' ? socket.localAddress : socket.remoteAddress) ?? '0.0.0.0';
  const port = (end === 'local' ? socket.localPort : socket.remotePort) ?? 0;
  return formatSocketAddress({ ip: ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip, port });
}

function defaultTargetAddr(socket: Socket, originalDst: SocketAddress | undefined): string {
  return originalDst === undefined ? socketAddressOf(socket, 'local') : formatSocketAddress(originalDst);
}

export class TcpListener {
  private readonly sockets = new Set<Socket>();
  private readonly drainWaiters = new Set<() => void>();

  private constructor(
    private readonly server: Server,
    /** The address the listener is bound to; the real port when port 0 was asked for. */
    readonly address: SocketAddress,
  ) {}

  /** Binds and starts accepting; rejects if the address cannot be bound (e.g. EADDRINUSE). */
  static async listen(options: TcpListenerOptions): Promise<TcpListener> {
    const server = createServer({ allowHalfOpen: true, noDelay: true, keepAlive: true, keepAliveInitialDelay: TCP_KEEPALIVE_MS });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: options.address.ip, port: options.address.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address();
    const port = typeof bound === 'object' && bound !== null ? bound.port : options.address.port;
    const listener = new TcpListener(server, { ip: options.address.ip, port });
    server.on('connection', (socket) => listener.accept(socket, options));
    const log = options.log ?? silentTransportLog;
    server.on('error', (error: NodeJS.ErrnoException) =>
      log({ event: 'accept_failed', message: `accepting on ${formatSocketAddress(listener.address)} failed: ${error.message}`, errno: error.code }),
    );
    return listener;
  }

  /** How many accepted connections are still open. */
  get openConnections(): number {
    return this.sockets.size;
  }

  /**
   * Stops accepting, waits up to `graceMs` for open connections to end by themselves, then resets the rest.
   * Resolves once the listening socket is closed.
   */
  async close(graceMs = 0): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (graceMs > 0) await this.drained(graceMs);
    for (const socket of this.sockets) resetSocket(socket);
    await closed;
  }

  /** Resolves when no connection is open any more, or after `ms`. */
  private drained(ms: number): Promise<void> {
    if (this.sockets.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.drainWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.drainWaiters.add(done);
    });
  }

  private accept(socket: Socket, options: TcpListenerOptions): void {
    const originalDst = options.originalDestination?.(socket);
    let labels: TrafficLabels = {
      direction: options.direction,
      ...(options.authority === undefined ? {} : { authority: options.authority }),
      targetAddr: options.targetAddr ? options.targetAddr(socket, originalDst) : defaultTargetAddr(socket, originalDst),
      tls: (options.tls ?? acceptedTlsStatus)(socket, originalDst),
    };
    let failure: { errno?: string } | undefined;
    // Always listening for errors, so a client's reset never crashes the process; the first error is the one counted.
    socket.on('error', (error: NodeJS.ErrnoException) => {
      failure ??= error.code === undefined ? {} : { errno: error.code };
    });
    this.sockets.add(socket);
    let opened = options.tlsDecidedLater !== true;
    if (opened) options.metrics.tcpOpened(labels);
    socket.once('close', () => {
      this.sockets.delete(socket);
      if (this.sockets.size === 0) for (const done of [...this.drainWaiters]) done();
      if (!opened) options.metrics.tcpOpened(labels);
      opened = true;
      options.metrics.tcpClosed(labels, {
        classification: failure ? 'failure' : 'success',
        ...(failure?.errno === undefined ? {} : { errno: failure.errno }),
        readBytes: socket.bytesRead,
        writeBytes: socket.bytesWritten,
      });
    });
    options.onConnection({
      socket,
      ...(originalDst === undefined ? {} : { originalDst }),
      get labels() {
        return labels;
      },
      markFailed: (errno) => {
        failure ??= errno === undefined ? {} : { errno };
      },
      decideTls: (status) => {
        if (opened) return;
        opened = true;
        labels = { ...labels, tls: status };
        options.metrics.tcpOpened(labels);
      },
    });
  }
}
