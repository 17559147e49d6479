// Mesh mTLS test kit: settable credentials, a client proxy's MeshTlsClient and a server proxy's inbound listener on loopback.
import type { Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions, TLSSocket } from 'node:tls';
import { InMemoryProxyMetrics } from '@weft/adapter-memory';
import { SystemClock } from '@weft/adapter-system';
import { encodeTransportHeader, TRANSPORT_HEADER_ALPN, transport } from '@weft/contracts';
import { makeEndpoint, type SocketAddress, type Subscription, unwrap } from '@weft/core';
import type { CredentialSource, ProxyCredentials } from '../identity/proxy-credentials.js';
import { meshPeerOf, type MeshPeer } from '../inbound/mesh-peer.js';
import { PortSet } from '../proxy-config.js';
import { listenInbound } from '../tcp/listen-inbound.js';
import type { DetectedConnection, ProtocolHandlers } from '../transport/connection-detector.js';
import type { LoopbackPeers } from '../transport/loopback-peers.spec-helper.js';
import type { TransportEvent } from '../transport/transport-log.js';
import { type MeshWorkload, meshIdentityName } from './mesh-certificates.spec-helper.js';
import { type MeshEndpoint, MeshTlsClient } from './mesh-tls-client.js';
import { MeshTlsTerminator } from './mesh-tls-terminator.js';

/** A CredentialSource the test sets by hand. */
export class MutableCredentials implements CredentialSource {
  private credentials: ProxyCredentials | undefined;
  private readonly listeners = new Set<(credentials: ProxyCredentials) => void>();

  constructor(initial?: ProxyCredentials) {
    this.credentials = initial;
  }

  current(): ProxyCredentials | undefined {
    return this.credentials;
  }

  set(credentials: ProxyCredentials): void {
    this.credentials = credentials;
    for (const listener of [...this.listeners]) listener(credentials);
  }

  onChange(listener: (credentials: ProxyCredentials) => void): Subscription {
    this.listeners.add(listener);
    return { close: () => this.listeners.delete(listener) };
  }
}

/** What the server side saw of one connection that reached a handler. */
export interface ServedConnection {
  readonly protocol: string;
  readonly peer: MeshPeer | undefined;
  readonly socket: Socket;
  readonly targetPort: number;
  /** For a terminated mesh session: the client certificate's SHA-256 fingerprint and the TLS version. */
  readonly clientCertificate?: string | undefined;
  readonly tlsVersion?: string | null | undefined;
}

function servedConnection(protocol: string, socket: Socket, targetPort: number): ServedConnection {
  const tls = socket instanceof TLSSocket ? socket : undefined;
  return {
    protocol,
    peer: meshPeerOf(socket),
    socket,
    targetPort,
    clientCertificate: tls?.getPeerX509Certificate()?.fingerprint256,
    tlsVersion: tls?.getProtocol(),
  };
}

export interface MeshServer {
  /** The inbound listener's address (the peer proxy's inbound port). */
  readonly address: SocketAddress;
  readonly terminator: MeshTlsTerminator;
  readonly credentials: MutableCredentials;
  readonly metrics: InMemoryProxyMetrics;
  readonly events: TransportEvent[];
  /** Every connection a handler got, in order. */
  readonly served: ServedConnection[];
}

/**
 * A server proxy's inbound listener with mesh mTLS, in front of `appAddr`. Opaque sessions are forwarded to the app;
 * `handlers` may take HTTP/1 and HTTP/2 sessions. Each connection that reaches a handler is recorded in `served`.
 */
export async function startMeshServer(
  peers: LoopbackPeers,
  credentials: MutableCredentials,
  appAddr: SocketAddress,
  options: { readonly handlers?: Partial<Pick<ProtocolHandlers, 'http1' | 'h2'>>; readonly handshakeTimeoutMs?: number } = {},
): Promise<MeshServer> {
  const events: TransportEvent[] = [];
  const served: ServedConnection[] = [];
  const metrics = new InMemoryProxyMetrics();
  const terminator = new MeshTlsTerminator({
    credentials,
    clock: new SystemClock(),
    log: (event) => events.push(event),
    ...(options.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: options.handshakeTimeoutMs }),
  });
  const record = (detected: DetectedConnection) => served.push(servedConnection(detected.protocol, detected.socket, detected.targetPort));
  const recorded = (handler: ((detected: DetectedConnection) => void) | undefined) =>
    handler === undefined
      ? undefined
      : (detected: DetectedConnection) => {
          record(detected);
          handler(detected);
        };
  const http1 = recorded(options.handlers?.http1);
  const h2 = recorded(options.handlers?.h2);
  const running = await listenInbound({
    address: { ip: '127.0.0.1', port: 0 },
    appAddr,
    settings: { opaquePorts: new PortSet([]), detectTimeoutMs: 2_000, connectTimeoutMs: 1_000, failFastTimeoutMs: 1_000 },
    metrics,
    handlers: { ...(http1 ? { http1 } : {}), ...(h2 ? { h2 } : {}) },
    // Records opaque connections (plaintext, passed-through TLS and mesh sessions alike) as they are authorized.
    authorizeOpaque: (connection) => {
      served.push(servedConnection('opaque', connection.socket, 0));
      return true;
    },
    meshTls: terminator,
    log: (event) => events.push(event),
  });
  peers.onClose(async () => {
    await running.close();
    terminator.close();
  });
  return { address: running.address, terminator, credentials, metrics, events, served };
}

/** A client proxy's mesh client for `credentials`, logging into `events`. */
export function meshClient(credentials: CredentialSource, events: TransportEvent[] = []): MeshTlsClient {
  return new MeshTlsClient({ credentials, clock: new SystemClock(), log: (event) => events.push(event) });
}

/** The endpoint discovery would give for `workload`'s app on `appPort`, behind the proxy inbound port `inboundPort`. */
export function meshEndpoint(workload: MeshWorkload, appPort: number, inboundPort: number): MeshEndpoint {
  const tlsIdentity = meshIdentityName(workload);
  const endpoint = unwrap(makeEndpoint({ address: { ip: '127.0.0.1', port: appPort }, tlsIdentity, proxyInboundPort: inboundPort }));
  return { ...endpoint, tlsIdentity };
}

/** The transport header frame a client proxy sends first. */
export function headerFrame(port: number, protocol: 'opaque' | 'http1' | 'http2' = 'opaque'): Buffer {
  const sessionProtocol =
    protocol === 'http1'
      ? transport.SessionProtocol.SESSION_PROTOCOL_HTTP1
      : protocol === 'http2'
        ? transport.SessionProtocol.SESSION_PROTOCOL_HTTP2
        : transport.SessionProtocol.SESSION_PROTOCOL_OPAQUE;
  return Buffer.from(encodeTransportHeader({ port, name: '', sessionProtocol }));
}

/**
 * A hand-made TLS client (not MeshTlsClient): for sending what a Weft proxy never would. Resolves once the handshake
 * is done from the client's side, or with the error that ended it.
 */
export function rawMeshTls(address: SocketAddress, options: ConnectionOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: address.ip, port: address.port, ALPNProtocols: [TRANSPORT_HEADER_ALPN], ...options });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Resolves when the peer has ended or closed `socket` (which is then destroyed), with the bytes it received and the
 * error code it ended with. Mesh sockets allow half-open connections, so a peer's FIN alone does not close them.
 */
export function closedWith(socket: Socket): Promise<{ readonly bytes: Buffer; readonly errorCode: string | undefined }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let errorCode: string | undefined;
    const done = () => {
      socket.destroy();
      resolve({ bytes: Buffer.concat(chunks), errorCode });
    };
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => (errorCode ??= error.code ?? error.message));
    if (socket.closed) done();
    socket.once('end', done);
    socket.once('close', done);
    socket.resume();
  });
}
