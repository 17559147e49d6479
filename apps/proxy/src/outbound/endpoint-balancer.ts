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

interface Member {
  endpoint: Endpoint;
  readonly ewma: PeakEwma;
  failing: boolean;
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
  ) {
    this.subscription = discovery.watch(target, (update) => this.apply(update));
  }

  state(): BalancerState {
    return this.current;
  }

  endpoints(): readonly Endpoint[] {
    return [...this.members.values()].map((member) => member.endpoint);
  }

  /** The endpoint for the next request, or undefined when none can take it (the caller queues or fails fast). */
  pick(): BalancerLease | undefined {
    const candidates = [...this.members.values()].filter((member) => member.endpoint.weight > 0);
    const member = pickP2c(candidates, this.random);
    if (!member) return undefined;
    member.ewma.start();
    let finished = false;
    return {
      endpoint: member.endpoint,
      finish: ({ rttMs, failed }) => {
        if (finished) return;
        finished = true;
        member.ewma.end(rttMs);
        member.failing = failed;
      },
    };
  }

  /** Marks an endpoint as failing (skipped while a healthy one exists) or healthy again, e.g. after a connect error. */
  setFailing(address: SocketAddress, failing: boolean): void {
    const member = this.members.get(formatSocketAddress(address));
    if (member) member.failing = failing;
  }

  close(): void {
    this.subscription.close();
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
      const member: Member = {
        endpoint,
        ewma,
        failing: false,
        // A heavier endpoint looks proportionally less loaded, so it draws a larger share of requests.
        load: () => (ewma.load() * DEFAULT_ENDPOINT_WEIGHT) / Math.max(member.endpoint.weight, 1),
      };
      this.members.set(key, member);
    }
  }
}
