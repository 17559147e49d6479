// InboundPolicyWatcher: the policy of each inbound port in use, watched through DiscoverInboundPolicy, last good one kept.
import {
  type Cidr,
  compileInboundHttpRoutes,
  defaultInboundServerPolicy,
  type DefaultPolicy,
  type DiscoverInboundPolicy,
  type InboundServerPolicy,
  type PolicyWorkloadRef,
  type Subscription,
} from '@weft/core';
import { silentTransportLog, type TransportLog } from '../transport/transport-log.js';

export interface InboundPolicyWatcherOptions {
  /** Where port policies come from; without it every port keeps the default policy. */
  readonly discovery: DiscoverInboundPolicy | undefined;
  readonly workload: PolicyWorkloadRef;
  /** The policy of a port until discovery answers for it. */
  readonly defaultPolicy: DefaultPolicy;
  readonly clusterNetworks: readonly Cidr[];
  /** How long a port nobody uses any more stays watched, so that the next connection reuses the watch; default 10 s. */
  readonly idleMs?: number;
  /** The most ports watched at once (a peer proxy names the target port); further ports get the default policy. Default 64. */
  readonly maxPorts?: number;
  /** After a watch failed to start, how long until a new user of the port tries again; default 5 s. */
  readonly retryMs?: number;
  readonly log?: TransportLog;
}

/** One user's hold on the policy of one port. */
export interface InboundPortPolicy {
  readonly port: number;
  /** The port's policy now: the last good one discovery sent, else the default one. Read it for each decision. */
  current(): InboundServerPolicy;
  /** The user is done with the port; once every user is, the port's watch ends (after the idle time). Idempotent. */
  release(): void;
}

export const DEFAULT_POLICY_IDLE_MS = 10_000;
export const DEFAULT_MAX_POLICY_PORTS = 64;
export const DEFAULT_POLICY_RETRY_MS = 5_000;

/** What the watcher keeps for one watched port. */
interface PortEntry {
  readonly port: number;
  readonly fallback: InboundServerPolicy;
  policy: InboundServerPolicy;
  users: number;
  subscription: Subscription | undefined;
  /** When the watch may be tried again after it failed to start (Date.now()); 0: no failure. */
  retryAt: number;
  idleTimer: NodeJS.Timeout | undefined;
  closed: boolean;
}

/**
 * Watches the policy of every port somebody holds (`retain`), from the first user to the last `release` plus the
 * idle time. Each port's policy starts as the configured default and is replaced, as soon as it arrives, by every
 * policy discovery sends that passes `checkInboundPolicyUpdate`; a policy that fails it is logged and ignored, so
 * the port keeps its last good one. Users read `current()` for each request or connection, so an update applies to
 * the next one at once.
 */
export class InboundPolicyWatcher {
  private readonly entries = new Map<number, PortEntry>();
  private readonly log: TransportLog;
  private readonly idleMs: number;
  private readonly maxPorts: number;
  private readonly retryMs: number;
  private overflowLogged = false;
  private closed = false;

  constructor(private readonly options: InboundPolicyWatcherOptions) {
    this.log = options.log ?? silentTransportLog;
    this.idleMs = options.idleMs ?? DEFAULT_POLICY_IDLE_MS;
    this.maxPorts = options.maxPorts ?? DEFAULT_MAX_POLICY_PORTS;
    this.retryMs = options.retryMs ?? DEFAULT_POLICY_RETRY_MS;
  }

  /** Holds the policy of `port`, starting its watch if nobody held it. */
  retain(port: number): InboundPortPolicy {
    const entry = this.entryFor(port);
    if (entry === undefined) return this.unwatched(port);
    entry.users += 1;
    if (entry.idleTimer !== undefined) clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    if (entry.subscription === undefined && Date.now() >= entry.retryAt) this.startWatch(entry);
    let released = false;
    return {
      port,
      current: () => entry.policy,
      release: () => {
        if (released) return;
        released = true;
        this.release(entry);
      },
    };
  }

  /** The ports watched now, in ascending order. */
  watchedPorts(): number[] {
    return [...this.entries.keys()].sort((a, b) => a - b);
  }

  /** The default policy of `port`, as the watcher uses it before discovery answers. */
  defaultPolicyFor(port: number): InboundServerPolicy {
    return defaultInboundServerPolicy(port, this.options.defaultPolicy, this.options.clusterNetworks);
  }

  /** Ends every watch; holds taken before go on reading their last policy. */
  close(): void {
    this.closed = true;
    for (const entry of this.entries.values()) this.stop(entry);
    this.entries.clear();
  }

  private entryFor(port: number): PortEntry | undefined {
    const known = this.entries.get(port);
    if (known !== undefined || this.closed) return known;
    if (this.entries.size >= this.maxPorts) {
      if (!this.overflowLogged) {
        this.overflowLogged = true;
        this.log({
          event: 'inbound_policy_ports_exhausted',
          message: `${this.maxPorts} inbound ports are watched already; port ${port} and further ones get the default policy ${this.options.defaultPolicy}`,
          port,
        });
      }
      return undefined;
    }
    const fallback = this.defaultPolicyFor(port);
    const entry: PortEntry = { port, fallback, policy: fallback, users: 0, subscription: undefined, retryAt: 0, idleTimer: undefined, closed: false };
    this.entries.set(port, entry);
    return entry;
  }

  /** A hold on a port the watcher cannot watch (too many ports, or closed): the default policy, fixed. */
  private unwatched(port: number): InboundPortPolicy {
    const known = this.entries.get(port)?.policy;
    const policy = known ?? this.defaultPolicyFor(port);
    return { port, current: () => policy, release: () => undefined };
  }

  private startWatch(entry: PortEntry): void {
    const discovery = this.options.discovery;
    if (discovery === undefined) return;
    try {
      entry.subscription = discovery.watch(this.options.workload, entry.port, (policy) => this.onUpdate(entry, policy));
      entry.retryAt = 0;
    } catch (error) {
      entry.retryAt = Date.now() + this.retryMs;
      this.log({
        event: 'inbound_policy_watch_failed',
        message: `watching the policy of port ${entry.port} failed (${error instanceof Error ? error.message : String(error)}); it keeps ${describePolicy(entry.policy)}`,
        port: entry.port,
      });
    }
    // A listener called during watch() for an entry closed meanwhile is ignored; its subscription must end too.
    if (entry.closed) this.stop(entry);
  }

  private onUpdate(entry: PortEntry, policy: InboundServerPolicy): void {
    if (entry.closed) return;
    const problem = checkInboundPolicyUpdate(policy, entry.port);
    if (problem !== undefined) {
      this.log({
        event: 'inbound_policy_rejected',
        message: `the policy discovery sent for port ${entry.port} ${problem}; the port keeps ${describePolicy(entry.policy)}`,
        port: entry.port,
      });
      return;
    }
    entry.policy = policy;
  }

  private release(entry: PortEntry): void {
    entry.users -= 1;
    if (entry.users > 0 || entry.closed) return;
    if (this.idleMs <= 0) {
      this.forget(entry);
      return;
    }
    entry.idleTimer = setTimeout(() => this.forget(entry), this.idleMs);
    entry.idleTimer.unref();
  }

  private forget(entry: PortEntry): void {
    if (entry.users > 0) return;
    this.stop(entry);
    if (this.entries.get(entry.port) === entry) this.entries.delete(entry.port);
  }

  private stop(entry: PortEntry): void {
    entry.closed = true;
    if (entry.idleTimer !== undefined) clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    entry.subscription?.close();
    entry.subscription = undefined;
  }
}

const AUTHENTICATION_KINDS = new Set(['unauthenticated', 'meshTLS']);

/**
 * Why a policy discovery sent for `port` cannot be used (to follow "the policy ... "), or undefined when it can: it
 * must be for that port, list its authorizations and routes, and its routes must compile. An adapter that sends
 * something else (a translation bug, a half-written file) then costs nothing: the port keeps its last good policy.
 */
export function checkInboundPolicyUpdate(policy: InboundServerPolicy, port: number): string | undefined {
  if (typeof policy !== 'object' || policy === null) return 'is not a policy';
  if (policy.port !== port) return `is for port ${String(policy.port)}, not ${port}`;
  if (!Array.isArray(policy.authorizations) || !Array.isArray(policy.httpRoutes)) return 'lists no authorizations or no routes';
  const authorizations = [...policy.authorizations, ...policy.httpRoutes.flatMap((route) => route.authorizations ?? [])];
  const broken = authorizations.find((authz) => !Array.isArray(authz.networks) || !AUTHENTICATION_KINDS.has(authz.authentication?.kind));
  if (broken !== undefined) return `has an authorization "${String(broken.name)}" without networks or a known authentication`;
  const routes = compileInboundHttpRoutes(policy.httpRoutes);
  if (!routes.ok) return `has HTTP routes that cannot be used: ${routes.error.message}`;
  return undefined;
}

function describePolicy(policy: InboundServerPolicy): string {
  return policy.server.kind === 'default' ? `the default policy ${policy.server.name}` : `the policy of Server ${policy.server.name}`;
}
