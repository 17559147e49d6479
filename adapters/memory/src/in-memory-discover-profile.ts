// InMemoryDiscoverProfile: service profiles from a map that tests change, sent whole to watchers on every change.
import {
  type Authority,
  defaultServiceProfile,
  type DiscoverProfile,
  formatAuthority,
  KeyedPublisher,
  type ServiceProfile,
  serviceProfileName,
  type Subscription,
} from '@weft/core';
import { injectable } from 'inversify';

/**
 * Profiles are keyed by formatAuthority(target). A watch gets its first message synchronously (the configured
 * profile, or the default one), then the whole profile on every change, in order; setting a profile equal to the
 * current one sends nothing. A listener that throws does not stop delivery to the others; once all are served,
 * the call that made the change (setProfile, deleteProfile) throws the listener's error, so the test sees it.
 */
@injectable()
export class InMemoryDiscoverProfile implements DiscoverProfile {
  private readonly profiles = new Map<string, ServiceProfile>();
  private readonly publisher = new KeyedPublisher<string, ServiceProfile>('profile');

  watch(target: Authority, listener: (profile: ServiceProfile) => void): Subscription {
    return this.publisher.subscribe(formatAuthority(target), this.profileOf(target), listener);
  }

  /** Makes `profile` the profile of `target`; its watchers get it. */
  setProfile(target: Authority, profile: ServiceProfile): void {
    const before = this.profileOf(target);
    const key = formatAuthority(target);
    this.profiles.set(key, profile);
    if (!sameProfile(before, profile)) this.publisher.publish(key, profile);
  }

  /** Removes the profile of `target`; its watchers get the default profile. Deleting an unknown profile changes nothing. */
  deleteProfile(target: Authority): void {
    const before = this.profileOf(target);
    if (!this.profiles.delete(formatAuthority(target))) return;
    const fallback = this.profileOf(target);
    if (!sameProfile(before, fallback)) this.publisher.publish(formatAuthority(target), fallback);
  }

  /** The profile a new watch of `target` would get first. */
  profileOf(target: Authority): ServiceProfile {
    return this.profiles.get(formatAuthority(target)) ?? defaultServiceProfile(serviceProfileName(target));
  }

  /** How many open watches `target` has. */
  watcherCount(target: Authority): number {
    return this.publisher.watcherCount(formatAuthority(target));
  }
}

/** Profiles are plain data, so equal JSON means equal profiles. */
function sameProfile(a: ServiceProfile, b: ServiceProfile): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
