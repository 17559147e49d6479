// InMemoryDiscoverProfile: service profiles from a map that tests change, sent whole to watchers on every change.
import {
  type Authority,
  defaultServiceProfile,
  type DiscoverProfile,
  formatAuthority,
  type ServiceProfile,
  serviceProfileName,
  type Subscription,
} from '@weft/core';
import { injectable } from 'inversify';

type ProfileListener = (profile: ServiceProfile) => void;

interface Watch {
  readonly listener: ProfileListener;
  open: boolean;
}

interface Delivery {
  readonly watches: readonly Watch[];
  readonly profile: ServiceProfile;
}

/**
 * Profiles are keyed by formatAuthority(target). A watch gets its first message synchronously (the configured
 * profile, or the default one), then the whole profile on every change, in order; setting a profile equal to the
 * current one sends nothing. A listener that throws does not stop delivery to the others; once all are served,
 * the call that made the change (setProfile, deleteProfile) throws the listener's error, so the test sees it.
 */
@injectable()
export class InMemoryDiscoverProfile implements DiscoverProfile {
  private readonly profiles = new Map<string, ServiceProfile>();
  private readonly watches = new Map<string, Set<Watch>>();
  private readonly queue: Delivery[] = [];
  private delivering = false;

  watch(target: Authority, listener: ProfileListener): Subscription {
    const key = formatAuthority(target);
    listener(this.profileOf(target));
    const watch: Watch = { listener, open: true };
    const watches = this.watches.get(key) ?? new Set<Watch>();
    this.watches.set(key, watches.add(watch));
    return {
      close: () => {
        watch.open = false;
        watches.delete(watch);
        if (watches.size === 0 && this.watches.get(key) === watches) this.watches.delete(key);
      },
    };
  }

  /** Makes `profile` the profile of `target`; its watchers get it. */
  setProfile(target: Authority, profile: ServiceProfile): void {
    const before = this.profileOf(target);
    const key = formatAuthority(target);
    this.profiles.set(key, profile);
    if (!sameProfile(before, profile)) this.publish(key, profile);
  }

  /** Removes the profile of `target`; its watchers get the default profile. Deleting an unknown profile changes nothing. */
  deleteProfile(target: Authority): void {
    const before = this.profileOf(target);
    if (!this.profiles.delete(formatAuthority(target))) return;
    const fallback = this.profileOf(target);
    if (!sameProfile(before, fallback)) this.publish(formatAuthority(target), fallback);
  }

  /** The profile a new watch of `target` would get first. */
  profileOf(target: Authority): ServiceProfile {
    return this.profiles.get(formatAuthority(target)) ?? defaultServiceProfile(serviceProfileName(target));
  }

  /** How many open watches `target` has. */
  watcherCount(target: Authority): number {
    return this.watches.get(formatAuthority(target))?.size ?? 0;
  }

  // Changes made by a listener while a profile is being delivered are queued behind it, so every watcher sees
  // the profiles in the order the changes happened.
  private publish(key: string, profile: ServiceProfile): void {
    this.queue.push({ watches: [...(this.watches.get(key) ?? [])], profile });
    if (this.delivering) return;
    this.delivering = true;
    const errors: unknown[] = [];
    try {
      for (let delivery = this.queue.shift(); delivery; delivery = this.queue.shift()) {
        for (const watch of delivery.watches) {
          if (!watch.open) continue;
          try {
            watch.listener(delivery.profile);
          } catch (error) {
            errors.push(error);
          }
        }
      }
    } finally {
      this.delivering = false;
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} profile listeners of ${key} threw`);
  }
}

/** Profiles are plain data, so equal JSON means equal profiles. */
function sameProfile(a: ServiceProfile, b: ServiceProfile): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
