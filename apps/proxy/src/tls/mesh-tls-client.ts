// MeshTlsClient: opens mTLS connections to peer proxies (SNI = their identity, their leaf checked), then sends the transport header.
import { connect as connectTcp } from 'node:net';
import { connect as connectTls, type PeerCertificate, type SecureContext, type TLSSocket } from 'node:tls';
import { encodeTransportHeader, TRANSPORT_HEADER_ALPN, transport } from '@weft/contracts';
import {
  type Clock,
  type Endpoint,
  formatDuration,
  formatSocketAddress,
  type Milliseconds,
  type SocketAddress,
  type TlsStatus,
} from '@weft/core';
import type { CredentialSource, ProxyCredentials } from '../identity/proxy-credentials.js';
import { ConnectError } from '../transport/connect-tcp.js';
import { TCP_KEEPALIVE_MS } from '../transport/tcp-listener.js';
import { silentTransportLog, type TransportLog } from '../transport/transport-log.js';
import { peerChainPem, verifyServerLeaf } from './mesh-leaf-check.js';
import { MeshSecureContextCache } from './mesh-secure-context.js';
import { resetThroughTcp } from './reset-through-tcp.js';

/** The peer proxy's inbound port when discovery names none. */
export const DEFAULT_PROXY_INBOUND_PORT = 4243;

/** What the session after the header carries; the peer hands it to its matching path. */
export type MeshSessionProtocol = 'opaque' | 'http1' | 'http2';

const SESSION_PROTOCOLS: Readonly<Record<MeshSessionProtocol, transport.SessionProtocol>> = {
  opaque: transport.SessionProtocol.SESSION_PROTOCOL_OPAQUE,
  http1: transport.SessionProtocol.SESSION_PROTOCOL_HTTP1,
  http2: transport.SessionProtocol.SESSION_PROTOCOL_HTTP2,
};

/** Error codes of mesh connections that failed for a reason of their own (TCP and TLS errors keep Node's codes). */
export const MESH_CONNECT_ERRORS = {
  /** This proxy has no certificate yet: it will not connect in plaintext instead. */
  noCertificate: 'WEFT_NO_CERTIFICATE',
  /** This proxy's own certificate or key did not load. */
  badCredentials: 'WEFT_BAD_CREDENTIALS',
  /** The peer did not select the transport header's ALPN protocol. */
  noAlpn: 'WEFT_NO_TRANSPORT_ALPN',
} as const;

/** An endpoint that is reached over mesh mTLS. */
export type MeshEndpoint = Endpoint & { readonly tlsIdentity: string };

export interface MeshTlsClientOptions {
  /** This proxy's certificate; until it has one, mesh connections fail rather than go out in plaintext. */
  readonly credentials: CredentialSource;
  /** The time the leaf checks use. */
  readonly clock: Clock;
  readonly log?: TransportLog;
}

export interface MeshConnectOptions {
  readonly timeoutMs: Milliseconds;
  /** Gives up the attempt, e.g. when the client that waits for it has gone. */
  readonly signal?: AbortSignal;
}

export class MeshTlsClient {
  private readonly contexts = new MeshSecureContextCache();
  private readonly log: TransportLog;

  constructor(private readonly options: MeshTlsClientOptions) {
    this.log = options.log ?? silentTransportLog;
  }

  /** Whether connections to `endpoint` must be mesh mTLS: discovery gave it a TLS identity. */
  isMeshed(endpoint: Endpoint | undefined): endpoint is MeshEndpoint {
    return endpoint?.tlsIdentity !== undefined;
  }

  /** The connect-side `tls` labels of a connection to `endpoint`. */
  tlsStatusOf(endpoint: Endpoint | undefined): TlsStatus {
    return this.isMeshed(endpoint)
      ? { tls: 'true', peerIdentity: endpoint.tlsIdentity }
      : { tls: 'no_identity', reason: 'not_provided_by_service_discovery' };
  }

  /** Where a mesh connection to `endpoint` goes: its proxy's inbound port on the endpoint's IP. */
  peerAddressOf(endpoint: MeshEndpoint): SocketAddress {
    return { ip: endpoint.address.ip, port: endpoint.proxyInboundPort ?? DEFAULT_PROXY_INBOUND_PORT };
  }

  /**
   * Starts a mesh connection and returns its socket at once (for HTTP/2's createConnection), or the ConnectError
   * that stops it before any byte is sent (no certificate yet). The socket emits 'secureConnect' only once the
   * server's chain and leaf are verified, it selected the transport ALPN, and the header has been written; any
   * failure is an 'error' carrying Node's TLS code or a MESH_CONNECT_ERRORS code. Every failure is logged as
   * `mesh_tls_connect_failed`.
   */
  open(endpoint: MeshEndpoint, protocol: MeshSessionProtocol): TLSSocket | ConnectError {
    const peer = this.peerAddressOf(endpoint);
    const credentials = this.options.credentials.current();
    if (credentials === undefined) {
      return this.refuse(endpoint, peer, MESH_CONNECT_ERRORS.noCertificate, 'this proxy has no certificate yet; it does not fall back to plaintext');
    }
    let secureContext: SecureContext;
    try {
      secureContext = this.contexts.contextFor(credentials);
    } catch (error) {
      return this.refuse(endpoint, peer, MESH_CONNECT_ERRORS.badCredentials, `this proxy's certificate does not load: ${messageOf(error)}`);
    }
    const tcp = connectTcp({ host: peer.ip, port: peer.port, allowHalfOpen: true, noDelay: true, keepAlive: true, keepAliveInitialDelay: TCP_KEEPALIVE_MS });
    const socket = connectTls({
      socket: tcp,
      servername: endpoint.tlsIdentity,
      secureContext,
      ALPNProtocols: [TRANSPORT_HEADER_ALPN],
      rejectUnauthorized: true,
      checkServerIdentity: (_servername, certificate) => this.checkServer(certificate, endpoint.tlsIdentity, credentials),
    });
    tcp.on('error', () => undefined); // the TLS socket reports the same error
    resetThroughTcp(socket, tcp);
    // Failures until the connection is ready are connect failures; later ones belong to the session.
    const logFailure = (error: NodeJS.ErrnoException) => this.logFailure(endpoint, peer, error.code ?? 'ECONNECT', messageOf(error));
    socket.once('error', logFailure);
    socket.once('secureConnect', () => socket.off('error', logFailure));
    const frame = encodeTransportHeader({ port: endpoint.address.port, name: '', sessionProtocol: SESSION_PROTOCOLS[protocol] });
    sendHeaderBeforeSecureConnect(socket, frame);
    return socket;
  }

  /**
   * A verified mesh connection to `endpoint` with the header sent, or a ConnectError: ETIMEDOUT after `timeoutMs`,
   * ABORTED when `signal` fires, the TCP error (ECONNREFUSED...), the TLS error (CERT_HAS_EXPIRED,
   * ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED...) or WEFT_PEER_CERTIFICATE_REFUSED when the leaf breaks a rule or
   * names another identity. Every failure but ABORTED is logged as `mesh_tls_connect_failed`.
   */
  connect(endpoint: MeshEndpoint, protocol: MeshSessionProtocol, options: MeshConnectOptions): Promise<TLSSocket> {
    const peer = this.peerAddressOf(endpoint);
    if (options.signal?.aborted) return Promise.reject(new ConnectError(peer, 'ABORTED', 'the attempt was given up before it began'));
    const opened = this.open(endpoint, protocol);
    if (opened instanceof ConnectError) return Promise.reject(opened);
    const socket = opened;
    return new Promise((resolve, reject) => {
      const settle = (error?: ConnectError) => {
        clearTimeout(timer);
        socket.off('secureConnect', onSecure);
        socket.off('error', onError);
        socket.off('close', onClose);
        options.signal?.removeEventListener('abort', onAbort);
        if (error === undefined) return resolve(socket);
        socket.destroy();
        reject(error);
      };
      const onSecure = () => settle();
      const onError = (error: NodeJS.ErrnoException) => settle(new ConnectError(peer, error.code ?? 'ECONNECT', messageOf(error)));
      const onClose = () => {
        const reason = 'the peer closed the connection before it was verified';
        this.logFailure(endpoint, peer, 'ECONNRESET', reason);
        settle(new ConnectError(peer, 'ECONNRESET', reason));
      };
      const onAbort = () => settle(new ConnectError(peer, 'ABORTED', 'the attempt was given up'));
      const onTimeout = () => {
        const reason = `no verified mTLS connection within ${formatDuration(options.timeoutMs)}`;
        this.logFailure(endpoint, peer, 'ETIMEDOUT', reason);
        settle(new ConnectError(peer, 'ETIMEDOUT', reason));
      };
      const timer = setTimeout(onTimeout, options.timeoutMs);
      socket.once('secureConnect', onSecure);
      socket.once('error', onError);
      socket.once('close', onClose);
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private logFailure(endpoint: MeshEndpoint, peer: SocketAddress, code: string, message: string): void {
    this.log({
      event: 'mesh_tls_connect_failed',
      message: `mTLS to ${endpoint.tlsIdentity} at ${formatSocketAddress(peer)} failed: ${message}`,
      serverId: endpoint.tlsIdentity,
      peer: formatSocketAddress(peer),
      errno: code,
    });
  }

  private refuse(endpoint: MeshEndpoint, peer: SocketAddress, code: string, reason: string): ConnectError {
    this.logFailure(endpoint, peer, code, reason);
    return new ConnectError(peer, code, reason);
  }

  /** checkServerIdentity: the chain is already verified against the anchors; now the SPIFFE leaf rules and the name. */
  private checkServer(certificate: PeerCertificate, expected: string, credentials: ProxyCredentials): Error | undefined {
    const checked = verifyServerLeaf(peerChainPem(certificate), credentials, expected, this.options.clock.now());
    return checked.ok ? undefined : checked.error;
  }
}

/**
 * Holds back the socket's 'secureConnect' until the peer selected the transport ALPN and the header frame is flushed
 * to the socket, so that whoever listens sees a connection ready for its first application byte. HTTP/2 needs this:
 * it takes over the socket's native handle on 'secureConnect', and a write still in flight then would complete into
 * the HTTP/2 session and abort the process (node_http2.cc, "is_write_in_progress"). Node's verification (chain,
 * checkServerIdentity) has run before 'secureConnect', so the header is never sent to an unverified server.
 */
function sendHeaderBeforeSecureConnect(socket: TLSSocket, frame: Uint8Array): void {
  const original = socket.emit;
  const emit = (event: string | symbol, ...args: unknown[]): boolean => Reflect.apply(original, socket, [event, ...args]) as boolean;
  socket.emit = function holdSecureConnect(event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'secureConnect') return emit(event, ...args);
    socket.emit = original;
    if (socket.alpnProtocol !== TRANSPORT_HEADER_ALPN) {
      const error = Object.assign(new Error(`the peer selected ALPN ${String(socket.alpnProtocol)}, not ${TRANSPORT_HEADER_ALPN}`), {
        code: MESH_CONNECT_ERRORS.noAlpn,
      });
      socket.destroy(error);
      return true;
    }
    socket.write(frame, (error) => {
      if (error) socket.destroy(error);
      else emit('secureConnect');
    });
    return true;
  } as typeof socket.emit;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
