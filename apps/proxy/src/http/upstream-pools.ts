// UpstreamPools: one keep-alive undici Pool per endpoint address, closed after the endpoint has idled.
import { formatSocketAddress, type SocketAddress } from '@weft/core';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

export interface UpstreamPoolOptions {
  /** Time allowed to open a connection (Linkerd's outbound default: 1 s). */
  readonly connectTimeoutMs: number;
  /** Time allowed for the response head once the request is sent. */
  readonly headersTimeoutMs: number;
  /** Longest silence between two body chunks of a response. */
  readonly bodyTimeoutMs: number;
  /** Idle keep-alive connections close after this (undici also honours the server's shorter Keep-Alive hint). */
  readonly keepAliveTimeoutMs: number;
  /** Largest upstream response head accepted. */
  readonly maxResponseHeaderBytes: number;
  /** A pool unused for this long is closed. */
  readonly poolIdleMs: number;
}

export const DEFAULT_UPSTREAM_POOL_OPTIONS: UpstreamPoolOptions = {
  connectTimeoutMs: 1_000,
  headersTimeoutMs: 300_000,
  bodyTimeoutMs: 300_000,
  keepAliveTimeoutMs: 4_000,
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

  /** The pool of connections to `address`, opened on first use. */
  get(address: SocketAddress): Pool {
    const key = formatSocketAddress(address);
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { pool: this.open(key), lastUsedMs: 0 };
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

  private open(key: string): Pool {
    const { connectTimeoutMs, headersTimeoutMs, bodyTimeoutMs, keepAliveTimeoutMs, maxResponseHeaderBytes } = this.options;
    return new Pool(`http://${key}`, {
      pipelining: 1,
      connect: { timeout: connectTimeoutMs },
      headersTimeout: headersTimeoutMs,
      bodyTimeout: bodyTimeoutMs,
      keepAliveTimeout: keepAliveTimeoutMs,
      maxHeaderSize: maxResponseHeaderBytes,
      strictContentLength: true,
    });
  }
}
