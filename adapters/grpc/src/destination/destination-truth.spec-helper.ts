// The tests' source of truth for the Destination service: real, map-backed DiscoverEndpoints and DiscoverProfile.
import {
  type Authority,
  defaultServiceProfile,
  diffEndpoints,
  type DiscoverEndpoints,
  type DiscoverProfile,
  type Endpoint,
  type EndpointSet,
  endpointSetOf,
  type EndpointUpdate,
  type EndpointUpdateListener,
  formatAuthority,
  type ServiceProfile,
  serviceProfileName,
  type Subscription,
} from '@weft/core';
import { TruthTopics } from '../control-client/truth-topics.spec-helper.js';

export class TruthEndpoints implements DiscoverEndpoints {
  private readonly services = new Map<string, EndpointSet>();
  private readonly topics = new TruthTopics<EndpointUpdate>();

  watch(target: Authority, listener: EndpointUpdateListener): Subscription {
    const current = this.services.get(formatAuthority(target));
    const first: EndpointUpdate = current ? { kind: 'reset', endpoints: [...current.values()] } : { kind: 'doesNotExist' };
    return this.topics.subscribe(formatAuthority(target), first, listener);
  }

  setEndpoints(target: Authority, endpoints: readonly Endpoint[]): void {
    const key = formatAuthority(target);
    const before = this.services.get(key);
    const after = endpointSetOf(endpoints);
    this.services.set(key, after);
    this.topics.publish(key, ...(before ? diffEndpoints(before, after) : [{ kind: 'reset', endpoints: [...after.values()] } as const]));
  }

  deleteService(target: Authority): void {
    const key = formatAuthority(target);
    if (this.services.delete(key)) this.topics.publish(key, { kind: 'doesNotExist' });
  }

  /** Sends `update` to the watchers of `target` as it is, whatever it does to the set (to test the server's filtering). */
  publishRaw(target: Authority, update: EndpointUpdate): void {
    this.topics.publish(formatAuthority(target), update);
  }

  watcherCount(target?: Authority): number {
    return target === undefined ? this.topics.total() : this.topics.count(formatAuthority(target));
  }
}

export class TruthProfiles implements DiscoverProfile {
  private readonly profiles = new Map<string, ServiceProfile>();
  private readonly topics = new TruthTopics<ServiceProfile>();

  watch(target: Authority, listener: (profile: ServiceProfile) => void): Subscription {
    return this.topics.subscribe(formatAuthority(target), this.profileOf(target), listener);
  }

  setProfile(target: Authority, profile: ServiceProfile): void {
    this.profiles.set(formatAuthority(target), profile);
    this.topics.publish(formatAuthority(target), profile);
  }

  deleteProfile(target: Authority): void {
    if (this.profiles.delete(formatAuthority(target))) this.topics.publish(formatAuthority(target), this.profileOf(target));
  }

  watcherCount(target?: Authority): number {
    return target === undefined ? this.topics.total() : this.topics.count(formatAuthority(target));
  }

  private profileOf(target: Authority): ServiceProfile {
    return this.profiles.get(formatAuthority(target)) ?? defaultServiceProfile(serviceProfileName(target));
  }
}
