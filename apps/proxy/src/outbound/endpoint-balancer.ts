// EndpointBalancer: one target's endpoints, from discovery or else DNS, and a pick per request by P2C over peak-EWMA.
import {
  type Authority,
  type Clock,
  DEFAULT_ENDPOINT_WEIGHT,
  type DiscoverEndpoints,
  type Endpoint,
  type EndpointUpdate,
  formatSocketAddress,
  makeEndpoint,
  PeakEwma,
  type PeakEwmaOptions,
  pickP2c,
  type RandomSource,
  type ResolvedName,
  type SocketAddress,
  type Subscription,
} from '@weft/core';
import { NameFallback, type NameFallbackOptions } from './name-fallback.js';

/**
 * - `waiting`: until discovery's first message, or, falling back to DNS, until the name's first answer.
 * - `ready`: discovery's endpoints; `empty`: a live service with no endpoints (it must not fall back to DNS).
 * - `does-not-exist`: discovery does not know the target and there is no fallback, or DNS has found no address yet.
 * - `dns`: discovery does not know the target, so it is balanced over the addresses its name resolves to
 *   (an IP target: over the IP itself, as Linkerd forwards an unknown IP as it is).
 */
export type BalancerState = 'waiting' | 'ready' | 'empty' | 'does-not-exist' | 'dns';

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

/**
 * Without `nameFallback`, a target discovery does not know has no endpoints ('does-not-exist'). With it, such a target
 * is balanced over the addresses its host name resolves to (port from the target), re-resolved once the answer's TTL
 * runs out (checked whenever the balancer is used: no timers), keeping the last good addresses while resolution fails;
 * an IP target goes to the IP itself. As soon as discovery reports the service (`reset` or `add`), its endpoints win
 * and DNS stops. A service that exists but has no endpoints never falls back.
 */
export class EndpointBalancer {
  private readonly members = new Map<string, Member>();
  /** The members of weight > 0, kept between changes so a pick allocates no array (undefined: rebuild on next pick). */
  private candidates: Member[] | undefined;
  private current: BalancerState = 'waiting';
  /** Whose endpoints the members are: discovery's, or the fallback's (after `doesNotExist`, until discovery knows the target). */
  private source: 'discovery' | 'dns' = 'discovery';
  private fallback: NameFallback | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly subscription: Subscription;
  private readonly accrual: FailureAccrual;

  constructor(
    discovery: DiscoverEndpoints,
    readonly target: Authority,
    private readonly clock: Clock,
    private readonly random: RandomSource,
    private readonly ewmaOptions: PeakEwmaOptions = {},
    backoff: FailureBackoff = DEFAULT_FAILURE_BACKOFF,
    private readonly nameFallback?: NameFallbackOptions,
  ) {
    // Before the watch: its first update may already come synchronously.
    this.accrual = new FailureAccrual(clock, backoff);
    this.subscription = discovery.watch(target, (update) => this.apply(update));
  }

  state(): BalancerState {
    this.fallback?.refreshIfDue();
    return this.current;
  }

  endpoints(): readonly Endpoint[] {
    this.fallback?.refreshIfDue();
    return [...this.members.values()].map((member) => member.endpoint);
  }

  /**
   * Calls `listener` after every change of the endpoints or the state, whether discovery or DNS made it, so a caller
   * waiting for an endpoint can try again at once (DNS answers arrive without any discovery update).
   */
  onChange(listener: () => void): Subscription {
    // A wrapper of its own, so one listener given twice is two subscriptions that close separately.
    const entry = () => listener();
    this.listeners.add(entry);
    return { close: () => this.listeners.delete(entry) };
  }

  /**
   * The endpoint for the next request, or undefined when there is none. Failing endpoints are skipped while
   * a healthy one exists; when all are failing, the least recently failed ones still get requests, because
   * refusing outright would turn a brief outage of every endpoint into certain failure.
   */
  pick(): BalancerLease | undefined {
    this.fallback?.refreshIfDue();
    const candidates = (this.candidates ??= [...this.members.values()].filter((member) => member.endpoint.weight > 0));
    const member = pickP2c(candidates, this.random) ?? this.leastRecentlyFailed(candidates);
    if (!member) return undefined;
    member.ewma.start();
    return new MemberLease(member, this.accrual);
  }

  /** Records a failure (e.g. a connect error) or a success of an endpoint outside a lease. */
  recordOutcome(address: SocketAddress, failed: boolean): void {
    const member = this.members.get(formatSocketAddress(address));
    if (member) this.accrual.record(member, failed);
  }

  private leastRecentlyFailed(candidates: readonly Member[]): Member | undefined {
    let best: Member | undefined;
    for (const member of candidates) if (!best || member.failingUntil < best.failingUntil) best = member;
    return best;
  }

  /** Stops following discovery and DNS (an answer on its way is dropped); the last endpoints stay. */
  close(): void {
    this.subscription.close();
    this.fallback?.stop();
    this.fallback = undefined;
    this.listeners.clear();
  }

  private apply(update: EndpointUpdate): void {
    this.candidates = undefined;
    switch (update.kind) {
      case 'doesNotExist':
        // A repeated doesNotExist (a reconnected stream, say) leaves a running fallback as it is.
        if (this.source === 'dns') return;
        this.members.clear();
        this.startFallback();
        break;
      case 'reset':
        this.stopFallback();
        this.replaceMembers(update.endpoints);
        this.current = this.members.size > 0 ? 'ready' : 'empty';
        break;
      case 'add':
        if (this.stopFallback()) this.members.clear();
        this.upsert(update.endpoints);
        this.current = this.members.size > 0 ? 'ready' : 'empty';
        break;
      case 'remove':
        // Discovery holds nothing to remove while the target is balanced over DNS.
        if (this.source === 'dns') return;
        for (const address of update.addresses) this.members.delete(formatSocketAddress(address));
        this.current = this.members.size > 0 ? 'ready' : 'empty';
        break;
    }
    this.notify();
  }

  /** After `doesNotExist`: an IP target goes to itself, a name is resolved, or, without a fallback, nothing. */
  private startFallback(): void {
    const options = this.nameFallback;
    if (options === undefined) {
      this.current = 'does-not-exist';
      return;
    }
    this.source = 'dns';
    const target = this.target;
    if (target.kind === 'ip') {
      this.replaceMembers(this.endpointsAt([target.ip]));
      this.current = 'dns';
      return;
    }
    this.current = 'waiting';
    const host = target.kind === 'service' ? target.fqdn : target.host;
    this.fallback = new NameFallback(host, options, this.clock, {
      answered: (answer) => this.dnsAnswered(answer),
      failed: () => this.dnsFailed(),
    });
    this.fallback.refreshIfDue();
  }

  /** Discovery knows the target again: DNS stops. True when the members came from DNS. */
  private stopFallback(): boolean {
    this.fallback?.stop();
    this.fallback = undefined;
    const wasDns = this.source === 'dns';
    this.source = 'discovery';
    return wasDns;
  }

  private dnsAnswered(answer: ResolvedName): void {
    this.candidates = undefined;
    const endpoints = this.endpointsAt(answer.addresses);
    if (endpoints.length === 0) {
      this.dnsFailed();
      return;
    }
    this.replaceMembers(endpoints);
    this.current = 'dns';
    this.notify();
  }

  /** A failed resolution keeps the last good addresses; with none, the target is as good as unknown. */
  private dnsFailed(): void {
    if (this.members.size === 0) this.current = 'does-not-exist';
    this.notify();
  }

  /** Endpoints at the target's port on each address; addresses that make no endpoint are skipped. */
  private endpointsAt(addresses: readonly string[]): Endpoint[] {
    const endpoints: Endpoint[] = [];
    for (const ip of addresses) {
      const made = makeEndpoint({ address: { ip, port: this.target.port } });
      if (made.ok) endpoints.push(made.value);
    }
    return endpoints;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Makes `endpoints` the members; addresses already known keep what was learned about them. */
  private replaceMembers(endpoints: readonly Endpoint[]): void {
    this.candidates = undefined;
    const keep = new Set(endpoints.map((endpoint) => formatSocketAddress(endpoint.address)));
    for (const key of this.members.keys()) if (!keep.has(key)) this.members.delete(key);
    this.upsert(endpoints);
  }

  /** New endpoints start at the default RTT; known ones keep their measured load across updates. */
  private upsert(endpoints: readonly Endpoint[]): void {
    this.candidates = undefined;
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

/** Consecutive failures put an endpoint aside for a doubling time; a success clears them. */
class FailureAccrual {
  constructor(
    private readonly clock: Clock,
    private readonly backoff: FailureBackoff,
  ) {}

  record(member: Member, failed: boolean): void {
    if (!failed) {
      member.failures = 0;
      member.failingUntil = 0;
      return;
    }
    member.failures += 1;
    const delay = Math.min(this.backoff.initialMs * 2 ** (member.failures - 1), this.backoff.maxMs);
    member.failingUntil = this.clock.now() + delay;
  }
}

/**
 * A lease: a small object whose fields hold no function (see PER_REQUEST_FUNCTIONS in http/forward-exchange.ts): it is made on every request, and a
 * function stored in a per-request object keeps that request's objects alive through young-generation collections
 * (they are then promoted and wait for a full collection; measured: ~1 MB promoted per scavenge at 1,000 RPS).
 */
class MemberLease implements BalancerLease {
  readonly endpoint: Endpoint;
  private finished = false;

  constructor(
    private readonly member: Member,
    private readonly accrual: FailureAccrual,
  ) {
    this.endpoint = member.endpoint;
  }

  finish(outcome: { readonly rttMs: number; readonly failed: boolean }): void {
    if (this.finished) return;
    this.finished = true;
    this.member.ewma.end(outcome.rttMs);
    this.accrual.record(this.member, outcome.failed);
  }
}
