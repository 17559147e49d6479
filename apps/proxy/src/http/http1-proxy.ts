// Http1Proxy: takes sockets detected as HTTP/1 and forwards their requests (outbound: balanced endpoints; inbound: the local app).
import {
  type Authority,
  type Clock,
  type DiscoverProfile,
  formatAuthority,
  type ProxyMetrics,
  type RandomSource,
  type SocketAddress,
} from '@weft/core';
import type { Socket } from 'node:net';
import type { InboundAuthorizer } from '../inbound/inbound-authorizer.js';
import type { TapHub } from '../tap/tap-hub.js';
import { chooseEndpoint, type ForwardContext, type ForwardOptions, resolveOutboundDestination, type ResolvedDestination } from './forward-context.js';
import { DEFAULT_HTTP1_SERVER_LIMITS, Http1Server, type Http1ServerLimits, rejectUnsafeFraming } from './hardened-http1-server.js';
import type { Http1ServerRequest } from './http1-server-request.js';
import type { Http1ServerResponse } from './http1-server-response.js';
import type { BalancerFactory } from './outbound-target.js';
import type { OutboundTargets } from './outbound-targets.js';
import { sendProxyError, writeRawProxyError } from './proxy-error.js';
import { ProxyExchange } from './proxy-exchange.js';
import { sharedForwardContext } from './shared-forward-context.js';
import { openTunnel } from './tunnel.js';
import { DEFAULT_UPSTREAM_POOL_OPTIONS, type UpstreamPoolOptions, UpstreamPools } from './upstream-pools.js';

/** What the connection layer knows about one accepted connection. */
export interface Http1ConnectionInfo {
  /** Local mode: the service this listener stands for; every request goes there, whatever its Host. */
  readonly target?: Authority;
  /** Transparent mode: where the client was connecting (SO_ORIGINAL_DST), used when discovery does not know the Host. */
  readonly originalDst?: SocketAddress;
  /** Inbound, transparent mode: the app port a redirected connection was for (127.0.0.1:<port>), instead of the role's. */
  readonly localApp?: SocketAddress;
}

export type Http1ProxyRole =
  | {
      readonly direction: 'outbound';
      /** The proxy module's EndpointBalancerFactory. */
      readonly balancers: BalancerFactory;
      readonly profiles: DiscoverProfile;
    }
  | {
      readonly direction: 'inbound';
      /** The application's own address, e.g. 127.0.0.1:8080. */
      readonly localApp: SocketAddress;
      /** Admits or refuses each request under its port's policy (403 when refused); without it every request is let in. */
      readonly authorizer?: InboundAuthorizer;
    };

export interface Http1ProxyDeps {
  readonly metrics: ProxyMetrics;
  readonly clock: Clock;
  readonly random: RandomSource;
  /** Every request is published here while somebody taps the proxy. */
  readonly tap?: TapHub;
}

export interface Http1ProxyOptions extends ForwardOptions {
  readonly limits: Http1ServerLimits;
  readonly upstream: UpstreamPoolOptions;
  /** Outbound targets (balancer, profile watch) unused for this long are closed. */
  readonly targetIdleMs: number;
}

export const DEFAULT_HTTP1_PROXY_OPTIONS: Http1ProxyOptions = {
  limits: DEFAULT_HTTP1_SERVER_LIMITS,
  upstream: DEFAULT_UPSTREAM_POOL_OPTIONS,
  failFastMs: 3_000,
  maxReplayBodyBytes: 64 * 1024,
  maxAttempts: 3,
  targetIdleMs: 60_000,
};

const SWEEP_EVERY_MS = 10_000;
/** How often a drain closes connections that became idle. */
const DRAIN_POLL_MS = 25;

export class Http1Proxy {
  private readonly server: Http1Server;
  private readonly context: ForwardContext;
  private readonly options: Http1ProxyOptions;
  private readonly targets: OutboundTargets | undefined;
  private readonly pools: UpstreamPools;
  private readonly connectionInfo = new WeakMap<Socket, Http1ConnectionInfo>();
  private readonly sockets = new Set<Socket>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly role: Http1ProxyRole,
    deps: Http1ProxyDeps,
    options: Partial<Http1ProxyOptions> = {},
  ) {
    this.options = { ...DEFAULT_HTTP1_PROXY_OPTIONS, ...options };
    this.pools = new UpstreamPools(this.options.upstream);
    const shared = sharedForwardContext(role, deps, this.options, this.options.upstream.meshTls);
    this.targets = shared.targets;
    this.context = { ...shared, pools: this.pools };
    this.server = new Http1Server(this.options.limits, {
      request: (req, res) => this.onRequest(req, res),
      tunnel: (req, socket, head) => this.onTunnel(req, socket, head),
    });
    this.sweeper = setInterval(() => this.sweep(), SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  /** Serves a connection whose first bytes (`preRead`, already consumed by protocol detection) are HTTP/1. */
  handleHttp1Connection(socket: Socket, preRead: Buffer, connection?: Http1ConnectionInfo): void {
    if (connection !== undefined) this.connectionInfo.set(socket, connection);
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    this.server.handle(socket, preRead);
  }

  /** Open client connections (for drain and tests). */
  connectionCount(): number {
    return this.sockets.size;
  }

  /**
   * Stops gracefully: from now on every response carries `Connection: close`, idle keep-alive connections
   * are closed at once and busy ones as soon as their exchange ends; resolves when no client connection is left.
   */
  async drain(): Promise<void> {
    this.server.draining = true;
    while (this.sockets.size > 0) {
      this.server.closeIdleConnections();
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
  }

  /** Closes every client connection and upstream pool, and stops watching discovery. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.server.close();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.targets?.close();
    await this.pools.close();
  }

  private onRequest(req: Http1ServerRequest, res: Http1ServerResponse): void {
    if (rejectUnsafeFraming(req, res, this.options.limits)) return;
    const destination = this.resolve(req, req.method === 'CONNECT');
    if ('status' in destination) {
      sendProxyError(res, destination.status, destination.reason, false);
      return;
    }
    new ProxyExchange(this.context, req, res, destination).start();
  }

  private onTunnel(req: Http1ServerRequest, socket: Socket, head: Buffer): void {
    // A tunnel request with a body never gets here: the server refuses it (its body would be lost to the tunnel).
    if (req.rawHeaders.length / 2 >= this.options.limits.maxHeadersCount) {
      writeRawProxyError(socket, 400, 'a tunnel request may not carry that many header fields');
      return;
    }
    const destination = this.resolve(req, req.method === 'CONNECT');
    if ('status' in destination) {
      writeRawProxyError(socket, destination.status, destination.reason);
      return;
    }
    const chosen = chooseEndpoint(this.context, destination);
    if ('wait' in chosen) {
      const reason = chosen.wait ? 'no endpoint is available for the tunnel' : chosen.reason;
      writeRawProxyError(socket, 503, reason);
      return;
    }
    openTunnel(req, socket, head, chosen, {
      metrics: this.context.metrics,
      connectTimeoutMs: this.options.upstream.connectTimeoutMs,
      stripClientId: this.context.stripClientId,
      clientId: destination.kind === 'direct' ? destination.inbound?.clientId : undefined,
      meshTls: this.options.upstream.meshTls,
    });
  }

  /**
   * Inbound: the local app. Outbound: the listener's fixed target, else the Host header's authority (CONNECT: the
   * original destination, never its request target), balanced when discovery knows it, else the original destination.
   */
  private resolve(req: Http1ServerRequest, isConnect: boolean): ResolvedDestination {
    const connection = this.connectionInfo.get(req.socket);
    if (this.role.direction === 'inbound') {
      const target = connection?.target;
      const authority = target === undefined ? undefined : formatAuthority(target);
      const verdict = this.role.authorizer?.authorizeRequest(req.socket, { method: req.method, path: req.url, headers: () => req.headers });
      const address = connection?.localApp ?? this.role.localApp;
      if (verdict === undefined) return { kind: 'direct', address, authority };
      if (!verdict.allowed) return { status: 403, reason: `unauthorized: ${verdict.reason}` };
      return { kind: 'direct', address, authority, inbound: verdict.forwarding };
    }
    return resolveOutboundDestination(this.targets as OutboundTargets, connection, isConnect ? undefined : req.host);
  }

  private sweep(): void {
    this.targets?.sweep();
    this.pools.sweep();
  }
}
