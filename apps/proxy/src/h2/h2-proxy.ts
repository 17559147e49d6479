// H2Proxy: takes sockets detected as HTTP/2 (h2c prior knowledge) and forwards their streams, gRPC included.
import { formatAuthority } from '@weft/core';
import type { Http2Server, Http2Session, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { type ForwardOptions, type ResolvedDestination, resolveOutboundDestination } from '../http/forward-context.js';
import { rawHeaderValue } from '../http/hop-by-hop-headers.js';
import type { Http1ConnectionInfo, Http1ProxyDeps, Http1ProxyRole } from '../http/http1-proxy.js';
import type { OutboundTargets } from '../http/outbound-targets.js';
import { isGrpcContentType } from '../http/proxy-error.js';
import { type InboundRequestVerdict, policyHeadersOf } from '../inbound/inbound-authorizer.js';
import { sharedForwardContext } from '../http/shared-forward-context.js';
import { END_STREAM_FLAG, H2Exchange } from './h2-exchange.js';
import type { H2ForwardContext } from './h2-forward-context.js';
import { respondH2ProxyError } from './h2-proxy-error.js';
import { DEFAULT_H2_UPSTREAM_OPTIONS, type H2UpstreamOptions, H2UpstreamSessions } from './h2-upstream-sessions.js';
import { createHardenedH2Server, DEFAULT_H2_SERVER_LIMITS, type H2ServerLimits } from './hardened-h2-server.js';

/** What the connection layer knows about one accepted connection (the same as for HTTP/1). */
export type H2ConnectionInfo = Http1ConnectionInfo;

/** Outbound (balanced over discovery, with profiles) or inbound (the local app); the same roles as HTTP/1. */
export type H2ProxyRole = Http1ProxyRole;
export type H2ProxyDeps = Http1ProxyDeps;

export interface H2ProxyOptions extends ForwardOptions {
  readonly server: H2ServerLimits;
  readonly upstream: H2UpstreamOptions;
  /** Outbound targets (balancer, profile watch) unused for this long are closed. */
  readonly targetIdleMs: number;
}

export const DEFAULT_H2_PROXY_OPTIONS: H2ProxyOptions = {
  server: DEFAULT_H2_SERVER_LIMITS,
  upstream: DEFAULT_H2_UPSTREAM_OPTIONS,
  failFastMs: 3_000,
  maxReplayBodyBytes: 64 * 1024,
  maxAttempts: 3,
  targetIdleMs: 60_000,
};

const SWEEP_EVERY_MS = 10_000;

export class H2Proxy {
  private readonly server: Http2Server;
  private readonly context: H2ForwardContext;
  private readonly targets: OutboundTargets | undefined;
  private readonly upstreams: H2UpstreamSessions;
  private readonly connectionInfo = new WeakMap<Http2Session, H2ConnectionInfo>();
  /** Each session's own socket (`session.socket` is a proxy object, useless as a key of what is known about it). */
  private readonly clientSockets = new WeakMap<Http2Session, Socket>();
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly sockets = new Set<Socket>();
  private readonly sweeper: NodeJS.Timeout;
  /** The connection info of the socket being handed to the server right now (its session is made synchronously). */
  private arriving: H2ConnectionInfo | undefined;
  private arrivingSocket: Socket | undefined;
  private closing = false;

  constructor(
    private readonly role: H2ProxyRole,
    deps: H2ProxyDeps,
    options: Partial<H2ProxyOptions> = {},
  ) {
    const settings = { ...DEFAULT_H2_PROXY_OPTIONS, ...options };
    this.upstreams = new H2UpstreamSessions(settings.upstream);
    const shared = sharedForwardContext(role, deps, settings, settings.upstream.meshTls);
    this.targets = shared.targets;
    this.context = { ...shared, upstreams: this.upstreams };
    this.server = createHardenedH2Server(settings.server);
    this.server.on('session', (session: ServerHttp2Session) => this.onSession(session));
    this.server.on('stream', (stream: ServerHttp2Stream, _headers: unknown, flags: number, rawHeaders: string[]) =>
      this.onStream(stream, rawHeaders, (flags & END_STREAM_FLAG) !== 0),
    );
    this.sweeper = setInterval(() => this.sweep(), SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  /**
   * Serves a connection whose bytes, from the first one (the client preface), are still to be read from `socket`
   * (protocol detection put back what it read). Each connection becomes one HTTP/2 session.
   */
  handleH2Connection(socket: Socket, connection?: H2ConnectionInfo): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    // The session handles socket errors; this only keeps one after the session is gone from being unhandled.
    socket.on('error', () => undefined);
    this.arriving = connection;
    this.arrivingSocket = socket;
    try {
      this.server.emit('connection', socket);
    } finally {
      this.arriving = undefined;
      this.arrivingSocket = undefined;
    }
  }

  /** Open client sessions. */
  sessionCount(): number {
    return this.sessions.size;
  }

  /** Open upstream sessions (one per endpoint in use). */
  upstreamSessionCount(): number {
    return this.upstreams.size();
  }

  /**
   * Graceful drain: GOAWAY on every client session (no new streams; open ones finish), then, once they all closed,
   * the upstream sessions the same way. Call `forceClose` after a grace period to cut what is left.
   */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions].map((session) => closeSession(session)));
    this.targets?.close();
    await this.upstreams.close();
  }

  /** Destroys every session and connection at once. */
  forceClose(): void {
    this.closing = true;
    clearInterval(this.sweeper);
    for (const session of this.sessions) session.destroy();
    for (const socket of this.sockets) socket.destroy();
    this.sessions.clear();
    this.sockets.clear();
    this.targets?.close();
    this.upstreams.destroy();
  }

  private onSession(session: ServerHttp2Session): void {
    if (this.arriving !== undefined) this.connectionInfo.set(session, this.arriving);
    if (this.arrivingSocket !== undefined) this.clientSockets.set(session, this.arrivingSocket);
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
  }

  private onStream(stream: ServerHttp2Stream, rawHeaders: string[], bodyless: boolean): void {
    // A stream that errs is closed by Node; without a listener the error would be thrown.
    stream.on('error', () => undefined);
    // Starting after the I/O that brought the HEADERS means a stream reset in the same read (Rapid Reset) is already
    // closed and costs the upstream nothing.
    setImmediate(() => this.startStream(stream, rawHeaders, bodyless));
  }

  private startStream(stream: ServerHttp2Stream, rawHeaders: readonly string[], bodyless: boolean): void {
    if (stream.closed || stream.destroyed) return;
    const grpc = isGrpcContentType(rawHeaderValue(rawHeaders, 'content-type'));
    if (rawHeaderValue(rawHeaders, ':method') === 'CONNECT') {
      respondH2ProxyError(stream, 400, 'CONNECT over HTTP/2 is not supported by the proxy', grpc);
      return;
    }
    const destination = this.resolve(stream.session, rawHeaders);
    if ('status' in destination) {
      respondH2ProxyError(stream, destination.status, destination.reason, grpc);
      stream.resume();
      return;
    }
    new H2Exchange(this.context, stream, rawHeaders, bodyless, destination).start();
  }

  /** Inbound: the local app. Outbound: the listener's fixed target, else the :authority, as for HTTP/1's Host. */
  private resolve(session: Http2Session | undefined, rawHeaders: readonly string[]): ResolvedDestination {
    const connection = session === undefined ? undefined : this.connectionInfo.get(session);
    if (this.role.direction === 'inbound') {
      const target = connection?.target;
      const authority = target === undefined ? undefined : formatAuthority(target);
      const verdict = this.authorize(session, rawHeaders);
      const address = connection?.localApp ?? this.role.localApp;
      if (verdict === undefined) return { kind: 'direct', address, authority };
      if (!verdict.allowed) return { status: 403, reason: `unauthorized: ${verdict.reason}` };
      return { kind: 'direct', address, authority, inbound: verdict.forwarding };
    }
    const authority = rawHeaderValue(rawHeaders, ':authority') ?? rawHeaderValue(rawHeaders, 'host');
    return resolveOutboundDestination(this.targets as OutboundTargets, connection, authority);
  }

  /** Inbound with an authorizer: the verdict on one stream of `session` (refused when its socket is unknown). */
  private authorize(session: Http2Session | undefined, rawHeaders: readonly string[]): InboundRequestVerdict | undefined {
    const authorizer = this.role.direction === 'inbound' ? this.role.authorizer : undefined;
    if (authorizer === undefined) return undefined;
    const socket = session === undefined ? undefined : this.clientSockets.get(session);
    if (socket === undefined) return { allowed: false, reason: 'the stream\'s connection is gone' };
    const method = rawHeaderValue(rawHeaders, ':method') ?? 'GET';
    const path = rawHeaderValue(rawHeaders, ':path') ?? '/';
    return authorizer.authorizeRequest(socket, { method, path, headers: () => policyHeadersOf(rawHeaders) });
  }

  private sweep(): void {
    this.targets?.sweep();
    this.upstreams.sweep();
  }
}

/** GOAWAY, then resolves once the session's open streams are done and it closed. */
function closeSession(session: ServerHttp2Session): Promise<void> {
  return new Promise((resolve) => {
    if (session.destroyed) {
      resolve();
      return;
    }
    session.once('close', () => resolve());
    session.close();
  });
}
