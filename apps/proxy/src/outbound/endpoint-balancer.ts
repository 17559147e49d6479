// EndpointBalancer: keeps one target's endpoints current from discovery and picks one per request by P2C over peak-EWMA.
import {
  type Authority,
  type Clock,
  DEFAULT_ENDPOINT_WEIGHT,
  type DiscoverEndpoints,
  type Endpoint,
  type EndpointUpdate,
  formatSocketAddress,
  PeakEwma,
  type PeakEwmaOptions,
  pickP2c,
  type RandomSource,
  type SocketAddress,
  type Subscription,
} from '@weft/core';

/** `waiting` until discovery's first message; `empty` for a live service with no endpoints. */
export type BalancerState = 'waiting' | 'ready' | 'empty' | 'does-not-exist';

/** One request's use of an endpoint; `finish` feeds the latency back into the endpoint's load. */
export interface BalancerLease {
  readonly endpoint: Endpoint;
  finish(outcome: { readonly rttMs: number; readonly failed: boolean }): void;
}

/** How long an endpoint is skipped after failures: doubling from the first to the last value. */
export interface FailureBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const DEFAULT_FAILURE_BACKOFF: FailureBackoff = { initialMs: 1_000, maxMs: 60_000 };

interface Member {
  endpoint: Endpoint;
  readonly ewma: PeakEwma;
  /** Consecutive failures; reset by a success. */
  failures: number;
  /** Until this time the endpoint is skipped while a healthy one exists; then it gets requests again as a probe. */
  failingUntil: number;
  readonly failing: boolean;
  load(): number;
}

export class EndpointBalancer {
  private readonly members = new Map<string, Member>();
  private current: BalancerState = 'waiting';
  private readonly subscription: Subscription;

  constructor(
    discovery: DiscoverEndpoints,
    readonly target: Authority,
    private readonly clock: Clock,
    private readonly random: RandomSource,
    private readonly ewmaOptions: PeakEwmaOptions = {},
    private readonly backoff: FailureBackoff = DEFAULT_FAILURE_BACKOFF,
  ) {
    this.subscription = discovery.watch(target, (update) => this.apply(update));
  }

  state(): BalancerState {
    return this.current;
  }

  endpoints(): readonly Endpoint[] {
    return [...this.members.values()].map((member) => member.endpoint);
  }

  /**
   * The endpoint for the next request, or undefined when there is none. Failing endpoints are skipped while
   * a healthy one exists; when all are failing, the least recently failed ones still get requests, because
   * refusing outright would turn a brief outage of every endpoint into certain failure.
   */
  pick(): BalancerLease | undefined {
    const candidates = [...this.members.values()].filter((member) => member.endpoint.weight > 0);
    const member = pickP2c(candidates, this.random) ?? this.leastRecentlyFailed(candidates);
    if (!member) return undefined;
    member.ewma.start();
    let finished = false;
    return {
      endpoint: member.endpoint,
      finish: ({ rttMs, failed }) => {
        if (finished) return;
        finished = true;
        member.ewma.end(rttMs);
        this.record(member, failed);
      },
    };
  }

  /** Records a failure (e.g. a connect error) or a success of an endpoint outside a lease. */
  recordOutcome(address: SocketAddress, failed: boolean): void {
    const member = this.members.get(formatSocketAddress(address));
    if (member) this.record(member, failed);
  }

  private leastRecentlyFailed(candidates: readonly Member[]): Member | undefined {
    let best: Member | undefined;
    for (const member of candidates) if (!best || member.failingUntil < best.failingUntil) best = member;
    return best;
  }

  close(): void {
    this.subscription.close();
  }

  /** A failure skips the endpoint for a backoff that doubles with each consecutive failure; a success clears it. */
  private record(member: Member, failed: boolean): void {
    if (!failed) {
      member.failures = 0;
      member.failingUntil = 0;
      return;
    }
    member.failures += 1;
    const delay = Math.min(this.backoff.initialMs * 2 ** (member.failures - 1), this.backoff.maxMs);
    member.failingUntil = this.clock.now() + delay;
  }

  private apply(update: EndpointUpdate): void {
    switch (update.kind) {
      case 'doesNotExist':
        this.members.clear();
        this.current = 'does-not-exist';
        return;
      case 'reset': {
        const keep = new Set(update.endpoints.map((endpoint) => formatSocketAddress(endpoint.address)));
        for (const key of this.members.keys()) if (!keep.has(key)) this.members.delete(key);
        this.upsert(update.endpoints);
        break;
      }
      case 'add':
        this.upsert(update.endpoints);
        break;
      case 'remove':
        for (const address of update.addresses) this.members.delete(formatSocketAddress(address));
        break;
    }
    this.current = this.members.size > 0 ? 'ready' : 'empty';
  }

  /** New endpoints start at the default RTT; known ones keep their measured load across updates. */
  private upsert(endpoints: readonly Endpoint[]): void {
    for (const endpoint of endpoints) {
      const key = formatSocketAddress(endpoint.address);
      const existing = this.members.get(key);
      if (existing) {
        existing.endpoint = endpoint;
        continue;
      }
      const ewma = new PeakEwma(this.clock, this.ewmaOptions);
      const clock = this.clock;
      const member: Member = {
        endpoint,
        ewma,
        failures: 0,
        failingUntil: 0,
        get failing() {
          return clock.now() < this.failingUntil;
        },
        // A heavier endpoint looks proportionally less loaded, so it draws a larger share of requests.
        load: () => (ewma.load() * DEFAULT_ENDPOINT_WEIGHT) / Math.max(member.endpoint.weight, 1),
      };
      this.members.set(key, member);
    }
  }
}
