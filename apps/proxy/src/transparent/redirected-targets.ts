// RedirectedTargets: the IP authority and the opaque TCP forwarder of each original destination redirected connections go to.
import {
  type Authority,
  type Clock,
  type DiscoverEndpoints,
  err,
  formatSocketAddress,
  NameResolutionError,
  parseAuthority,
  type RandomSource,
  type ResolveName,
  type SocketAddress,
  unwrap,
} from '@weft/core';
import { EndpointBalancer } from '../outbound/endpoint-balancer.js';
import type { ConnectionSettings } from '../tcp/listen-upstream.js';
import { OutboundTcpForwarder, type TcpForwardOutcome } from '../tcp/outbound-tcp-forwarder.js';
import type { MeshTlsClient } from '../tls/mesh-tls-client.js';
import type { AcceptedConnection } from '../transport/tcp-listener.js';
import type { TransportLog } from '../transport/transport-log.js';

export interface RedirectedTargetsOptions {
  readonly discovery: DiscoverEndpoints;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly settings: ConnectionSettings;
  /** Endpoints with a TLS identity (a meshed container's proxy) are reached over mTLS; without it, all in plaintext. */
  readonly meshTls?: MeshTlsClient;
  readonly log?: TransportLog;
  /** A destination without open connections for this long has its forwarder closed; default 60 s. */
  readonly idleMs?: number;
}

interface ForwarderEntry {
  readonly forwarder: OutboundTcpForwarder;
  readonly balancer: EndpointBalancer;
  active: number;
  lastUsedMs: number;
}

/** Remembered destination authorities; the cache is dropped whole when it fills, as the Host cache is. */
const MAX_AUTHORITIES = 1_024;
const SWEEP_EVERY_MS = 10_000;
const DEFAULT_IDLE_MS = 60_000;

/**
 * An IP target is never resolved: a balancer asked to fall back for one balances over the IP itself. This resolver
 * only satisfies the fallback option, so a destination discovery does not know is reached as it is, with or without
 * DNS fallback configured.
 */
const IP_TARGETS_ONLY: ResolveName = {
  resolve: (host) => Promise.resolve(err(new NameResolutionError('invalid', host, 'a redirected connection is routed by IP, never by name'))),
};

/**
 * A redirected connection's target is its original destination, as an IP authority ("10.0.0.7:5432"): discovery is
 * asked about it (the control plane answers for a container's IP with its endpoint and TLS identity, so the hop is
 * mTLS), and a destination it does not know is forwarded to as it is. Opaque connections of one destination share a
 * forwarder (its balancer and discovery watch) while any is open, and for `idleMs` after.
 */
export class RedirectedTargets {
  private readonly authorities = new Map<string, Authority>();
  private readonly forwarders = new Map<string, ForwarderEntry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: RedirectedTargetsOptions) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  /** The IP authority of `destination`; the same object each time, so per-authority caches keyed by it hit. */
  authorityOf(destination: SocketAddress): Authority {
    const key = formatSocketAddress(destination);
    let authority = this.authorities.get(key);
    if (authority === undefined) {
      if (this.authorities.size >= MAX_AUTHORITIES) this.authorities.clear();
      // The kernel's address text (inet_ntop) is read back into core's canonical form.
      authority = unwrap(parseAuthority(key));
      this.authorities.set(key, authority);
    }
    return authority;
  }

  /** Forwards an opaque connection to `destination` (see the class comment); resolves when the connection is over. */
  async forward(connection: AcceptedConnection, destination: SocketAddress): Promise<TcpForwardOutcome> {
    const entry = this.entryFor(destination);
    entry.active += 1;
    try {
      return await entry.forwarder.forward(connection);
    } finally {
      entry.active -= 1;
      entry.lastUsedMs = this.options.clock.now();
    }
  }

  /** Destinations with a forwarder now (for tests). */
  size(): number {
    return this.forwarders.size;
  }

  /** Closes forwarders nobody used for the idle time and none is using now. */
  sweep(): void {
    const cutoff = this.options.clock.now() - (this.options.idleMs ?? DEFAULT_IDLE_MS);
    for (const [key, entry] of this.forwarders) {
      if (entry.active > 0 || entry.lastUsedMs >= cutoff) continue;
      this.forwarders.delete(key);
      closeEntry(entry);
    }
  }

  /** Stops watching discovery; open connections are left to their listener. */
  close(): void {
    clearInterval(this.sweeper);
    for (const entry of this.forwarders.values()) closeEntry(entry);
    this.forwarders.clear();
    this.authorities.clear();
  }

  private entryFor(destination: SocketAddress): ForwarderEntry {
    const key = formatSocketAddress(destination);
    const known = this.forwarders.get(key);
    if (known !== undefined) return known;
    const { discovery, clock, random, settings, meshTls, log } = this.options;
    const target = this.authorityOf(destination);
    const balancer = new EndpointBalancer(discovery, target, clock, random, undefined, undefined, { resolver: IP_TARGETS_ONLY });
    const forwarder = new OutboundTcpForwarder({
      target,
      balancer,
      discovery,
      connectTimeoutMs: settings.connectTimeoutMs,
      failFastTimeoutMs: settings.failFastTimeoutMs,
      ...(meshTls ? { meshTls } : {}),
      ...(log ? { log } : {}),
    });
    const entry: ForwarderEntry = { forwarder, balancer, active: 0, lastUsedMs: clock.now() };
    this.forwarders.set(key, entry);
    return entry;
  }
}

function closeEntry(entry: ForwarderEntry): void {
  entry.forwarder.close();
  entry.balancer.close();
}
