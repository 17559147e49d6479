// H2UpstreamSessions: one reused HTTP/2 client session per endpoint (h2c, or over mesh mTLS), replaced after GOAWAY or close.
import { type Endpoint, formatSocketAddress, type SocketAddress } from '@weft/core';
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type ClientSessionRequestOptions,
  connect as connectH2,
} from 'node:http2';
import { connect as connectTcp } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Duplex } from 'node:stream';
import type { MeshEndpoint, MeshTlsClient } from '../tls/mesh-tls-client.js';
import { ConnectError } from '../transport/connect-tcp.js';

export interface H2UpstreamOptions {
  /** Time allowed to open the connection (Linkerd's outbound default: 1 s). */
  readonly connectTimeoutMs: number;
  /** The receive window of each upstream stream: raised, since the default makes downloads slow. */
  readonly streamWindowBytes: number;
  /** The connection-level receive window. */
  readonly sessionWindowBytes: number;
  /** Largest response header list accepted from an endpoint. */
  readonly maxHeaderListSize: number;
  /** nghttp2's credit limit per upstream session, in MB. */
  readonly maxSessionMemoryMb: number;
  /** A session with no stream for this long is closed. */
  readonly idleMs: number;
  /**
   * Endpoints with a TLS identity are reached through it: mTLS to their proxy's inbound port, then a transport header
   * for an HTTP/2 session. Without it every endpoint is reached over h2c, as before.
   */
  readonly meshTls?: MeshTlsClient;
}

export const DEFAULT_H2_UPSTREAM_OPTIONS: H2UpstreamOptions = {
  connectTimeoutMs: 1_000,
  streamWindowBytes: 1024 * 1024,
  sessionWindowBytes: 8 * 1024 * 1024,
  maxHeaderListSize: 64 * 1024,
  maxSessionMemoryMb: 32,
  idleMs: 60_000,
};

/** The code of the error that ends a session whose connection did not open in time. */
export const CONNECT_TIMEOUT_CODE = 'WEFT_CONNECT_TIMEOUT';

/** One endpoint's session and what is known of its health. */
export class H2Upstream {
  /** The connection is open and the preface exchanged. */
  connected = false;
  /** No new stream may go here any more (GOAWAY, error or close); the pool opens another session. */
  retired = false;
  /** The error code the session failed with (ECONNREFUSED, WEFT_CONNECT_TIMEOUT...). */
  failure: string | undefined;
  lastUsedMs = performance.now();
  private streams = 0;

  constructor(readonly session: ClientHttp2Session) {}

  /**
   * Opens a stream. Throws if the session can take none (destroyed, closing, out of stream ids), and then retires it
   * so that the pool opens another; the request never left, so it may go again.
   */
  request(headers: readonly string[], options: ClientSessionRequestOptions): ClientHttp2Stream {
    let stream: ClientHttp2Stream;
    try {
      stream = this.session.request(headers, options);
    } catch (error) {
      if (this.session.destroyed || this.session.closed || (error as { code?: unknown }).code === 'ERR_HTTP2_OUT_OF_STREAMS') this.retired = true;
      throw error;
    }
    this.streams += 1;
    this.lastUsedMs = performance.now();
    stream.once('close', () => {
      this.streams -= 1;
      this.lastUsedMs = performance.now();
    });
    return stream;
  }

  get activeStreams(): number {
    return this.streams;
  }
}

export class H2UpstreamSessions {
  private readonly sessions = new Map<string, H2Upstream>();
  private readonly all = new Set<H2Upstream>();

  constructor(private readonly options: H2UpstreamOptions = DEFAULT_H2_UPSTREAM_OPTIONS) {}

  /**
   * The live session to `address`, opened on first use or after the last one was retired. With `endpoint` (the one
   * discovery gave for `address`) carrying a TLS identity and mesh mTLS configured, the session runs over mTLS to that
   * identity and is keyed by it too: a session is never shared between identities.
   */
  get(address: SocketAddress, endpoint?: Endpoint): H2Upstream {
    const mesh = this.options.meshTls !== undefined && this.options.meshTls.isMeshed(endpoint) ? endpoint : undefined;
    const origin = formatSocketAddress(address);
    const key = mesh === undefined ? origin : `${origin}|${mesh.tlsIdentity}|${mesh.proxyInboundPort ?? ''}`;
    const existing = this.sessions.get(key);
    if (existing !== undefined && !existing.retired && !existing.session.destroyed && !existing.session.closed) return existing;
    const upstream = this.open(key, address, mesh);
    this.sessions.set(key, upstream);
    return upstream;
  }

  /** Sessions that are open, retired ones still finishing their streams included. */
  size(): number {
    return this.all.size;
  }

  /** Closes sessions that carried no stream for the idle time. */
  sweep(): void {
    const cutoff = performance.now() - this.options.idleMs;
    for (const upstream of this.all) {
      if (upstream.activeStreams === 0 && upstream.lastUsedMs < cutoff) upstream.session.close();
    }
  }

  /** Sends GOAWAY on every session and waits for their streams to finish. */
  async close(): Promise<void> {
    const closing = [...this.all].map(
      (upstream) =>
        new Promise<void>((resolve) => {
          if (upstream.session.destroyed) return resolve();
          upstream.session.once('close', resolve);
          upstream.session.close();
        }),
    );
    this.sessions.clear();
    await Promise.all(closing);
  }

  /** Destroys every session at once. */
  destroy(): void {
    for (const upstream of this.all) upstream.session.destroy();
    this.all.clear();
    this.sessions.clear();
  }

  private open(key: string, address: SocketAddress, mesh: MeshEndpoint | undefined): H2Upstream {
    const { options } = this;
    const { meshTls } = options;
    const session = connectH2(`http://${formatSocketAddress(address)}`, {
      settings: { enablePush: false, initialWindowSize: options.streamWindowBytes, maxHeaderListSize: options.maxHeaderListSize },
      maxSessionMemory: options.maxSessionMemoryMb,
      createConnection: () =>
        mesh === undefined || meshTls === undefined
          ? // TCP keep-alive finds an endpoint that vanished without a word (Linkerd probes after 10 s too).
            connectTcp({ host: address.ip, port: address.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 10_000 })
          : meshConnection(meshTls, mesh),
    });
    const upstream = new H2Upstream(session);
    this.all.add(upstream);
    const timer = setTimeout(() => {
      session.destroy(Object.assign(new Error(`connection to ${key} did not open in ${options.connectTimeoutMs} ms`), { code: CONNECT_TIMEOUT_CODE }));
    }, options.connectTimeoutMs);
    const retire = (): void => {
      upstream.retired = true;
      if (this.sessions.get(key) === upstream) this.sessions.delete(key);
    };
    session.once('connect', () => {
      clearTimeout(timer);
      upstream.connected = true;
      session.setLocalWindowSize(options.sessionWindowBytes);
    });
    session.on('error', (error: NodeJS.ErrnoException) => {
      upstream.failure ??= error.code ?? error.name;
      retire();
    });
    session.on('goaway', retire);
    session.once('close', () => {
      clearTimeout(timer);
      retire();
      this.all.delete(upstream);
    });
    return upstream;
  }
}

/**
 * A mesh connection for the session: the TLS socket (which emits 'secureConnect' once verified and its header sent),
 * or, when none may be opened (no certificate yet), a stream that fails at once with that error, so the session
 * fails like one whose connection was refused, and nothing goes out in plaintext.
 */
function meshConnection(meshTls: MeshTlsClient, endpoint: MeshEndpoint): Duplex {
  const opened = meshTls.open(endpoint, 'http2');
  if (!(opened instanceof ConnectError)) return opened;
  const failed = new Duplex({ read: () => undefined, write: (_chunk, _encoding, done) => done() });
  process.nextTick(() => failed.destroy(Object.assign(new Error(opened.message), { code: opened.code })));
  return failed;
}
