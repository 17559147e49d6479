// UpstreamPools: one keep-alive HTTP/1.1 connection pool per endpoint (address, and identity over mTLS), closed after the endpoint has idled.
import { type Endpoint, formatSocketAddress, type SocketAddress } from '@weft/core';
import { performance } from 'node:perf_hooks';
import type { MeshEndpoint, MeshTlsClient } from '../tls/mesh-tls-client.js';
import { connectTcp } from '../transport/connect-tcp.js';
import { Http1UpstreamPool, type UpstreamConnector } from './http1-upstream-pool.js';

export interface UpstreamPoolOptions {
  /** Time allowed to open a connection (Linkerd's outbound default: 1 s). */
  readonly connectTimeoutMs: number;
  /** Time allowed for the response head once the request is sent. */
  readonly headersTimeoutMs: number;
  /** Longest silence between two body chunks of a response. */
  readonly bodyTimeoutMs: number;
  /** Idle keep-alive connections close after this (or before the server's own Keep-Alive timeout hint, if shorter). */
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
  readonly pool: Http1UpstreamPool;
  lastUsedMs: number;
}

/** How often exchanges are checked against the headers and body timeouts, and idle connections against keep-alive. */
const TIMEOUT_CHECK_EVERY_MS = 1_000;

export class UpstreamPools {
  private readonly entries = new Map<string, Entry>();
  /** Pools swept out while exchanges still ran on them: their timeouts are checked until they have closed. */
  private readonly closing = new Set<Http1UpstreamPool>();
  private readonly timeoutChecker: NodeJS.Timeout;

  constructor(private readonly options: UpstreamPoolOptions = DEFAULT_UPSTREAM_POOL_OPTIONS) {
    this.timeoutChecker = setInterval(() => this.checkTimeouts(), TIMEOUT_CHECK_EVERY_MS);
    this.timeoutChecker.unref();
  }

  /**
   * The pool of connections to `address`, opened on first use. With `endpoint` (the one discovery gave for `address`)
   * carrying a TLS identity and mesh mTLS configured, the pool's connections are mTLS to that identity, and the pool
   * is keyed by the identity too: a connection is never shared between identities.
   */
  get(address: SocketAddress, endpoint?: Endpoint): Http1UpstreamPool {
    const mesh = this.options.meshTls !== undefined && this.options.meshTls.isMeshed(endpoint) ? endpoint : undefined;
    const origin = formatSocketAddress(address);
    const key = mesh === undefined ? origin : `${origin}|${mesh.tlsIdentity}|${mesh.proxyInboundPort ?? ''}`;
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { pool: this.open(address, origin, mesh), lastUsedMs: 0 };
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
        this.closing.add(entry.pool);
        void entry.pool.close().then(() => this.closing.delete(entry.pool));
      }
    }
  }

  size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    clearInterval(this.timeoutChecker);
    const pools = [...this.entries.values()].map((entry) => entry.pool).concat([...this.closing]);
    this.entries.clear();
    this.closing.clear();
    await Promise.all(pools.map((pool) => pool.destroy()));
  }

  private checkTimeouts(): void {
    const now = performance.now();
    const { headersTimeoutMs, bodyTimeoutMs } = this.options;
    for (const entry of this.entries.values()) entry.pool.checkTimeouts(now, headersTimeoutMs, bodyTimeoutMs);
    for (const pool of this.closing) pool.checkTimeouts(now, headersTimeoutMs, bodyTimeoutMs);
  }

  private open(address: SocketAddress, origin: string, mesh: MeshEndpoint | undefined): Http1UpstreamPool {
    const { connectTimeoutMs, keepAliveTimeoutMs, meshKeepAliveTimeoutMs, maxResponseHeaderBytes, meshTls } = this.options;
    const meshed = mesh !== undefined && meshTls !== undefined;
    const connect: UpstreamConnector = meshed
      ? () => meshTls.connect(mesh, 'http1', { timeoutMs: connectTimeoutMs })
      : () => connectTcp(address, { timeoutMs: connectTimeoutMs });
    return new Http1UpstreamPool(connect, {
      authority: origin,
      maxResponseHeaderBytes,
      keepAliveTimeoutMs: meshed ? meshKeepAliveTimeoutMs : keepAliveTimeoutMs,
    });
  }
}
