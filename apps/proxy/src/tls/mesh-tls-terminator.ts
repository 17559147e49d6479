// MeshTlsTerminator: ends mesh mTLS on the inbound listener: client leaf checked, transport header read, the peer named on the socket.
import { constants } from 'node:crypto';
import type { Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { TRANSPORT_HEADER_ALPN, transport } from '@weft/contracts';
import type { Clock, Subscription } from '@weft/core';
import type { CredentialSource, ProxyCredentials } from '../identity/proxy-credentials.js';
import { setMeshPeer } from '../inbound/mesh-peer.js';
import type { DecidedDetection } from '../transport/connection-detector.js';
import { resetSocket } from '../transport/reset-socket.js';
import { socketAddressOf } from '../transport/tcp-listener.js';
import { silentTransportLog, type TransportLog } from '../transport/transport-log.js';
import { verifyClientLeaf } from './mesh-leaf-check.js';
import { meshTlsOptions } from './mesh-secure-context.js';
import type { MeshSessionProtocol } from './mesh-tls-client.js';
import { readTransportHeader } from './read-transport-header.js';
import { resetThroughTcp } from './reset-through-tcp.js';

/** What to do with a TLS ClientHello on the inbound listener. */
export type MeshHelloRoute =
  /** Its SNI is this proxy's identity and it offers the transport ALPN: mesh traffic, terminate it. */
  | 'terminate'
  /** Mesh traffic for this proxy, but the proxy has no certificate yet: refuse it. */
  | 'not-ready'
  /** Another SNI, no SNI, or no transport ALPN: TLS meant for the application, passed through unchanged. */
  | 'pass-through';

/** Why a mesh connection was refused. */
export type MeshRefusal = 'handshake' | 'peer-certificate' | 'transport-header' | 'not-ready';

/** A terminated, verified mesh connection, ready for the path its header names. */
export interface MeshSession {
  /** The decrypted socket, positioned at the session's first byte; setMeshPeer has named its peer. */
  readonly socket: TLSSocket;
  /** The client proxy's verified identity name. */
  readonly peerIdentity: string;
  readonly header: transport.TransportHeader;
  readonly protocol: MeshSessionProtocol;
}

export interface MeshSessionListener {
  /** The connection is verified and its header read. */
  onSession(session: MeshSession): void;
  /** The connection was refused (already counted and logged) and is being closed; called before its socket's 'close'. */
  onRefused(refusal: MeshRefusal): void;
}

export interface MeshTlsTerminatorOptions {
  readonly credentials: CredentialSource;
  readonly clock: Clock;
  /** A handshake not done after this long is refused (default 5 s). */
  readonly handshakeTimeoutMs?: number;
  /** A transport header not arrived this long after the handshake is refused (default 5 s). */
  readonly headerTimeoutMs?: number;
  readonly log?: TransportLog;
  /** Told of each refusal, e.g. to count it in a metric. */
  readonly onRefusal?: (refusal: MeshRefusal) => void;
}

export const DEFAULT_MESH_HANDSHAKE_TIMEOUT_MS = 5_000;
export const DEFAULT_MESH_HEADER_TIMEOUT_MS = 5_000;

const PROTOCOLS: Readonly<Record<number, MeshSessionProtocol>> = {
  [transport.SessionProtocol.SESSION_PROTOCOL_OPAQUE]: 'opaque',
  [transport.SessionProtocol.SESSION_PROTOCOL_HTTP1]: 'http1',
  [transport.SessionProtocol.SESSION_PROTOCOL_HTTP2]: 'http2',
};

export class MeshTlsTerminator {
  private server: TlsServer | undefined;
  /** Connections between accept and session, by four-tuple, with what refused them if something did. */
  private readonly pending = new Map<string, { readonly raw: Socket; readonly listener: MeshSessionListener; refusal: MeshRefusal }>();
  private readonly refusals: Record<MeshRefusal, number> = { handshake: 0, 'peer-certificate': 0, 'transport-header': 0, 'not-ready': 0 };
  private readonly subscription: Subscription;
  private readonly log: TransportLog;

  constructor(private readonly options: MeshTlsTerminatorOptions) {
    this.log = options.log ?? silentTransportLog;
    // New connections get the new certificate; connections already open keep theirs.
    this.subscription = options.credentials.onChange((credentials) => this.rotate(credentials));
  }

  /** Refusals so far, by kind. */
  refusalCounts(): Readonly<Record<MeshRefusal, number>> {
    return { ...this.refusals };
  }

  /** Decides from the ClientHello (as detection read it) whether this is mesh traffic for this proxy. */
  routeHello(detection: DecidedDetection): MeshHelloRoute {
    if (detection.protocol !== 'tls' || detection.alpn?.includes(TRANSPORT_HEADER_ALPN) !== true) return 'pass-through';
    const credentials = this.options.credentials.current();
    if (credentials === undefined) return 'not-ready';
    const sni = detection.sni?.toLowerCase();
    return sni !== undefined && sni === credentials.identityName.toLowerCase() ? 'terminate' : 'pass-through';
  }

  /** Refuses mesh traffic that came before this proxy had a certificate: reset, counted, logged. */
  refuseNotReady(raw: Socket): void {
    this.refused('not-ready', `a mesh connection from ${socketAddressOf(raw, 'remote')} came before this proxy has a certificate`);
    resetSocket(raw);
  }

  /**
   * Runs the TLS handshake on `raw` (its ClientHello still unread, as detection leaves it), then the checks; the
   * listener learns the outcome. Handshake failures (no client certificate, foreign CA, expired, TLS 1.2, timeout)
   * are counted and the socket destroyed; nothing is ever forwarded in plaintext.
   */
  terminate(raw: Socket, listener: MeshSessionListener): void {
    const credentials = this.options.credentials.current();
    if (credentials === undefined) {
      listener.onRefused('not-ready');
      this.refuseNotReady(raw);
      return;
    }
    if (raw.destroyed) {
      listener.onRefused('handshake'); // the client went away while detection read its ClientHello
      return;
    }
    const key = connectionKey(raw);
    this.pending.set(key, { raw, listener, refusal: 'handshake' });
    // Runs before the listener's own 'close' handlers, so the connection is marked failed before it is counted closed.
    raw.prependOnceListener('close', () => {
      const waiting = this.pending.get(key);
      if (waiting === undefined) return;
      this.pending.delete(key);
      waiting.listener.onRefused(waiting.refusal);
    });
    let server: TlsServer;
    try {
      server = this.serverFor(credentials);
    } catch (error) {
      this.pending.delete(key);
      listener.onRefused('not-ready');
      this.refused('not-ready', `this proxy's certificate does not load, so mesh connections are refused: ${messageOf(error)}`);
      resetSocket(raw);
      return;
    }
    server.emit('connection', raw);
  }

  close(): void {
    this.subscription.close();
    this.server?.close();
  }

  private rotate(credentials: ProxyCredentials): void {
    try {
      this.server?.setSecureContext(serverTlsOptions(credentials));
    } catch (error) {
      // The previous certificate stays in use; the lifecycle reports the bad one.
      this.log({ event: 'mesh_tls_rotation_failed', message: `the new certificate does not load, the previous one stays in use: ${messageOf(error)}` });
    }
  }

  private serverFor(credentials: ProxyCredentials): TlsServer {
    if (this.server !== undefined) return this.server;
    const server = createTlsServer({
      ...serverTlsOptions(credentials),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: [TRANSPORT_HEADER_ALPN],
      handshakeTimeout: this.options.handshakeTimeoutMs ?? DEFAULT_MESH_HANDSHAKE_TIMEOUT_MS,
    });
    server.on('secureConnection', (socket: TLSSocket) => this.onSecure(socket));
    server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
      // A chain Node refused after the handshake ends here too (as a hang-up), with the reason in authorizationError.
      const reason = socket.authorizationError ?? error.code ?? 'handshake failed';
      this.refused('handshake', `mTLS handshake refused: ${String(reason)} (${error.message})`, String(reason));
      // Node leaves the socket open after some of these (a handshake timeout); nothing more is to be read from it.
      socket.destroy();
    });
    this.server = server;
    return server;
  }

  private onSecure(socket: TLSSocket): void {
    socket.on('error', () => undefined); // the socket's close does the cleanup; errors must not go unhandled
    const key = connectionKey(socket);
    const pending = this.pending.get(key);
    const credentials = this.options.credentials.current();
    if (pending === undefined || credentials === undefined) {
      socket.destroy();
      return;
    }
    resetThroughTcp(socket, pending.raw);
    const client = socketAddressOf(socket, 'remote');
    const refuse = (refusal: MeshRefusal, message: string, errno?: string) => {
      pending.refusal = refusal;
      this.refused(refusal, message, errno);
      socket.destroy();
    };
    const checked = verifyClientLeaf(socket.getPeerX509Certificate()?.toString(), socket.authorized, credentials, this.options.clock.now());
    if (!checked.ok) return refuse('peer-certificate', `the client certificate from ${client} was refused: ${checked.error.message}`);
    const peerIdentity = checked.value.identityName;
    void readTransportHeader(socket, this.options.headerTimeoutMs ?? DEFAULT_MESH_HEADER_TIMEOUT_MS).then((header) => {
      if (!header.ok) {
        return refuse('transport-header', `the transport header from ${peerIdentity} at ${client} was refused: ${header.error.message}`, header.error.problem);
      }
      this.pending.delete(key);
      setMeshPeer(socket, { tls: { tls: 'true', peerIdentity }, remoteIp: remoteIpOf(socket), targetPort: header.value.port });
      const protocol = PROTOCOLS[header.value.sessionProtocol] ?? 'opaque';
      pending.listener.onSession({ socket, peerIdentity, header: header.value, protocol });
    });
  }

  private refused(refusal: MeshRefusal, message: string, errno?: string): void {
    this.refusals[refusal] += 1;
    this.log({ event: 'mesh_tls_refused', message, refusal, ...(errno === undefined ? {} : { errno }) });
    this.options.onRefusal?.(refusal);
  }
}

function serverTlsOptions(credentials: ProxyCredentials) {
  // No session tickets: every connection proves its identity with a full handshake.
  return { ...meshTlsOptions(credentials), secureOptions: constants.SSL_OP_NO_TICKET };
}

/**
 * The connection's four-tuple: the TLS socket Node creates shares the raw socket's TCP handle, so both report the
 * same addresses, and no two open connections have the same.
 */
function connectionKey(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}|${socket.localAddress}|${socket.localPort}`;
}

function remoteIpOf(socket: Socket): string {
  const ip = socket.remoteAddress ?? '';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
