// DiscoverProfile port: a live view of the ServiceProfile that applies to an authority.
import type { Authority } from '../discovery/authority.js';
import type { Subscription } from '../shared/subscription.js';
import type { ServiceProfile } from './service-profile.js';

export const DiscoverProfile = Symbol('DiscoverProfile');

export interface DiscoverProfile {
  /**
   * Watches the profile of `target`. The listener always gets a first message: the configured profile, or
   * `defaultServiceProfile(serviceProfileName(target))` when none is configured. After that it gets the whole new
   * profile on every change (the default one again when the profile is deleted), never a partial update.
   * Closing the subscription stops further messages.
   */
  watch(target: Authority, listener: (profile: ServiceProfile) => void): Subscription;
}
