// OutboundTarget: one authority's live state: its balancer, compiled profile, retry budget and traffic split.
import {
  type Authority,
  type Clock,
  type CompiledServiceProfile,
  type Endpoint,
  compileServiceProfile,
  defaultServiceProfile,
  type DiscoverProfile,
  formatAuthority,
  parseAuthority,
  pickWeighted,
  type RandomSource,
  RetryBudget,
  type ServiceProfile,
  serviceProfileName,
  type RouteLabels,
  type Subscription,
  type TrafficLabels,
  unwrap,
} from '@weft/core';
import type { EndpointBalancer } from '../outbound/endpoint-balancer.js';

/** Makes the balancer of one authority (the proxy module's EndpointBalancerFactory). */
export type BalancerFactory = (target: Authority) => EndpointBalancer;

interface Split {
  readonly authority: Authority;
  readonly weight: number;
}

export class OutboundTarget {
  /** The canonical authority, e.g. "books.shop.svc.cluster.local:7000"; the only authority metrics ever show. */
  readonly canonical: string;
  readonly balancer: EndpointBalancer;
  /** `dst` of the route metrics: the profile's name with the port. */
  routeDst: string;
  lastUsedMs: number;
  private compiled: CompiledServiceProfile;
  private budget: RetryBudget;
  private budgetKey = '';
  private splits: readonly Split[] = [];
  private readonly profileSubscription: Subscription | undefined;
  /**
   * Label sets handed to the metrics port are reused (same object for the same endpoint or route), so an adapter
   * can memoize its series lookup by identity instead of rebuilding a key per request.
   */
  private readonly endpointLabels = new WeakMap<Endpoint, TrafficLabels>();
  private routeLabelCache = new Map<string, RouteLabels>();
  /** In-flight exchanges; an idle target is closed only when none is left. */
  active = 0;
  /** Set by close(): the target follows discovery no more and must not be handed out again. */
  closed = false;

  constructor(
    readonly authority: Authority,
    makeBalancer: BalancerFactory,
    profiles: DiscoverProfile | undefined,
    private readonly clock: Clock,
  ) {
    this.canonical = formatAuthority(authority);
    this.lastUsedMs = clock.now();
    this.balancer = makeBalancer(authority);
    const fallback = defaultServiceProfile(serviceProfileName(authority));
    this.compiled = unwrap(compileServiceProfile(fallback));
    this.budget = new RetryBudget(fallback.retryBudget, clock);
    this.routeDst = `${fallback.fullyQualifiedName}:${authority.port}`;
    this.profileSubscription = profiles?.watch(authority, (profile) => this.applyProfile(profile));
  }

  profile(): CompiledServiceProfile {
    return this.compiled;
  }

  retryBudget(): RetryBudget {
    return this.budget;
  }

  /** The authority whose endpoints serve the next attempt: a weighted dstOverride, or this one. */
  pickConcrete(random: RandomSource): Authority | undefined {
    if (this.splits.length === 0) return this.authority;
    return pickWeighted(this.splits, random)?.authority;
  }

  /** The traffic labels of attempts that `lease` sends to `endpoint`, built once per endpoint version. */
  labelsFor(endpoint: Endpoint, build: () => TrafficLabels): TrafficLabels {
    let labels = this.endpointLabels.get(endpoint);
    if (labels === undefined) {
      labels = build();
      this.endpointLabels.set(endpoint, labels);
    }
    return labels;
  }

  /** The route labels of `routeName` (`default` when no route matched), built once per profile version. */
  routeLabelsFor(direction: RouteLabels['direction'], routeName: string): RouteLabels {
    let labels = this.routeLabelCache.get(routeName);
    if (labels === undefined) {
      labels = { direction, dst: this.routeDst, route: routeName };
      this.routeLabelCache.set(routeName, labels);
    }
    return labels;
  }

  close(): void {
    this.closed = true;
    this.profileSubscription?.close();
    this.balancer.close();
  }

  /** A profile that does not compile leaves the last good one in place. */
  private applyProfile(profile: ServiceProfile): void {
    const compiled = compileServiceProfile(profile);
    if (!compiled.ok) return;
    this.compiled = compiled.value;
    this.routeDst = `${profile.fullyQualifiedName}:${this.authority.port}`;
    this.routeLabelCache = new Map();
    const budgetKey = JSON.stringify(profile.retryBudget);
    if (budgetKey !== this.budgetKey) {
      this.budgetKey = budgetKey;
      this.budget = new RetryBudget(profile.retryBudget, this.clock);
    }
    this.splits = profile.dstOverrides.flatMap((dst) => {
      const parsed = parseAuthority(dst.authority, { defaultPort: this.authority.port });
      return parsed.ok ? [{ authority: parsed.value, weight: dst.weight }] : [];
    });
  }
}
