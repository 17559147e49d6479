// OutboundTargets: the OutboundTarget of each authority in use, created on demand and closed after idling.
import { type Authority, type Clock, type DiscoverProfile, formatAuthority, parseAuthority } from '@weft/core';
import { type BalancerFactory, OutboundTarget } from './outbound-target.js';

/** Host headers remembered with their parsed authority; the cache is dropped whole when it fills. */
const MAX_HOST_CACHE = 1_024;

export class OutboundTargets {
  private readonly targets = new Map<string, OutboundTarget>();
  /**
   * The target of each Authority object seen: a listener's fixed target and the cached Host parses are the same object
   * on every request, so most lookups skip formatting the key. Entries of closed targets are ignored and replaced.
   */
  private byAuthority = new WeakMap<Authority, OutboundTarget>();
  private readonly hosts = new Map<string, Authority | null>();

  constructor(
    private readonly makeBalancer: BalancerFactory,
    private readonly profiles: DiscoverProfile | undefined,
    private readonly clock: Clock,
    private readonly idleMs: number,
  ) {}

  /** The live state of `authority`, watched from discovery from the first use on. */
  get(authority: Authority): OutboundTarget {
    let target = this.byAuthority.get(authority);
    if (target === undefined || target.closed) {
      const key = formatAuthority(authority);
      target = this.targets.get(key);
      if (target === undefined) {
        target = new OutboundTarget(authority, this.makeBalancer, this.profiles, this.clock);
        this.targets.set(key, target);
      }
      this.byAuthority.set(authority, target);
    }
    target.lastUsedMs = this.clock.now();
    return target;
  }

  /** Reads a Host header ("web.shop:8080", "[::1]:80"); undefined when it is not an authority. */
  parseHost(host: string, defaultPort: number): Authority | undefined {
    const key = `${host}|${defaultPort}`;
    const cached = this.hosts.get(key);
    if (cached !== undefined) return cached ?? undefined;
    if (this.hosts.size >= MAX_HOST_CACHE) this.hosts.clear();
    const parsed = parseAuthority(host, { defaultPort });
    const authority = parsed.ok ? parsed.value : null;
    this.hosts.set(key, authority);
    return authority ?? undefined;
  }

  /** Closes targets nobody used for the idle time and none is using now, so Host-driven state stays bounded. */
  sweep(): void {
    const cutoff = this.clock.now() - this.idleMs;
    for (const [key, target] of this.targets) {
      if (target.active === 0 && target.lastUsedMs < cutoff) {
        target.close();
        this.targets.delete(key);
      }
    }
  }

  size(): number {
    return this.targets.size;
  }

  close(): void {
    for (const target of this.targets.values()) target.close();
    this.targets.clear();
    this.byAuthority = new WeakMap();
    this.hosts.clear();
  }
}
