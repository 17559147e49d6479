// UpstreamPools: one keep-alive undici Pool per endpoint (address, and identity over mTLS), closed after the endpoint has idled.
import { type Endpoint, formatSocketAddress, type SocketAddress } from '@weft/core';
import { performance } from 'node:perf_hooks';
import { type buildConnector, Pool } from 'undici';
import type { MeshEndpoint, MeshTlsClient } from '../tls/mesh-tls-client.js';
import type { ConnectError } from '../transport/connect-tcp.js';

export interface UpstreamPoolOptions {
  /** Time allowed to open a connection (Linkerd's outbound default: 1 s). */
  readonly connectTimeoutMs: number;
  /** Time allowed for the response head once the request is sent. */
  readonly headersTimeoutMs: number;
  /** Longest silence between two body chunks of a response. */
  readonly bodyTimeoutMs: number;
  /** Idle keep-alive connections close after this (undici also honours the server's shorter Keep-Alive hint). */
  readonly keepAliveTimeoutMs: number;
  /**
   * The same for mTLS connections to peer proxies: each one costs a handshake on both proxies, so they are kept for
   * longer than plaintext ones (the peer's inbound server keeps them longer still, INBOUND_HTTP1_SERVER_LIMITS).
   */
  readonly meshKeepAliveTimeoutMs: number;
  /** Largest upstream response head accepted. */
  readonly maxResponseHeaderBytes: number;
  /** A pool unused for this long is closed. */
  readonly poolIdleMs: number;
  /**
   * Endpoints with a TLS identity are reached through it: mTLS to their proxy's inbound port, then a transport header
   * for an HTTP/1 session. Without it every endpoint is reached in plaintext, as before.
   */
  readonly meshTls?: MeshTlsClient;
}

export const DEFAULT_UPSTREAM_POOL_OPTIONS: UpstreamPoolOptions = {
  connectTimeoutMs: 1_000,
  headersTimeoutMs: 300_000,
  bodyTimeoutMs: 300_000,
  keepAliveTimeoutMs: 4_000,
  meshKeepAliveTimeoutMs: 60_000,
  maxResponseHeaderBytes: 16 * 1024,
  poolIdleMs: 60_000,
};

interface Entry {
  readonly pool: Pool;
  lastUsedMs: number;
}

export class UpstreamPools {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: UpstreamPoolOptions = DEFAULT_UPSTREAM_POOL_OPTIONS) {}

  /**
   * The pool of connections to `address`, opened on first use. With `endpoint` (the one discovery gave for `address`)
   * carrying a TLS identity and mesh mTLS configured, the pool's connections are mTLS to that identity, and the pool
   * is keyed by the identity too: a connection is never shared between identities.
   */
  get(address: SocketAddress, endpoint?: Endpoint): Pool {
    const mesh = this.options.meshTls !== undefined && this.options.meshTls.isMeshed(endpoint) ? endpoint : undefined;
    const origin = formatSocketAddress(address);
    const key = mesh === undefined ? origin : `${origin}|${mesh.tlsIdentity}|${mesh.proxyInboundPort ?? ''}`;
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { pool: this.open(origin, mesh), lastUsedMs: 0 };
      this.entries.set(key, entry);
    }
    entry.lastUsedMs = performance.now();
    return entry.pool;
  }

  /** Closes pools unused for the idle time (their in-flight requests, if any, finish first). */
  sweep(): void {
    const cutoff = performance.now() - this.options.poolIdleMs;
    for (const [key, entry] of this.entries) {
      if (entry.lastUsedMs < cutoff) {
        this.entries.delete(key);
        void entry.pool.close().catch(() => undefined);
      }
    }
  }

  size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    const pools = [...this.entries.values()].map((entry) => entry.pool);
    this.entries.clear();
    await Promise.all(pools.map((pool) => pool.destroy().catch(() => undefined)));
  }

  private open(origin: string, mesh: MeshEndpoint | undefined): Pool {
    const { connectTimeoutMs, headersTimeoutMs, bodyTimeoutMs, keepAliveTimeoutMs, meshKeepAliveTimeoutMs, maxResponseHeaderBytes, meshTls } = this.options;
    const meshed = mesh !== undefined && meshTls !== undefined;
    return new Pool(`http://${origin}`, {
      pipelining: 1,
      connect: meshed ? meshConnector(meshTls, mesh, connectTimeoutMs) : { timeout: connectTimeoutMs },
      headersTimeout: headersTimeoutMs,
      bodyTimeout: bodyTimeoutMs,
      keepAliveTimeout: meshed ? meshKeepAliveTimeoutMs : keepAliveTimeoutMs,
      maxHeaderSize: maxResponseHeaderBytes,
      strictContentLength: true,
    });
  }
}

/**
 * undici's connect function for a meshed endpoint: a verified mTLS connection with its HTTP/1 header sent. A timeout
 * is reported with undici's own code, so the exchange treats it as the connect failure it is.
 */
function meshConnector(meshTls: MeshTlsClient, endpoint: MeshEndpoint, timeoutMs: number): buildConnector.connector {
  return (_options, callback) => {
    meshTls.connect(endpoint, 'http1', { timeoutMs }).then(
      (socket) => callback(null, socket),
      (error: ConnectError) => {
        const code = error.code === 'ETIMEDOUT' ? 'UND_ERR_CONNECT_TIMEOUT' : error.code;
        callback(Object.assign(new Error(error.message), { code }), null);
      },
    );
  };
}
